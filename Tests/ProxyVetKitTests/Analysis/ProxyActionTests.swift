import Foundation
import Testing
@testable import ProxyVetKit

/// What a proxy did (passed on, refused, intercepted), told apart from what the origin then did, and the conflicts
/// judged on it. The lab proves the same on real Squids (ConflictIntegrationTests).
@Suite("Proxy actions and the conflicts judged on them")
struct ProxyActionTests {
    /// One result's facts: the verdict and the evidence the rule reads.
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var verdict: Verdict
        /// Where the classifier decided it.
        var phase: DecisionPhase
        /// The proxy's answer to CONNECT; nil for a plain request or no answer.
        var connect: Int? = nil
        /// Response heads after the tunnel or to the plain request.
        var responses: [Int] = []
        var intercepted = false
        /// A SOCKS reply (CURLPX_* number).
        var socksReply: Int? = nil
        var expected: ProxyAction

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "tunnel and origin answer", verdict: .allowed, phase: .tunnelUp, connect: 200, responses: [200], expected: .passedOn),
        Case(name: "tunnel to an origin that hangs", verdict: .timeout, phase: .tunnelUp, connect: 200, expected: .passedOn),
        Case(name: "tunnel to an origin with an expired certificate", verdict: .tlsFailed, phase: .targetTLS, connect: 200, expected: .passedOn),
        Case(name: "CONNECT 503: origin down", verdict: .upstreamUnreachable, phase: .upstreamReported, connect: 503, expected: .passedOn),
        Case(name: "CONNECT 500: name does not resolve", verdict: .dnsFailure, phase: .upstreamReported, connect: 500, expected: .passedOn),
        Case(name: "plain request, proxy's 502", verdict: .upstreamUnreachable, phase: .upstreamReported, responses: [502], expected: .passedOn),
        Case(name: "SOCKS: host unreachable", verdict: .upstreamUnreachable, phase: .upstreamReported, socksReply: 21, expected: .passedOn),
        Case(name: "SOCKS: general failure", verdict: .upstreamUnreachable, phase: .beforeAnswer, socksReply: 20, expected: .unknown),
        Case(name: "no answer to CONNECT in time", verdict: .timeout, phase: .beforeAnswer, expected: .unknown),
        Case(name: "plain request, no answer in time", verdict: .timeout, phase: .beforeAnswer, responses: [], expected: .unknown),
        Case(name: "direct: connection refused", verdict: .upstreamUnreachable, phase: .beforeAnswer, expected: .unknown),
        Case(name: "reset after the tunnel opened", verdict: .dropped, phase: .tunnelUp, connect: 200, expected: .unknown),
        Case(name: "not HTTP", verdict: .protocolError, phase: .beforeAnswer, expected: .unknown),
        Case(name: "CONNECT 403", verdict: .blocked, phase: .refused, connect: 403, expected: .refused),
        Case(name: "CONNECT 302 to a block page", verdict: .blockPage, phase: .refused, connect: 302, expected: .refused),
        Case(name: "CONNECT 407", verdict: .authRequired, phase: .refused, connect: 407, expected: .refused),
        Case(name: "CONNECT 407 to credentials", verdict: .authFailed, phase: .refused, connect: 407, expected: .refused),
        Case(name: "403 inside an inspected session", verdict: .blocked, phase: .refused, connect: 200, responses: [403], intercepted: true, expected: .refused),
        Case(name: "re-signed certificate", verdict: .tlsIntercepted, phase: .targetTLS, connect: 200, intercepted: true, expected: .intercepted),
        Case(name: "re-signed, origin down (503 inside)", verdict: .upstreamUnreachable, phase: .upstreamReported, connect: 200, responses: [503], intercepted: true, expected: .intercepted),
        Case(name: "re-signed, name unknown (502 inside)", verdict: .dnsFailure, phase: .upstreamReported, connect: 200, responses: [502], intercepted: true, expected: .intercepted),
        Case(name: "re-signed, origin hangs", verdict: .timeout, phase: .targetTLS, connect: 200, intercepted: true, expected: .intercepted),
        Case(name: "proxy not reachable", verdict: .proxyUnreachable, phase: .beforeAnswer, expected: .unreachable),
    ]

    /// A Squid-like route whose Via pseudonym is `NAME.corp`.
    static func route(_ name: String, _ address: String, upstream: String? = nil) -> Route {
        var route = Route(name: name, kind: .http, proxyURL: "http://\(address):3128", upstream: upstream)
        route.aliases = ["\(name).corp"]
        return route
    }

    static let edge = route("edge", "192.0.2.1")
    static let edge2 = route("edge2", "192.0.2.2")
    static let inspect = route("inspect", "192.0.2.3")
    static let gateway = route("gateway", "192.0.2.4")
    static let site = route("site", "192.0.2.5", upstream: "gateway")
    static let target = ProbeTarget(url: "https://a.corp.test/", scheme: "https", host: "a.corp.test", port: 443,
                                    requiredBy: [], required: true, policy: [], policyProbe: false)

    static func head(_ status: Int, via: String? = nil) -> ResponseHead {
        ResponseHead(status: status, statusLine: "HTTP/1.1 \(status) X", headers: via.map { [ResponseHead.Header(name: "via", value: "1.1 \($0) (squid/5.7)")] } ?? [])
    }

    /// A result for `route` with the case's facts set on a classified empty probe.
    static func result(_ route: Route, _ facts: Case, via: String? = nil) -> ProbeResult {
        let evidence = ProbeEvidence(connectStatus: facts.connect ?? 0, connectResponses: facts.connect.map { [head($0)] } ?? [],
                                     responses: facts.responses.map { head($0, via: via) })
        var result = CheckRunner.result(route: route, target: target, evidence: evidence)
        result.verdict = facts.verdict
        result.phase = facts.phase
        result.reason = "synthetic \(facts.name)"
        result.evidence.intercepted = facts.intercepted
        result.evidence.proxyReply = facts.socksReply
        if let via { result.evidence.via = [via] }
        return result
    }

    static func analyze(_ results: [ProbeResult], routes: [Route], groups: [String: [String]] = [:], routing: DeviceRouting? = nil) -> [Conflict] {
        let topology = Topology(routes: routes, groups: groups, deviceRoutes: routing?.deviceRoutes ?? [])
        return ConflictAnalyzer(topology: topology, routing: routing, results: Attributor.attributed(results, topology: topology)).analyze(targets: [target])
    }

    static let hangs = Case(name: "hangs", verdict: .timeout, phase: .tunnelUp, connect: 200, expected: .passedOn)
    static let answers = Case(name: "answers", verdict: .allowed, phase: .tunnelUp, connect: 200, responses: [200], expected: .passedOn)
    static let refuses = Case(name: "refuses", verdict: .blocked, phase: .refused, connect: 403, expected: .refused)
    static let down = Case(name: "down", verdict: .upstreamUnreachable, phase: .upstreamReported, connect: 503, expected: .passedOn)
    static let bumpedDown = Case(name: "bumped, down", verdict: .upstreamUnreachable, phase: .upstreamReported, connect: 200, responses: [503], intercepted: true,
                                 expected: .intercepted)

    @Test("the action a result shows", arguments: cases)
    func action(_ facts: Case) {
        #expect(Self.result(Self.edge, facts).proxyAction == facts.expected)
    }

    @Test("group_disagrees when one member passes a hanging origin on and the other refuses")
    func groupOnPolicy() throws {
        let found = Self.analyze([Self.result(Self.edge, Self.hangs), Self.result(Self.edge2, Self.refuses)],
                                 routes: [Self.edge, Self.edge2], groups: ["pair": ["edge", "edge2"]])
        let conflict = try #require(found.first { $0.kind == .groupDisagrees })
        #expect(conflict.hop.name == "edge2")
        #expect(conflict.routes == ["edge", "edge2"])
        #expect(conflict.evidence.hasPrefix("edge: timeout (passed on), edge2: blocked (refused)."))
        #expect(conflict.explanation.contains("edge passed it on and the origin behind it then failed (timeout)"))
        #expect(conflict.remediation.hasPrefix("Make edge2 behave like edge for a.corp.test."))
    }

    @Test("no group_disagrees when the members agree on policy and only the origin differs, or a member is down",
          arguments: [(hangs, answers), (down, answers), (Case(name: "dead", verdict: .proxyUnreachable, phase: .beforeAnswer, expected: .unreachable), refuses)])
    func groupAgrees(_ first: Case, _ second: Case) {
        let found = Self.analyze([Self.result(Self.edge, first), Self.result(Self.edge2, second)],
                                 routes: [Self.edge, Self.edge2], groups: ["pair": ["edge", "edge2"]])
        #expect(!found.contains { $0.kind == .groupDisagrees })
    }

    @Test("routes_disagree pairs a refusal with an independent route that passes it on to a hanging origin, never with the group partner")
    func routesOnPolicy() throws {
        let results = [Self.result(Self.edge, Self.answers), Self.result(Self.edge2, Self.refuses), Self.result(Self.inspect, Self.hangs)]
        let found = Self.analyze(results, routes: [Self.edge2, Self.inspect, Self.edge], groups: ["pair": ["edge", "edge2"]])
            .filter { $0.kind == .routesDisagree }
        #expect(found.map(\.routes) == [["edge2", "inspect"]])
        #expect(found.first?.evidence.hasPrefix("inspect: passed on (timeout: synthetic hangs); edge2: blocked (refused)") == true)
        // Nothing independent passes it on: no conflict.
        let alone = Self.analyze([Self.result(Self.edge, Self.hangs), Self.result(Self.edge2, Self.refuses)],
                                 routes: [Self.edge, Self.edge2], groups: ["pair": ["edge", "edge2"]])
        #expect(!alone.contains { $0.kind == .routesDisagree })
    }

    @Test("hop_intercepts names the inspecting hop of a chain when the origin behind it is down")
    func interceptionBeforeDownOrigin() throws {
        let found = Self.analyze([Self.result(Self.site, Self.bumpedDown), Self.result(Self.gateway, Self.bumpedDown)],
                                 routes: [Self.site, Self.gateway])
        let conflict = try #require(found.first { $0.kind == .hopIntercepts })
        #expect(conflict.hop.name == "gateway")
        #expect(conflict.routes == ["site", "gateway"])
        #expect(conflict.explanation.contains("The origin behind it failed as well (upstream_unreachable)"))
        // The Via inside the re-signed session names the hop even when it cannot be probed on its own.
        let byVia = Self.analyze([Self.result(Self.site, Self.bumpedDown, via: "gateway.corp")], routes: [Self.site, Self.gateway])
        #expect(byVia.first { $0.kind == .hopIntercepts }?.hop.name == "gateway")
        // A chain that passes the down origin on raises nothing.
        let passed = Self.analyze([Self.result(Self.site, Self.down), Self.result(Self.gateway, Self.down)], routes: [Self.site, Self.gateway])
        #expect(passed.isEmpty)
    }

    @Test("pac_routes_to_failure when the PAC sends the endpoint to the refusing proxy and the other passes it on to a hanging origin")
    func pacOnPolicy() throws {
        func routing(_ order: [String]) -> DeviceRouting {
            DeviceRouting(source: .pac, pacSource: "http://pac.corp/proxy.pac",
                          choices: [Self.target.url: .init(answer: order.map { "PROXY \($0)" }.joined(separator: "; "), routes: order)], extraRoutes: [])
        }
        let results = [Self.result(Self.edge, Self.hangs), Self.result(Self.edge2, Self.refuses)]
        let found = Self.analyze(results, routes: [Self.edge, Self.edge2], routing: routing(["edge2", "edge"]))
        let conflict = try #require(found.first { $0.kind == .pacRoutesToFailure })
        #expect(conflict.routes == ["edge2", "edge"])
        #expect(conflict.evidence.hasSuffix("edge: passed on (timeout: synthetic hangs)"))
        #expect(conflict.remediation.contains("return \"PROXY 192.0.2.1:3128\";"))
        // Sent to the proxy that passes it on: nothing to fix in the PAC.
        #expect(!Self.analyze(results, routes: [Self.edge, Self.edge2], routing: routing(["edge", "edge2"])).contains { $0.kind == .pacRoutesToFailure })
    }
}
