import Foundation
import Testing
@testable import ProxyVetKit

/// Verdicts against real Squid and tinyproxy instances on loopback (see Scripts/lab/lab).
@Suite("Real proxies in the loopback lab", .enabled(if: Lab.available, "needs the lab: run Scripts/test"))
struct LabIntegrationTests {
    /// Every (route, URL) pair the suite asserts, probed once in one engine run through the real proxies.
    static let report: CheckReport? = {
        guard let lab = Lab.current, let routes = try? lab.routes() else { return nil }
        let urls = [
            "https://allowed.proxyvet-lab.test/", "http://allowed.proxyvet-lab.test/", "https://blocked.proxyvet-lab.test/",
            "https://platform.linkedin.com/", "https://allowed.proxyvet-lab.test:8443/", "https://redirect.proxyvet-lab.test/",
            "http://redirect.proxyvet-lab.test/", "https://hang.proxyvet-lab.test/", "https://down.proxyvet-lab.test/",
            "https://nxdomain.proxyvet-lab.test/", "http://nxdomain.proxyvet-lab.test/", "https://expired.proxyvet-lab.test/",
            "https://reset.proxyvet-lab.test/", "https://splice.proxyvet-lab.test/", "https://graph.microsoft.com/",
        ]
        let list = AllowList(id: "lab", name: "lab", file: "lab", policies: [PolicyRule(tag: .noInspection, patterns: ["graph.microsoft.com"]), PolicyRule(tag: .noProxyAuth, patterns: ["graph.microsoft.com"])],
                             services: [Service(name: "lab", endpoints: urls.map { url in
                                 let components = URLComponents(string: url)!
                                 return Endpoint(host: components.host!, ports: [components.port ?? (components.scheme == "http" ? 80 : 443)], scheme: components.scheme)
                             })], contentHash: "")
        var updates: [CheckRunner.Progress] = []
        let report = try? CheckRunner(lists: [list], routes: routes, settings: lab.settings()).run { updates.append($0) }
        progress = updates
        return report
    }()

    /// Every progress update of that run, in order.
    nonisolated(unsafe) static var progress: [CheckRunner.Progress] = []

    @Test("progress counts every probe once and the failures so far, ending at the report's own counts")
    func progressCounts() throws {
        let report = try #require(Self.report)
        let updates = Self.progress
        #expect(updates.map(\.done) == Array(1...report.results.count))
        #expect(updates.allSatisfy { $0.total == report.results.count })
        #expect(zip(updates, updates.dropFirst()).allSatisfy { $1.failures >= $0.failures && $1.failures <= $0.failures + 1 })
        let failing = report.results.filter { $0.verdict != .allowed }.count
        #expect(failing > 0 && failing < report.results.count, "the lab run should mix allowed and failing verdicts")
        #expect(updates.last?.failures == failing)
    }

    static func result(_ route: String, _ url: String) throws -> ProbeResult {
        try report.result(route, url)
    }

    struct Expectation: Sendable, CustomStringConvertible {
        let route: String
        let url: String
        let verdict: Verdict
        var description: String { "\(route) \(url) → \(verdict.rawValue)" }
    }

    static let expectations: [Expectation] = [
        Expectation(route: "edge", url: "https://allowed.proxyvet-lab.test/", verdict: .allowed),
        Expectation(route: "edge", url: "http://allowed.proxyvet-lab.test/", verdict: .allowed),
        Expectation(route: "edge", url: "https://blocked.proxyvet-lab.test/", verdict: .blocked),
        Expectation(route: "edge", url: "https://platform.linkedin.com/", verdict: .blocked),
        Expectation(route: "edge", url: "https://allowed.proxyvet-lab.test:8443/", verdict: .blocked),
        Expectation(route: "edge", url: "https://redirect.proxyvet-lab.test/", verdict: .blockPage),
        Expectation(route: "edge", url: "http://redirect.proxyvet-lab.test/", verdict: .blockPage),
        Expectation(route: "edge", url: "https://hang.proxyvet-lab.test/", verdict: .timeout),
        Expectation(route: "edge", url: "https://down.proxyvet-lab.test/", verdict: .upstreamUnreachable),
        Expectation(route: "edge", url: "https://nxdomain.proxyvet-lab.test/", verdict: .dnsFailure),
        Expectation(route: "edge", url: "http://nxdomain.proxyvet-lab.test/", verdict: .dnsFailure),
        Expectation(route: "edge", url: "https://expired.proxyvet-lab.test/", verdict: .tlsFailed),
        Expectation(route: "edge", url: "https://reset.proxyvet-lab.test/", verdict: .dropped),
        Expectation(route: "branch", url: "https://allowed.proxyvet-lab.test/", verdict: .allowed),
        Expectation(route: "branch", url: "https://platform.linkedin.com/", verdict: .blocked),
        Expectation(route: "inspect", url: "https://allowed.proxyvet-lab.test/", verdict: .tlsIntercepted),
        Expectation(route: "inspect", url: "https://splice.proxyvet-lab.test/", verdict: .allowed),
        // The inspecting proxy re-signs before it refuses: a device without the inspection CA sees the interception
        // (the refusal inside the session is seen when the CA is trusted: ConflictIntegrationTests).
        Expectation(route: "inspect", url: "https://blocked.proxyvet-lab.test/", verdict: .tlsIntercepted),
        Expectation(route: "auth", url: "https://allowed.proxyvet-lab.test/", verdict: .allowed),
        Expectation(route: "auth-none", url: "https://allowed.proxyvet-lab.test/", verdict: .authRequired),
        Expectation(route: "auth-wrong", url: "https://allowed.proxyvet-lab.test/", verdict: .authFailed),
        Expectation(route: "dead", url: "https://allowed.proxyvet-lab.test/", verdict: .proxyUnreachable),
        Expectation(route: "tiny", url: "https://allowed.proxyvet-lab.test/", verdict: .allowed),
        Expectation(route: "tiny", url: "https://platform.linkedin.com/", verdict: .blocked),
    ]

