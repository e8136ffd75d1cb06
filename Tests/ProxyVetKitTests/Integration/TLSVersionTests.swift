import Foundation
import Testing
@testable import ProxyVetKit

/// The TLS version check against real proxies in the loopback lab: `inspect-tls13` is an ssl-bump Squid like `inspect`
/// whose bump port has `tls-min-version=1.3` (Scripts/lab/products/tls13.sh); `edge` tunnels to the lab origin, which
/// accepts TLS 1.2 and 1.3. A list with `minTLS: "1.2"` must give `tls12_refused` on exactly inspect-tls13's route,
/// and every result records the version it negotiated.
@Suite("TLS versions in the lab", .enabled(if: Lab.available, "needs the lab: run Scripts/test"))
struct TLSVersionTests {
    static let allowed = "https://allowed.proxyvet-lab.test/"
    static let spliced = "https://www.splice.proxyvet-lab.test/"
    static let blocked = "https://blocked.proxyvet-lab.test/"
    static let routes: Set<String> = ["edge", "inspect", "inspect-tls13"]

    static func list(minTLS: TLSVersion?) -> AllowList {
        var list = AllowList(id: "lab-tls", name: "Lab TLS list", file: "lab-tls", services: [Service(name: "lab", endpoints: [
            Endpoint(host: "allowed.proxyvet-lab.test"), Endpoint(host: "www.splice.proxyvet-lab.test"), Endpoint(host: "blocked.proxyvet-lab.test"),
        ])], contentHash: "")
        list.minTLS = minTLS
        return list
    }

    /// edge, inspect and inspect-tls13, no PAC: every route decides readiness. `progress` gets every update.
    static func run(minTLS: TLSVersion?, progress: ((CheckRunner.Progress) -> Void)? = nil) -> CheckReport? {
        guard let lab = Lab.current, var config = try? RouteConfig.load(file: lab.config) else { return nil }
        config.routes = config.routes.filter { routes.contains($0.name) }
        config.pac = nil
        config.groups = [:]
        return try? CheckRunner(lists: [list(minTLS: minTLS)], config: config, settings: lab.settings(), environment: [:]).run(progress: progress)
    }

    static let report: CheckReport? = {
        var updates: [CheckRunner.Progress] = []
        let report = run(minTLS: .v1_2) { updates.append($0) }
        progress = updates
        return report
    }()

    /// Every progress update of that run, in order.
    nonisolated(unsafe) static var progress: [CheckRunner.Progress] = []

    static func result(_ route: String, _ url: String) throws -> ProbeResult {
        try report.result(route, url)
    }

    @Test("the lab config has the TLS 1.3-only inspecting Squid")
    func route() throws {
        let lab = try #require(Lab.current)
        #expect(lab.proxies["inspect-tls13"] == "http://\(lab.net).1:3146")
        #expect(try lab.routes().contains { $0.name == "inspect-tls13" })
    }

    @Test("tls12_refused names inspect-tls13, on its route only, never inspect or edge")
    func finding() throws {
        let report = try #require(Self.report)
        let found = report.conflicts.filter { $0.kind == .tls12Refused }
        #expect(Set(found.map(\.hop.name)) == ["inspect-tls13"])
        #expect(found.allSatisfy { $0.routes == ["inspect-tls13"] && $0.severity == .error })
        // Bumped names (allowed, and blocked: refused inside the bumped session); the spliced one reaches the origin.
        #expect(Set(found.map(\.endpoint.url)) == [Self.allowed, Self.blocked])
        let conflict = try #require(found.first { $0.endpoint.url == Self.allowed })
        #expect(conflict.hop.product == "squid")
        #expect(conflict.explanation.hasPrefix("inspect-tls13, the inspecting proxy that terminates TLS for allowed.proxyvet-lab.test, accepts only TLS 1.3: a client offering only TLS 1.2 is refused (TLS alert \"protocol version\"). Lab TLS list requires TLS 1.2 (minTLS)."))
        #expect(conflict.explanation.hasSuffix("Lab TLS list requires TLS 1.2 (minTLS)."))
        let port = try #require(Lab.current.flatMap { URLComponents(string: $0.proxies["inspect-tls13"] ?? "")?.port })
        #expect(conflict.remediation.contains("http_port \(port) ssl-bump ... tls-min-version=1.2"))
        #expect(report.summary.conflicts["tls12_refused"] == 2)
        #expect(!report.ready)
        #expect(report.lists.map(\.minTLS) == [.v1_2])
    }

    @Test("the progress line goes on through the TLS 1.2 probes, after the main ones")
    func progressCounts() throws {
        let report = try #require(Self.report)
        let main = report.results.count, extra = report.results.filter { $0.tls12 != nil }.count
        #expect(extra > 0)
        #expect(Self.progress.map(\.done) == Array(1...(main + extra)))
        #expect(Self.progress.prefix(main).allSatisfy { $0.total == main })
        #expect(Self.progress.dropFirst(main).allSatisfy { $0.total == main + extra })
    }

    @Test("the negotiated version is recorded: TLS 1.3 to the origin through edge, and edge's TLS 1.2 probe succeeds")
    func versions() throws {
        let edge = try Self.result("edge", Self.allowed)
        #expect(edge.verdict == .allowed)
        #expect(edge.evidence.tlsVersion == "TLSv1.3")
        #expect(edge.evidence.tlsCipher?.hasPrefix("TLS_") == true)
        #expect(edge.tls12?.outcome == .accepted && edge.tls12?.version == "TLSv1.2")
        #expect(edge.tls12?.cipher?.isEmpty == false)
        // The inspecting proxies terminate TLS: the version is the one negotiated with them (second look, unverified).
        let tls13 = try Self.result("inspect-tls13", Self.allowed)
        #expect(tls13.verdict == .tlsIntercepted, "the TLS 1.2 probe never changes the verdict")
        #expect(tls13.evidence.tlsVersion == "TLSv1.3")
        #expect(tls13.tls12?.outcome == .refused)
        #expect(tls13.tls12?.alert == "protocol version")
        #expect(tls13.tls12?.detail.contains("tlsv1 alert protocol version") == true)
        let inspect = try Self.result("inspect", Self.allowed)
        #expect(inspect.evidence.tlsVersion == "TLSv1.3" && inspect.tls12?.outcome == .accepted)
        // Spliced on inspect-tls13: the origin answers the TLS 1.2 client.
        let spliced = try Self.result("inspect-tls13", Self.spliced)
        #expect(spliced.verdict == .allowed && spliced.tls12?.outcome == .accepted && spliced.tls12?.version == "TLSv1.2")
    }

    @Test("routes that intercept get a TLS 1.2 probe for every handshaking target; a list without minTLS gets none")
    func coverage() throws {
        let report = try #require(Self.report)
        for route in ["inspect", "inspect-tls13"] {
            #expect(report.results.filter { $0.route == route }.allSatisfy { $0.tls12 != nil }, "\(route)")
        }
        // edge refuses blocked.proxyvet-lab.test at CONNECT: no handshake, so no TLS 1.2 probe.
        #expect(try Self.result("edge", Self.blocked).tls12 == nil)
        let plain = try #require(Self.run(minTLS: nil))
        #expect(plain.results.allSatisfy { $0.tls12 == nil })
        #expect(plain.results.first { $0.route == "edge" && $0.url == Self.allowed }?.evidence.tlsVersion == "TLSv1.3")
        #expect(!plain.conflicts.contains { $0.kind == .tls12Refused })
    }
}
