import Foundation
import Testing
@testable import ProxyVetKit

/// Chains, groups, a PAC file and conflicts on real topologies in the loopback lab (Scripts/lab/lab):
/// branch → edge, site → regional → gateway (ssl_bump), branch-auth → auth (no credential forwarding),
/// tiny (tinyproxy) → edge, the failover pair edge/edge2 with different ACLs, and a PAC served over http.
/// Conflicts are judged on what each proxy did (passed on, refused, intercepted), not on whether the origin behind it
/// answered: the down, unresolvable and hanging origins prove it.
@Suite("Chains, PAC and conflicts in the lab", .enabled(if: Lab.available, "needs the lab: run Scripts/test"))
struct ConflictIntegrationTests {
    static let urls = [
        "https://allowed.proxyvet-lab.test/", "https://blocked.proxyvet-lab.test/", "https://regional-blocked.proxyvet-lab.test/",
        "https://pair-differs.proxyvet-lab.test/", "https://platform.linkedin.com/", "https://down.proxyvet-lab.test/",
        "https://www.failover.proxyvet-lab.test/", "https://www.unknown-proxy.proxyvet-lab.test/",
        "https://www.direct-ok.proxyvet-lab.test/", "https://www.direct-blocked.proxyvet-lab.test/",
        "https://manage.microsoft.com/", "https://graph.microsoft.com/",
        "https://nxdomain.proxyvet-lab.test/", "https://hang.proxyvet-lab.test/", "https://hang.pair-differs.proxyvet-lab.test/",
    ]

    /// The lab list: the URLs above, with the Intune policy facts on manage and graph.
    static func list() -> AllowList {
        AllowList(id: "lab", name: "lab", file: "lab",
                  policies: [PolicyRule(tag: .noInspection, patterns: ["manage.microsoft.com"]),
                             PolicyRule(tag: .noProxyAuth, patterns: ["manage.microsoft.com", "graph.microsoft.com"])],
                  services: [Service(name: "lab", endpoints: urls.map { url in
                      let host = URLComponents(string: url)?.host ?? ""
                      return Endpoint(host: host, ports: [443], scheme: "https")
                  })], contentHash: "")
    }

    /// The lab's own routes. Product plug-ins (Scripts/lab/products) add routes of their own, some chained to these
    /// (an upstream makes a proxy only a hop when no device routing is declared); they are tested elsewhere.
    static let labRoutes: Set<String> = ["edge", "edge2", "branch", "inspect", "auth", "auth-none", "auth-wrong", "dead", "tiny",
                                         "site", "regional", "gateway", "branch-auth"]

    static func run(_ adjust: (inout RouteConfig) -> Void = { _ in }) -> CheckReport? {
        guard let lab = Lab.current, var config = try? RouteConfig.load(file: lab.config) else { return nil }
        config.routes = config.routes.filter { labRoutes.contains($0.name) }
        adjust(&config)
        return try? CheckRunner(lists: [list()], config: config, settings: lab.settings(), environment: [:]).run()
    }

    /// The lab's config as written: chains, the pair and the PAC.
    static let withPAC = run()
    /// No device routing: every route that is not only a hop should work.
    static let withoutPAC = run { $0.pac = nil }
    /// The machine trusts the inspection CA, as devices that get it deployed do, and expects the origin CA for the
    /// service: what the inspecting hop does inside the re-signed session is seen.
    static let withInspectionCA = run {
        if let lab = Lab.current { $0.trustAnchors = [lab.inspectionCA] }
        $0.expectedIssuers = ["ProxyVet Lab Origin CA"]
    }
    /// Devices use the authenticating proxy by default.
    static let defaultAuth = run { $0.pac = nil; $0.defaultRoute = "auth" }

    static func conflicts(_ report: CheckReport?, _ kind: Conflict.Kind, _ url: String) -> [Conflict] {
        report?.conflicts.filter { $0.kind == kind && $0.endpoint.url == url } ?? []
    }

    static func result(_ report: CheckReport?, _ route: String, _ url: String) throws -> ProbeResult {
        try report.result(route, url)
    }

