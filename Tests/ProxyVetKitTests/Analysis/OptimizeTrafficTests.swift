import Foundation
import Testing
@testable import ProxyVetKit

/// Microsoft 365 Optimize endpoints should leave the network directly: the category reaches the targets, and each one
/// a device sends through a proxy (or whose TLS is inspected) is an `optimize_not_direct` warning that never changes
/// readiness. Synthetic results; the lab proves the same on a real ssl-bump Squid (OptimizeTests).
@Suite("Microsoft 365 Optimize traffic")
struct OptimizeTrafficTests {
    static let url = "https://outlook.office365.com/"

    /// A list with one service per category given, each requiring `outlook.office365.com`.
    static func list(_ categories: [String?]) -> AllowList {
        AllowList(id: "m365", name: "Microsoft 365", file: "m365.yaml",
                  services: categories.enumerated().map { number, category in
                      var service = Service(name: "set \(number + 1)", endpoints: [Endpoint(host: "outlook.office365.com", ports: [443])])
                      service.endpointSet = EndpointSet(id: number + 1, serviceArea: "Exchange", category: category)
                      return service
                  }, contentHash: "")
    }

    static func target(optimize: Bool = true, required: Bool = true) -> ProbeTarget {
        var target = ProbeTarget(url: url, scheme: "https", host: "outlook.office365.com", port: 443,
                                 requiredBy: [Requirement(list: "m365", service: "set 1", entry: "outlook.office365.com")],
                                 required: required, policy: [], policyProbe: false)
        target.categories = optimize ? ["Optimize"] : ["Default"]
        return target
    }

    static let edge = ProxyActionTests.route("edge", "192.0.2.1")
    static let inspect = ProxyActionTests.route("inspect", "192.0.2.3")
    static let auth: Route = {
        var route = ProxyActionTests.route("auth", "192.0.2.6")
        route.credentials = ProxyCredentials(username: "probe", password: "secret", origin: "file auth.cred")
        return route
    }()

    /// What a route did with the target, Squid's Via on every answer.
    enum Outcome { case passed, intercepted, challenged, blocked }

    static func result(_ route: Route, _ outcome: Outcome, target: ProbeTarget = target()) -> ProbeResult {
        let via = route.aliases.first
        let head = { (status: Int) in
            ResponseHead(status: status, statusLine: "HTTP/1.1 \(status) X",
                         headers: via.map { [ResponseHead.Header(name: "via", value: "1.1 \($0) (squid/5.7)")] } ?? [])
        }
        let connect = route.kind == .direct ? 0 : (outcome == .blocked ? 403 : 200)
        let evidence = ProbeEvidence(connectStatus: connect, connectResponses: connect == 0 ? [] : [head(connect)],
                                     responses: outcome == .blocked ? [] : [head(200)])
        var result = CheckRunner.result(route: route, target: target, evidence: evidence)
        result.reason = "synthetic"
        switch outcome {
        case .passed:
            result.verdict = .allowed
        case .intercepted:
            result.verdict = .tlsIntercepted
            result.phase = .targetTLS
            result.evidence.intercepted = true
            result.evidence.certificate = CertificateEvidence(subject: "CN=outlook.office365.com", issuer: "CN=Corp Inspection CA, O=Corp",
                                                              notBefore: nil, notAfter: nil, subjectAltNames: [], chainIssuers: [])
        case .challenged:
            result.verdict = .allowed
            result.evidence.authChallenged = true
            result.evidence.authSchemes = ["Basic"]
        case .blocked:
            result.verdict = .blocked
            result.phase = .refused
        }
        return result
    }

    static func routing(_ routes: [String], answer: String) -> DeviceRouting {
        DeviceRouting(source: .pac, pacSource: "http://pac.corp/proxy.pac", choices: [url: .init(answer: answer, routes: routes)], extraRoutes: [])
    }

    static func analyze(_ results: [ProbeResult], routes: [Route], routing: DeviceRouting? = nil, target: ProbeTarget = target()) -> [Conflict] {
        let topology = Topology(routes: routes, deviceRoutes: routing?.deviceRoutes ?? [])
        return ConflictAnalyzer(topology: topology, routing: routing, results: Attributor.attributed(results, topology: topology))
            .analyze(targets: [target]).filter { $0.kind == .optimizeNotDirect }
    }

    // MARK: Targets

    @Test("the endpoint set's category reaches the target, merged over every entry that requires it")
    func categoriesReachTargets() throws {
        let optimize = try #require(TargetPlanner().plan([Self.list(["Optimize"])]).targets.first)
        #expect(optimize.categories == ["Optimize"] && optimize.isOptimize)
        let both = try #require(TargetPlanner().plan([Self.list(["Default", "Optimize"])]).targets.first)
        #expect(both.categories == ["Default", "Optimize"] && both.isOptimize)
        let allow = try #require(TargetPlanner().plan([Self.list(["Allow", nil])]).targets.first)
        #expect(allow.categories == ["Allow"] && !allow.isOptimize)
    }

