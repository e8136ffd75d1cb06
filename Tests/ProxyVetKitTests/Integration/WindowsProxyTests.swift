import Foundation
import Testing
@testable import ProxyVetKit

/// The Windows proxy setting as MMD and Intune deploy it, in the loopback lab (Scripts/lab/lab): the proxy is edge's
/// address, and the exceptions send `*.direct-ok.proxyvet-lab.test` and `www.direct-blocked.proxyvet-lab.test` DIRECT.
/// The lab config's `resolve:` pins both names: direct-ok to the origin, direct-blocked to an address where nothing
/// listens, so the DIRECT probes reach (or fail to reach) them as a device would.
@Suite("Windows proxy setting in the lab", .enabled(if: Lab.available, "needs the lab: run Scripts/test"))
struct WindowsProxyTests {
    static let directOK = "https://www.direct-ok.proxyvet-lab.test/"
    static let directBlocked = "https://www.direct-blocked.proxyvet-lab.test/"
    static let allowed = "https://allowed.proxyvet-lab.test/"
    static let blocked = "https://blocked.proxyvet-lab.test/"
    static let exceptions = "*.direct-ok.proxyvet-lab.test; www.direct-blocked.proxyvet-lab.test"

    static func list() -> AllowList {
        AllowList(id: "lab", name: "lab", file: "lab", services: [Service(name: "lab", endpoints: [directOK, directBlocked, allowed, blocked].map { url in
            Endpoint(host: URLComponents(string: url)?.host ?? "", ports: [443], scheme: "https")
        })], contentHash: "")
    }

    /// edge's `host:port` in the lab.
    static var edgeAddress: String? {
        Lab.current.flatMap { URLComponents(string: $0.proxies["edge"] ?? "") }.flatMap { components in
            components.host.flatMap { host in components.port.map { "\(host):\($0)" } }
        }
    }

    /// The lab config with only edge declared and the Windows setting instead of the PAC.
    static let report: CheckReport? = {
        guard let lab = Lab.current, var config = try? RouteConfig.load(file: lab.config), let edge = edgeAddress else { return nil }
        config.routes = config.routes.filter { $0.name == "edge" }
        config.groups = [:]
        do {
            try config.apply(windowsProxy: edge, windowsExceptions: exceptions)
        } catch {
            return nil
        }
        return try? CheckRunner(lists: [list()], config: config, settings: lab.settings(), environment: [:]).run()
    }()

    static func choice(_ url: String) throws -> DeviceRoutingInfo.EndpointRoute {
        try #require(report?.devices?.endpoints.first { $0.url == url }, "no device route for \(url)")
    }

    @Test("excepted endpoints go DIRECT, the rest to edge, matched by host and port")
    func routing() throws {
        let report = try #require(Self.report)
        let edge = try #require(Self.edgeAddress)
        #expect(report.devices?.source == "windows")
        for url in [Self.directOK, Self.directBlocked] {
            #expect(try Self.choice(url).alternatives == ["direct"], "\(url)")
            #expect(try Self.choice(url).usedRoute == "direct", "\(url)")
        }
        #expect(try Self.choice(Self.directOK).answer == "exception *.direct-ok.proxyvet-lab.test: DIRECT")
        #expect(try Self.choice(Self.directBlocked).answer == "exception www.direct-blocked.proxyvet-lab.test: DIRECT")
        for url in [Self.allowed, Self.blocked] {
            #expect(try Self.choice(url).alternatives == ["edge"], "\(url)")
            #expect(try Self.choice(url).answer == "proxy \(edge)", "\(url)")
        }
        // DIRECT is a route of the Windows setting, probed only for the excepted endpoints; no route named after edge's address.
        #expect(report.routes.map(\.name) == ["edge", "direct"])
        #expect(report.routes.first { $0.name == "direct" }?.origin == .windows)
        #expect(Set(report.results.filter { $0.route == "direct" }.map(\.url)) == [Self.directOK, Self.directBlocked])
        #expect(report.results.first { $0.route == "direct" && $0.url == Self.directOK }?.verdict == .allowed)
        #expect(report.results.first { $0.route == "edge" && $0.url == Self.allowed }?.verdict == .allowed)
        #expect(!report.ready, "direct-blocked is required and fails")
    }

    @Test("exception_direct_blocked where direct egress fails, and not where it works")
    func exceptionDirectBlocked() throws {
        let report = try #require(Self.report)
        let found = report.conflicts.filter { $0.kind == .exceptionDirectBlocked }
        #expect(found.map(\.endpoint.url) == [Self.directBlocked])
        let conflict = try #require(found.first)
        #expect(conflict.severity == .error)
        #expect(conflict.routes == ["direct"])
        #expect(conflict.hop.name == "windows")
        #expect(conflict.hop.product == "windows")
        #expect(conflict.hop.proxy == Self.edgeAddress)
        #expect(conflict.evidence.contains("exception \"www.direct-blocked.proxyvet-lab.test\" → DIRECT; direct: "))
        #expect(conflict.explanation == "The Windows proxy exception \"www.direct-blocked.proxyvet-lab.test\" sends www.direct-blocked.proxyvet-lab.test DIRECT, but direct egress from here fails: devices cannot reach it.")
        // edge passes the name on (its origin is down too: that is the origin's health, not edge's policy).
        #expect(conflict.remediation.hasPrefix("Remove the exception \"www.direct-blocked.proxyvet-lab.test\" from the Windows proxy setting"))
        #expect(conflict.remediation.contains("or open direct egress to www.direct-blocked.proxyvet-lab.test port 443 in the firewall."))
        // No PAC here: no PAC conflicts.
        #expect(!report.conflicts.contains { $0.kind == .pacDirectBlocked || $0.kind == .pacRoutesToFailure })
    }

    @Test("the command line: --windows-proxy and --windows-exceptions with the lab's pins, report and exit code")
    func commandLine() throws {
        let lab = try #require(Lab.current)
        let edge = try #require(Self.edgeAddress)
        let folder = try TestFiles.temporaryFolder()
        let config = folder.appendingPathComponent("windows.yaml")
        let pins = try RouteConfig.load(file: lab.config).resolve.map { "\"\($0)\"" }.joined(separator: ", ")
        try Data("version: 1\nproxies:\n  edge: { url: \"http://\(edge)\" }\nresolve: [\(pins)]\n".utf8).write(to: config)
        let urls = folder.appendingPathComponent("urls.txt")
        try Data([Self.directOK, Self.directBlocked, Self.allowed].joined(separator: "\n").utf8).write(to: urls)
        let output = folder.appendingPathComponent("out")
        let run = try CommandRun.proxyvet(["check", urls.path, "--config", config.path, "--windows-proxy", edge,
                                           "--windows-exceptions", Self.exceptions, "--ca-bundle", lab.originCA,
                                           "--timeout", "4", "--format", "json", "--output", output.path, "--quiet"], timeout: 120)
        #expect(run.status == 1, "\(run.stderr)")
        let data = try Data(contentsOf: output.appendingPathComponent("proxyvet-report.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let devices = try #require(json["devices"] as? [String: Any])
        #expect(devices["source"] as? String == "windows")
        let kinds = (json["conflicts"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(kinds.filter { $0 == "exception_direct_blocked" }.count == 1, "\(kinds)")
    }
}