    @Test("hop_blocks names the parent that blocks what the branch passes on")
    func hopBlocks() throws {
        // edge refuses it behind branch and tiny; gateway, the last hop of site → regional → gateway, re-signs it
        // first: without the inspection CA that is what shows, and gateway's refusal inside the session shows with it.
        let found = Self.conflicts(Self.withPAC, .hopBlocks, "https://blocked.proxyvet-lab.test/")
        #expect(Set(found.map(\.hop.name)) == ["edge"])
        #expect(Self.conflicts(Self.withPAC, .hopIntercepts, "https://blocked.proxyvet-lab.test/").map(\.hop.name) == ["gateway"])
        #expect(Set(Self.conflicts(Self.withInspectionCA, .hopBlocks, "https://blocked.proxyvet-lab.test/").map(\.hop.name)) == ["edge", "gateway"])
        let edge = found.filter { $0.hop.name == "edge" }
        #expect(edge.first?.routes.contains("branch") == true)
        #expect(edge.first?.routes.contains("tiny") == true, "tinyproxy forwards to the same parent")
        #expect(edge.first?.hop.product == "squid")
        #expect(edge.first?.remediation.contains("acl proxyvet_required dstdomain blocked.proxyvet-lab.test") == true)
        let regional = Self.conflicts(Self.withPAC, .hopBlocks, "https://regional-blocked.proxyvet-lab.test/")
        #expect(regional.map(\.hop.name) == ["regional"])
        let decided = try Self.result(Self.withPAC, "site", "https://regional-blocked.proxyvet-lab.test/").decidedBy
        #expect(decided?.hop == "regional")
        #expect(decided?.position == "hop 2 of 3")
        #expect(decided?.method == "evidence", "the refusal's Via names proxyvet-lab-regional")
        #expect(try Self.result(Self.withPAC, "branch", "https://platform.linkedin.com/").decidedBy?.hop == "edge")
        // Consistent: nothing blocks the allowed name anywhere in the chains.
        #expect(Self.conflicts(Self.withPAC, .hopBlocks, "https://allowed.proxyvet-lab.test/").isEmpty)
    }

    @Test("hop_intercepts names the last hop of a three-hop chain and its inspection CA")
    func hopIntercepts() throws {
        let lab = try #require(Lab.current)
        let found = Self.conflicts(Self.withPAC, .hopIntercepts, "https://allowed.proxyvet-lab.test/")
        #expect(found.map(\.hop.name) == ["gateway"])
        #expect(found.first?.explanation.contains(lab.inspectionCAName) == true)
        #expect(found.first?.remediation.contains("ssl_bump splice proxyvet_nobump") == true)
        let decided = try Self.result(Self.withPAC, "site", "https://allowed.proxyvet-lab.test/").decidedBy
        #expect(decided?.hop == "gateway")
        #expect(decided?.position == "last hop (3 of 3)")
        #expect(decided?.method == "comparison")
        // The chain without an inspecting hop raises none.
        #expect(!(Self.withPAC?.conflicts.contains { $0.kind == .hopIntercepts && $0.routes.contains("branch") } ?? true))
    }

    @Test("hop_requires_auth names the parent whose credentials the branch does not forward")
    func hopRequiresAuth() {
        let found = Self.conflicts(Self.withPAC, .hopRequiresAuth, "https://allowed.proxyvet-lab.test/")
        #expect(found.map(\.hop.name) == ["auth-none"])
        #expect(found.first?.routes.contains("branch-auth") == true)
        #expect(found.first?.remediation.contains("login=PASSTHRU") == true)
        #expect(!(Self.withPAC?.conflicts.contains { $0.kind == .hopRequiresAuth && $0.routes.contains("branch") } ?? true))
    }

    @Test("group_disagrees when the failover pair answers differently, and not when it agrees")
    func groupDisagrees() {
        let found = Self.conflicts(Self.withPAC, .groupDisagrees, "https://pair-differs.proxyvet-lab.test/")
        #expect(found.map(\.hop.name) == ["edge2"])
        #expect(found.first?.routes == ["edge", "edge2"])
        #expect(Self.conflicts(Self.withPAC, .groupDisagrees, "https://allowed.proxyvet-lab.test/").isEmpty)
        #expect(Self.conflicts(Self.withPAC, .groupDisagrees, "https://blocked.proxyvet-lab.test/").isEmpty)
    }