    @Test("the bundled Microsoft 365 list marks Exchange Online's Optimize hosts, and only the three Optimize sets' targets")
    func bundledList() throws {
        let list = try BundledListTests.load("microsoft-365.yaml")
        let targets = TargetPlanner(tenant: "contoso").plan([list]).targets
        #expect(targets.first { $0.url == "https://outlook.office365.com/" }?.isOptimize == true)
        #expect(targets.first { $0.url == "https://outlook.office.com/" }?.isOptimize == true)
        let optimized = Set(targets.filter(\.isOptimize).map(\.host))
        let expected = Set(list.services.filter { $0.endpointSet?.category == "Optimize" }
            .flatMap(\.endpoints).map { $0.host.replacingOccurrences(of: "<tenant>", with: "contoso") })
        #expect(optimized == expected)
    }

    // MARK: Conflicts

    @Test("a PAC sending an Optimize endpoint to an inspecting Squid: a warning naming the proxy, the interception and the fixes")
    func inspectedThroughPAC() throws {
        let found = Self.analyze([Self.result(Self.inspect, .intercepted), Self.result(Self.edge, .passed)], routes: [Self.edge, Self.inspect],
                                 routing: Self.routing(["inspect"], answer: "PROXY 192.0.2.3:3128"))
        #expect(found.count == 1)
        let conflict = try #require(found.first)
        #expect(conflict.severity == .warning, "required, and still only a warning")
        #expect(conflict.hop.name == "inspect" && conflict.hop.product == "squid")
        #expect(conflict.routes == ["inspect"])
        #expect(conflict.evidence == "inspect (http://192.0.2.3:3128): proxy, intercepted (certificate issued by Corp Inspection CA), not authenticated; verdict tls_intercepted (intercepted): synthetic")
        #expect(conflict.explanation == "outlook.office365.com is a Microsoft 365 Optimize endpoint, which Microsoft's connectivity principles send out directly (no proxy, no TLS inspection, no proxy authentication), but devices send it through the proxy inspect (http://192.0.2.3:3128; PROXY 192.0.2.3:3128), which intercepts its TLS (certificate issued by Corp Inspection CA).")
        #expect(conflict.remediation == """
            In the PAC file, send outlook.office365.com DIRECT before the rule that matches it now, and allow direct egress to it on the firewall:
              if (host == "outlook.office365.com") return "DIRECT";
            As long as it goes through a proxy:
            On inspect (Squid), splice (do not bump) outlook.office365.com:
              acl proxyvet_nobump ssl::server_name outlook.office365.com
              ssl_bump splice proxyvet_nobump          # before ssl_bump bump
            """)
    }

    @Test("a proxy that neither inspects nor authenticates is still a warning, and says so")
    func plainProxy() throws {
        let conflict = try #require(Self.analyze([Self.result(Self.edge, .passed)], routes: [Self.edge],
                                                 routing: Self.routing(["edge"], answer: "PROXY 192.0.2.1:3128")).first)
        #expect(conflict.evidence.hasPrefix("edge (http://192.0.2.1:3128): proxy, not intercepted, not authenticated; verdict allowed (passed on)"))
        #expect(conflict.explanation.hasSuffix("but devices send it through the proxy edge (http://192.0.2.1:3128; PROXY 192.0.2.1:3128); it is neither intercepted nor authenticated there."))
        #expect(conflict.remediation == """
            In the PAC file, send outlook.office365.com DIRECT before the rule that matches it now, and allow direct egress to it on the firewall:
              if (host == "outlook.office365.com") return "DIRECT";
            """)
    }

    @Test("an authenticating proxy: the 407 and the route's credentials are named, with Squid lines to let it through unauthenticated")
    func authenticated() throws {
        let conflict = try #require(Self.analyze([Self.result(Self.auth, .challenged)], routes: [Self.auth]).first)
        #expect(conflict.hop.name == "auth")
        #expect(conflict.evidence.hasPrefix("auth (http://192.0.2.6:3128): proxy, not intercepted, authenticated (407: Basic; the route's credentials answer it); verdict allowed"))
        #expect(conflict.explanation.hasSuffix("but the route auth (http://192.0.2.6:3128), which decides readiness (no device routing declared), is a proxy, which demands proxy authentication (407: Basic)."))
        #expect(conflict.remediation.hasPrefix("Send outlook.office365.com DIRECT in the devices' proxy configuration (a PAC file line or a proxy exception)"))
        #expect(conflict.remediation.contains("  http_access allow proxyvet_noauth        # before the rule with proxy_auth"))
        #expect(!conflict.remediation.contains("ssl_bump"))
    }

    @Test("without device routing every route that decides readiness is judged; a working direct route raises nothing")
    func everyDecidingRoute() {
        let found = Self.analyze([Self.result(Self.edge, .passed), Self.result(Self.inspect, .intercepted), Self.result(.direct, .passed)],
                                 routes: [Self.edge, Self.inspect, .direct])
        #expect(found.map(\.hop.name) == ["edge", "inspect"])
        #expect(found.allSatisfy { $0.severity == .warning })
    }

    @Test("the PAC's DIRECT for an Optimize endpoint is what Microsoft asks for: no warning, also when the proxies would inspect it")
    func directIsFine() {
        let found = Self.analyze([Self.result(.direct, .passed), Self.result(Self.inspect, .intercepted)], routes: [.direct, Self.inspect],
                                 routing: Self.routing(["direct"], answer: "DIRECT"))
        #expect(found.isEmpty)
    }

    @Test("a direct route whose TLS is re-signed on the way: an inspection device on the direct path")
    func directButInspected() throws {
        let conflict = try #require(Self.analyze([Self.result(.direct, .intercepted)], routes: [.direct],
                                                 routing: Self.routing(["direct"], answer: "DIRECT")).first)
        #expect(conflict.evidence.hasPrefix("direct (direct): direct, intercepted (certificate issued by Corp Inspection CA)"))
        #expect(conflict.explanation.hasSuffix("but on direct, the route devices use (DIRECT), its TLS is intercepted on the way (certificate issued by Corp Inspection CA): an inspection device sits on the direct path."))
        #expect(conflict.remediation == "On direct, exempt outlook.office365.com (port 443) from TLS inspection (pass the tunnel through untouched).")
    }

    @Test("endpoints outside the Optimize category raise nothing, whatever the proxy does")
    func otherCategories() {
        let target = Self.target(optimize: false)
        #expect(Self.analyze([Self.result(Self.inspect, .intercepted, target: target)], routes: [Self.inspect], target: target).isEmpty)
    }

    @Test("the effective route is the one judged: a dead first alternative is skipped for the one devices fail over to")
    func effectiveRoute() throws {
        var dead = Self.result(ProxyActionTests.route("dead", "192.0.2.9"), .passed)
        dead.verdict = .proxyUnreachable
        dead.phase = .beforeAnswer
        let found = Self.analyze([dead, Self.result(Self.inspect, .intercepted)],
                                 routes: [ProxyActionTests.route("dead", "192.0.2.9"), Self.inspect],
                                 routing: Self.routing(["dead", "inspect"], answer: "PROXY 192.0.2.9:3128; PROXY 192.0.2.3:3128"))
        #expect(found.map(\.routes) == [["inspect"]])
    }

    // MARK: Readiness and summaries

    @Test("warnings are counted in the summary and the console and Markdown summaries, and never change readiness")
    func readinessUnchanged() throws {
        let target = Self.target()
        let results = [Self.result(Self.inspect, .intercepted)].map { result -> ProbeResult in
            var result = result
            result.verdict = .allowed     // as if the inspection CA were trusted: the endpoint works
            return result
        }
        let conflicts = Self.analyze(results, routes: [Self.inspect], target: target)
        #expect(conflicts.count == 1)
        let report = CheckReport.build(lists: [Self.list(["Optimize"])], routes: [Self.inspect], settings: ProbeSettings(),
                                       plan: TargetPlan(targets: [target], skipped: []), results: results, conflicts: conflicts,
                                       started: Date(), finished: Date())
        #expect(report.ready)
        #expect(report.summary.conflictErrors == 0)
        #expect(report.summary.conflictWarnings == 1)
        #expect(report.summary.conflicts == ["optimize_not_direct": 1])
        #expect(ConsoleSummary.render(report).contains("Conflicts: 0 errors, 1 warnings — by the proxy that must change:"))
        #expect(ConsoleSummary.render(report).contains("    optimize_not_direct    1 warning: https://outlook.office365.com/"))
        let markdown = MarkdownReport.render(report)
        #expect(markdown.contains("0 error conflicts, 1 warnings."))
        #expect(markdown.contains("### Conflicts by the proxy that must change (0 errors, 1 warnings)"))
        let json = try #require(String(data: try JSONReport.render(report), encoding: .utf8))
        #expect(json.contains("\"conflictWarnings\":1"))
    }

    @Test("a report written before warnings were counted still decodes, and counts its non-error conflicts")
    func olderReport() throws {
        var report = CheckReport.build(lists: [], routes: [Self.inspect], settings: ProbeSettings(),
                                       plan: TargetPlan(targets: [Self.target()], skipped: []), results: [Self.result(Self.inspect, .intercepted)],
                                       conflicts: Self.analyze([Self.result(Self.inspect, .intercepted)], routes: [Self.inspect]),
                                       started: Date(), finished: Date())
        report.summary.conflictWarnings = nil
        let decoded = try JSONReport.decode(try JSONReport.render(report))
        #expect(decoded.summary.conflictWarnings == nil)
        #expect(decoded.conflictWarnings == 1)
    }
}