    @Test("verdicts through real proxies", arguments: expectations)
    func verdict(_ expectation: Expectation) throws {
        let result = try Self.result(expectation.route, expectation.url)
        #expect(result.verdict == expectation.verdict, "\(result.reason) — curl \(result.evidence.curlCode) \(result.evidence.curlMessage)")
    }

    @Test("the classifier says where it decided, and the proxy's action and the attribution follow from it", arguments: [
        ("edge", "https://blocked.proxyvet-lab.test/", DecisionPhase.refused, ProxyAction.refused),
        ("edge", "https://down.proxyvet-lab.test/", .upstreamReported, .passedOn),
        ("edge", "https://nxdomain.proxyvet-lab.test/", .upstreamReported, .passedOn),
        ("edge", "https://hang.proxyvet-lab.test/", .tunnelUp, .passedOn),
        ("edge", "https://reset.proxyvet-lab.test/", .tunnelUp, .unknown),
        ("edge", "https://expired.proxyvet-lab.test/", .targetTLS, .passedOn),
        ("edge", "https://allowed.proxyvet-lab.test/", .targetTLS, .passedOn),
        ("inspect", "https://allowed.proxyvet-lab.test/", .targetTLS, .intercepted),
        ("auth-none", "https://allowed.proxyvet-lab.test/", .refused, .refused),
        ("dead", "https://allowed.proxyvet-lab.test/", .beforeAnswer, .unreachable),
    ])
    func phases(route: String, url: String, phase: DecisionPhase, action: ProxyAction) throws {
        let result = try Self.result(route, url)
        #expect(result.phase == phase, "\(route) \(url): \(result.reason)")
        #expect(result.proxyAction == action, "\(route) \(url): \(result.reason)")
        if phase == .upstreamReported || (phase == .tunnelUp && result.verdict != .allowed) {
            #expect(result.decidedBy?.hop == "origin", "the proxy passed it on: \(result.decidedBy?.detail ?? "-")")
        }
    }

    @Test("a Squid ACL denial carries Squid's reason")
    func aclReason() throws {
        let result = try Self.result("edge", "https://platform.linkedin.com/")
        #expect(result.evidence.connectStatus == 403)
        #expect(result.evidence.proxyError == "ERR_ACCESS_DENIED")
    }

    @Test("a refused port is explained")
    func portReason() throws {
        let result = try Self.result("edge", "https://allowed.proxyvet-lab.test:8443/")
        #expect(result.reason.contains("port 8443"))
    }

    @Test("interception names the inspection CA and violates noInspection")
    func interception() throws {
        let lab = try #require(Lab.current)
        let result = try Self.result("inspect", "https://graph.microsoft.com/")
        #expect(result.verdict == .tlsIntercepted)
        #expect(result.reason.contains(lab.inspectionCAName))
        #expect(result.evidence.certificate?.issuer.contains(lab.inspectionCAName) == true)
        #expect(result.policyViolations == [.noInspection])
        let plain = try Self.result("edge", "https://graph.microsoft.com/")
        #expect(plain.verdict == .allowed)
        #expect(plain.evidence.certificate?.issuer.contains("ProxyVet Lab Origin CA") == true)
    }

    @Test("good credentials work, but the 407 challenge breaks noProxyAuth")
    func authChallenge() throws {
        let result = try Self.result("auth", "https://graph.microsoft.com/")
        #expect(result.verdict == .allowed)
        #expect(result.evidence.authChallenged)
        #expect(result.evidence.authSchemes == ["Basic"])
        #expect(result.policyViolations == [.noProxyAuth])
        #expect(result.failsRequirement)
    }

    @Test("plain http goes as an absolute-URI request and shows the proxy's Via")
    func plainHTTP() throws {
        let result = try Self.result("edge", "http://allowed.proxyvet-lab.test/")
        #expect(result.evidence.connectStatus == nil)
        #expect(result.evidence.httpStatus == 200)
        #expect(result.evidence.responses.last?.headers["via"]?.contains("squid") == true)
    }

    @Test("no probe outlives its timeout")
    func bounded() throws {
        let report = try #require(Self.report)
        let limit = report.settings.timeoutSeconds + 1
        #expect(report.results.allSatisfy { $0.timings.total <= limit })
    }
}

/// Fails the run when Scripts/test asked for the lab but it is missing, so the suite never passes by skipping.
@Suite("Lab presence")
struct LabPresenceTests {
    @Test("the lab is there when required", .enabled(if: Lab.required))
    func present() {
        #expect(Lab.available, "PROXYVET_REQUIRE_LAB=1 but PROXYVET_LAB does not describe a running lab")
    }
}