    @Test("hop_intercepts where the origin behind the inspecting hop is down or its name unknown")
    func hopInterceptsBeforeFailingOrigin() throws {
        let lab = try #require(Lab.current)
        for url in ["https://down.proxyvet-lab.test/", "https://nxdomain.proxyvet-lab.test/"] {
            // Without the inspection CA the interception is all a device sees.
            let untrusted = try Self.result(Self.withPAC, "site", url)
            #expect(untrusted.verdict == .tlsIntercepted && untrusted.decidedBy?.hop == "gateway", "\(url): \(untrusted.reason)")
            #expect(Self.conflicts(Self.withPAC, .hopIntercepts, url).map(\.hop.name) == ["gateway"])
            // With it, the failure behind the inspecting hop shows as the origin's.
            let site = try Self.result(Self.withInspectionCA, "site", url)
            #expect(site.evidence.intercepted, "\(url): gateway re-signs before it finds the origin failing")
            #expect([.upstreamUnreachable, .dnsFailure].contains(site.verdict), "\(url): \(site.verdict)")
            #expect(site.decidedBy?.hop == "origin", "\(url): the failure itself is the origin's")
            #expect(site.proxyAction == .intercepted)
            let found = Self.conflicts(Self.withInspectionCA, .hopIntercepts, url)
            #expect(found.map(\.hop.name) == ["gateway"], "\(url)")
            #expect(found.first?.routes.contains("site") == true)
            #expect(found.first?.explanation.contains(lab.inspectionCAName) == true)
            #expect(found.first?.evidence.contains("Via proxyvet-lab-gateway") == true, "the bumped answer's Via names gateway")
            // The chains through edge pass the failing origin on: no conflict of their own.
            #expect(!(Self.withPAC?.conflicts.contains { $0.endpoint.url == url && $0.routes.contains("branch") && $0.kind != .routesDisagree } ?? true))
            #expect(try Self.result(Self.withPAC, "branch", url).proxyAction == .passedOn)
            #expect(Self.conflicts(Self.withPAC, .hopBlocks, url).isEmpty)
        }
        // A hanging origin behind gateway never gets as far as a certificate: nothing is seen intercepted.
        #expect(try Self.result(Self.withPAC, "site", "https://hang.proxyvet-lab.test/").proxyAction == .passedOn)
        #expect(Self.conflicts(Self.withPAC, .hopIntercepts, "https://hang.proxyvet-lab.test/").isEmpty)
    }

    @Test("group_disagrees when one of the pair tunnels to a hanging origin and the other refuses; not when both pass it on")
    func groupDisagreesOnPolicy() throws {
        let url = "https://hang.pair-differs.proxyvet-lab.test/"
        let edge = try Self.result(Self.withPAC, "edge", url)
        #expect(edge.verdict == .timeout)
        #expect(edge.proxyAction == .passedOn)
        #expect(try Self.result(Self.withPAC, "edge2", url).proxyAction == .refused)
        let found = Self.conflicts(Self.withPAC, .groupDisagrees, url)
        #expect(found.map(\.hop.name) == ["edge2"])
        #expect(found.first?.routes == ["edge", "edge2"])
        #expect(found.first?.remediation.contains("acl proxyvet_required dstdomain hang.pair-differs.proxyvet-lab.test") == true)
        // Both members pass these on; only the origin fails (hangs, is down, does not resolve).
        for agreed in ["https://hang.proxyvet-lab.test/", "https://down.proxyvet-lab.test/", "https://nxdomain.proxyvet-lab.test/"] {
            #expect(Self.conflicts(Self.withPAC, .groupDisagrees, agreed).isEmpty, "\(agreed)")
            #expect(try Self.result(Self.withPAC, "edge2", agreed).proxyAction == .passedOn, "\(agreed)")
        }
    }

