import Foundation
import Testing
@testable import ProxyVetKit

/// Microsoft 365 Optimize endpoints in the lab: the lab PAC sends `*.manage.microsoft.com` to `inspect` (an ssl-bump
/// Squid), `*.office365.com` to the edge pair and `*.direct-ok.proxyvet-lab.test` DIRECT. Each Optimize endpoint a
/// device sends through a proxy is an `optimize_not_direct` warning that says whether the proxy intercepts it; readiness
/// is not changed by it.
@Suite("Optimize traffic in the lab", .enabled(if: Lab.available, "needs the lab: run Scripts/test"))
struct OptimizeTests {
    static let inspected = "https://optimize.manage.microsoft.com/"
    static let proxied = "https://outlook.office365.com/"
    static let direct = "https://www.direct-ok.proxyvet-lab.test/"

    /// One Optimize endpoint set (as Exchange Online's set 1 is). The inspected name is optional, so that its
    /// interception (with the lab CA untrusted, `tls_intercepted`) does not decide readiness: the warnings must not either.
    static func list() -> AllowList {
        var service = Service(name: "Exchange Online, endpoint set 1", endpoints: [
            Endpoint(host: "optimize.manage.microsoft.com", ports: [443], required: false),
            Endpoint(host: "outlook.office365.com", ports: [443]),
            Endpoint(host: "www.direct-ok.proxyvet-lab.test", ports: [443]),
        ])
        service.endpointSet = EndpointSet(id: 1, serviceArea: "Exchange", category: "Optimize", expressRoute: true, required: true)
        return AllowList(id: "optimize", name: "optimize", file: "optimize.yaml", services: [service], contentHash: "")
    }

    static func run(_ adjust: (inout RouteConfig, Lab) -> Void) -> CheckReport? {
        guard let lab = Lab.current, var config = try? RouteConfig.load(file: lab.config) else { return nil }
        // The routes the PAC names: inspect, and the edge pair.
        config.routes = config.routes.filter { ["edge", "edge2", "inspect"].contains($0.name) }
        adjust(&config, lab)
        return try? CheckRunner(lists: [list()], config: config, settings: lab.settings(), environment: [:]).run()
    }

    /// The lab's config with its PAC.
    static let withPAC = run { _, _ in }
    /// Devices go direct (names pinned to the lab origin); inspect is still probed, but no device uses it.
    static let directDefault = run { config, lab in
        config.pac = nil
        config.defaultRoute = "direct"
        config.includeDirect = true
        config.resolve += ["optimize.manage.microsoft.com:443:\(lab.net).1", "outlook.office365.com:443:\(lab.net).1"]
    }

    static func warnings(_ report: CheckReport?, _ url: String) -> [Conflict] {
        report?.conflicts.filter { $0.kind == .optimizeNotDirect && $0.endpoint.url == url } ?? []
    }

    @Test("an Optimize endpoint the PAC sends to the inspecting Squid: a warning naming inspect and the interception")
    func inspectedByPAC() throws {
        let lab = try #require(Lab.current)
        let report = try #require(Self.withPAC)
        #expect(report.devices?.endpoints.first { $0.url == Self.inspected }?.usedRoute == "inspect")
        let found = Self.warnings(report, Self.inspected)
        #expect(found.count == 1)
        let warning = try #require(found.first)
        #expect(warning.severity == .warning)
        #expect(warning.hop.name == "inspect" && warning.routes == ["inspect"])
        #expect(warning.hop.product == "squid")
        #expect(warning.evidence.contains("proxy, intercepted (certificate issued by \(lab.inspectionCAName)), not authenticated"), "\(warning.evidence)")
        #expect(warning.explanation.contains("devices send it through the proxy inspect (http://\(lab.net).1:3130; PROXY \(lab.net).1:3130), which intercepts its TLS"),
                "\(warning.explanation)")
        #expect(warning.remediation.contains("  if (host == \"optimize.manage.microsoft.com\") return \"DIRECT\";"), "\(warning.remediation)")
        #expect(warning.remediation.contains("ssl_bump splice proxyvet_nobump"))
        let result = try #require(report.results.first { $0.route == "inspect" && $0.url == Self.inspected })
        #expect(result.evidence.intercepted)
    }

    @Test("an Optimize endpoint sent to the edge pair is a warning too, required or not, and not intercepted")
    func proxiedByPAC() throws {
        let warning = try #require(Self.warnings(Self.withPAC, Self.proxied).first)
        #expect(warning.severity == .warning, "a required endpoint, still only a warning")
        #expect(warning.hop.name == "edge")
        #expect(warning.evidence.contains("proxy, not intercepted, not authenticated; verdict allowed"), "\(warning.evidence)")
        #expect(!warning.remediation.contains("ssl_bump"))
    }

    @Test("readiness is not changed by the warnings; the summary counts them")
    func readiness() throws {
        let report = try #require(Self.withPAC)
        #expect(Self.warnings(report, Self.direct).isEmpty, "the PAC sends it DIRECT and direct works")
        #expect(try #require(report.results.first { $0.url == Self.direct && $0.pac?.position == 1 }).verdict == .allowed)
        #expect(report.summary.conflictErrors == 0, "\(report.conflicts.filter { $0.severity == .error }.map(\.explanation))")
        #expect(report.summary.conflictWarnings == report.conflicts.count)
        #expect(report.summary.conflicts["optimize_not_direct"] == 2)
        #expect(report.ready, "warnings never decide readiness")
        #expect(ConsoleSummary.render(report).contains("Conflicts: 0 errors, \(report.conflicts.count) warnings"))
    }

    @Test("the same endpoints sent DIRECT by the devices' default route raise no warning, though inspect would intercept them")
    func directGivesNone() throws {
        let report = try #require(Self.directDefault)
        #expect(report.devices?.endpoints.first { $0.url == Self.inspected }?.usedRoute == "direct")
        #expect(try #require(report.results.first { $0.route == "direct" && $0.url == Self.inspected }).verdict == .allowed)
        #expect(try #require(report.results.first { $0.route == "inspect" && $0.url == Self.inspected }).evidence.intercepted)
        #expect(!report.conflicts.contains { $0.kind == .optimizeNotDirect })
    }
}