    @Test("routes_disagree between an independent route that passes a hanging origin on and the refusing proxy")
    func routesDisagreeOnPolicy() {
        let url = "https://hang.pair-differs.proxyvet-lab.test/"
        let found = Self.conflicts(Self.withoutPAC, .routesDisagree, url).filter { $0.hop.name == "edge2" }
        #expect(found.count == 1)
        #expect(found.first.map { $0.routes.contains("edge2") && !$0.routes.contains("edge") } == true, "never paired with its group partner")
        #expect(found.first?.evidence.contains("passed on (timeout") == true)
        // Where edge and edge2 both pass it on, neither disagrees with anyone.
        #expect(!(Self.withoutPAC?.conflicts.contains {
            $0.kind == .routesDisagree && $0.endpoint.url == "https://hang.proxyvet-lab.test/" && ["edge", "edge2"].contains($0.hop.name)
        } ?? true))
        // With the PAC, the endpoint's alternatives are the pair itself: group_disagrees covers it.
        #expect(Self.conflicts(Self.withPAC, .routesDisagree, url).isEmpty)
    }

    @Test("pac_routes_to_failure when the PAC sends the endpoint to the refusing proxy and the other tunnels to a hanging origin")
    func pacToRefusal() throws {
        let url = "https://hang.pair-differs.proxyvet-lab.test/"
        let report = try #require(Self.withPAC)
        let endpoint = try #require(report.devices?.endpoints.first { $0.url == url })
        #expect(endpoint.alternatives == ["edge2", "edge"])
        #expect(endpoint.usedRoute == "edge2")
        let found = Self.conflicts(report, .pacRoutesToFailure, url)
        #expect(found.map(\.hop.name) == ["pac"])
        #expect(found.first?.routes == ["edge2", "edge"])
        #expect(found.first?.evidence.contains("edge: passed on (timeout") == true)
        #expect(found.first?.remediation.contains("if (host == \"hang.pair-differs.proxyvet-lab.test\") return \"PROXY") == true)
        // Sent to edge, which passes them on: the origin hanging or the pair differing elsewhere is not the PAC's doing.
        for fine in ["https://hang.proxyvet-lab.test/", "https://pair-differs.proxyvet-lab.test/", "https://down.proxyvet-lab.test/"] {
            #expect(report.devices?.endpoints.first { $0.url == fine }?.usedRoute == "edge", "\(fine)")
            #expect(Self.conflicts(report, .pacRoutesToFailure, fine).isEmpty, "\(fine)")
        }
    }

    @Test("routes_disagree in both directions between independent routes")
    func routesDisagree() {
        // inspect intercepts what edge allows…
        let intercepted = Self.conflicts(Self.withoutPAC, .routesDisagree, "https://allowed.proxyvet-lab.test/")
        #expect(intercepted.contains { $0.hop.name == "inspect" })
        // …and edge blocks what the authenticating proxy allows.
        let blocked = Self.conflicts(Self.withoutPAC, .routesDisagree, "https://platform.linkedin.com/")
        #expect(blocked.contains { $0.hop.name == "edge" })
        // Routes on the same proxy (auth with and without credentials) and members of one group are not compared.
        #expect(!(Self.withoutPAC?.conflicts.contains { $0.kind == .routesDisagree && Set($0.routes) == ["auth", "auth-none"] } ?? true))
        #expect(!(Self.withoutPAC?.conflicts.contains { $0.kind == .routesDisagree && Set($0.routes) == ["edge", "edge2"] } ?? true))
    }

    @Test("the PAC answer is shown per endpoint, each alternative probed, failover followed")
    func pacRouting() throws {
        let report = try #require(Self.withPAC)
        let lab = try #require(Lab.current)
        let edge = try Self.result(report, "edge", "https://allowed.proxyvet-lab.test/")
        #expect(edge.pac?.answer == "PROXY \(lab.net).1:3128; PROXY \(lab.net).1:3137")
        #expect(edge.pac?.position == 1)
        #expect(try Self.result(report, "edge2", "https://allowed.proxyvet-lab.test/").pac?.position == 2)
        let failover = try #require(report.devices?.endpoints.first { $0.url == "https://www.failover.proxyvet-lab.test/" })
        #expect(failover.alternatives == ["dead", "edge"])
        #expect(failover.usedRoute == "edge")
        let unknownName = "\(lab.net).1:3199"
        let unknown = try Self.result(report, unknownName, "https://www.unknown-proxy.proxyvet-lab.test/")
        #expect(unknown.verdict == .proxyUnreachable)
        #expect(report.routes.first { $0.name == unknownName }?.origin == .pac)
        #expect(try Self.result(report, "direct", "https://www.direct-ok.proxyvet-lab.test/").verdict == .allowed)
        #expect(report.readinessRule.contains("route a device uses"))
        #expect(!report.ready)
    }

    @Test("pac_routes_to_failure and inspection_forbidden when the PAC sends a noInspection endpoint to an inspecting proxy")
    func pacToInspection() {
        let url = "https://manage.microsoft.com/"
        let pac = Self.conflicts(Self.withPAC, .pacRoutesToFailure, url)
        #expect(pac.map(\.hop.name) == ["pac"])
        #expect(pac.first?.routes.first == "inspect")
        #expect(pac.first?.remediation.contains("if (host == \"manage.microsoft.com\") return \"PROXY") == true)
        let forbidden = Self.conflicts(Self.withPAC, .inspectionForbidden, url)
        #expect(forbidden.map(\.hop.name) == ["inspect"])
        #expect(forbidden.first?.severity == .error)
        // Endpoints the PAC sends to the pair are not flagged.
        #expect(Self.conflicts(Self.withPAC, .pacRoutesToFailure, "https://allowed.proxyvet-lab.test/").isEmpty)
    }

    @Test("pac_direct_blocked when DIRECT fails, and not when it works")
    func pacDirect() {
        let found = Self.conflicts(Self.withPAC, .pacDirectBlocked, "https://www.direct-blocked.proxyvet-lab.test/")
        #expect(found.count == 1)
        #expect(found.first?.hop.name == "pac")
        #expect(Self.conflicts(Self.withPAC, .pacDirectBlocked, "https://www.direct-ok.proxyvet-lab.test/").isEmpty)
    }

    @Test("auth_forbidden when the default route challenges a noProxyAuth endpoint")
    func authForbidden() throws {
        let found = Self.conflicts(Self.defaultAuth, .authForbidden, "https://graph.microsoft.com/")
        #expect(found.map(\.hop.name) == ["auth"])
        #expect(try Self.result(Self.defaultAuth, "auth", "https://graph.microsoft.com/").verdict == .allowed)
        // The endpoint without the tag is not flagged on the same route.
        #expect(Self.conflicts(Self.defaultAuth, .authForbidden, "https://allowed.proxyvet-lab.test/").isEmpty)
        #expect(Self.defaultAuth?.devices?.source == "default")
    }

    @Test("failures beyond the proxies are attributed to the origin")
    func originAttribution() throws {
        let branch = try Self.result(Self.withPAC, "branch", "https://down.proxyvet-lab.test/")
        #expect(branch.verdict == .upstreamUnreachable)
        #expect(branch.decidedBy?.hop == "origin")
        let edge = try Self.result(Self.withPAC, "edge", "https://down.proxyvet-lab.test/")
        #expect(edge.decidedBy?.hop == "origin")
    }

    @Test("a trusted inspection CA is still recognised by its unexpected issuer")
    func expectedIssuers() throws {
        let lab = try #require(Lab.current)
        // The machine trusts the inspection CA (an extra trust anchor on top of the lab's origin CA)…
        var config = RouteConfig(routes: try lab.routes().filter { ["edge", "inspect"].contains($0.name) })
        config.trustAnchors = [lab.inspectionCA]
        // …but the service's certificates are expected from the origin CA only.
        config.expectedIssuers = ["ProxyVet Lab Origin CA"]
        let settings = lab.settings()
        let report = try CheckRunner(lists: [Self.list()], config: config, settings: settings, environment: [:]).run()
        let inspected = try Self.result(report, "inspect", "https://allowed.proxyvet-lab.test/")
        #expect(inspected.evidence.verifyResult == 0)
        #expect(inspected.verdict == .tlsIntercepted)
        #expect(inspected.reason.contains("which this machine trusts"))
        #expect(try Self.result(report, "edge", "https://allowed.proxyvet-lab.test/").verdict == .allowed)
        // The report names the user's CA bundle, not the temporary copy that added the anchor.
        #expect(report.settings.caBundle == settings.caBundle)
    }
}
