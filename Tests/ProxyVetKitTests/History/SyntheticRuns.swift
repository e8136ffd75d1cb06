import Foundation
@testable import ProxyVetKit

/// Check reports built like ReportTests.sampleReport(): real classifier output over crafted evidence, with the
/// verdicts of chosen (route, host) pairs set, so runs can be recorded and compared without a network.
enum SyntheticRuns {
    static let hosts = ["a.test", "b.test", "c.test", "optional.test"]

    /// A run through `edge` (with a credentials file) and `inspect`; every pair is allowed except those in `verdicts`
    /// (keys `route host`). `optional.test` is not required.
    static func report(verdicts: [String: Verdict] = [:], violations: [String: [PolicyTag]] = [:], conflicts: [Conflict] = [],
                       listDate: String = "2024-01-01", listHash: String = String(repeating: "ab", count: 32),
                       routes: [String] = ["edge", "inspect"], finished: TimeInterval = 1_700_000_000) -> CheckReport {
        let list = AllowList(id: "mmd", name: "Managed Desktop", file: "mmd.yaml", source: ListSource(date: listDate),
                             services: [Service(name: "Intune", endpoints: hosts.map { Endpoint(host: $0, required: $0 != "optional.test") })],
                             contentHash: listHash)
        let all: [String: Route] = [
            "edge": Route(name: "edge", kind: .http, proxyURL: "http://127.0.0.1:3128",
                          credentials: ProxyCredentials(username: "probe", password: "TopSecret-Password-123", origin: "file edge.cred")),
            "inspect": Route(name: "inspect", kind: .http, proxyURL: "http://127.0.0.1:3130"),
            "tiny": Route(name: "tiny", kind: .http, proxyURL: "http://127.0.0.1:8888"),
        ]
        let chosen = routes.compactMap { all[$0] }
        let plan = TargetPlanner().plan([list])
        let ok = ProbeEvidence(connectStatus: 200, httpStatus: 200,
                               connectResponses: [ResponseHead(status: 200, statusLine: "HTTP/1.1 200 Connection established", headers: [])],
                               responses: [ResponseHead(status: 200, statusLine: "HTTP/1.1 200 OK", headers: [])], verifyResult: 0)
        var results: [ProbeResult] = []
        for route in chosen {
            for target in plan.targets {
                var result = CheckRunner.result(route: route, target: target, evidence: ok)
                let key = "\(route.name) \(target.host)"
                result.verdict = verdicts[key] ?? .allowed
                result.reason = result.verdict == .allowed ? "the tunnel went through" : "synthetic \(result.verdict.rawValue) for \(target.host)"
                result.policyViolations = violations[key] ?? []
                results.append(result)
            }
        }
        return CheckReport.build(lists: [list], routes: chosen, settings: ProbeSettings(), plan: plan, results: results, conflicts: conflicts,
                                 started: Date(timeIntervalSince1970: finished - 2), finished: Date(timeIntervalSince1970: finished))
    }

    /// A conflict of `kind` on `https://HOST/` that hop `hop` must fix.
    static func conflict(_ kind: Conflict.Kind, host: String, hop: String = "edge", routes: [String] = ["edge", "inspect"],
                         severity: Conflict.Severity = .error) -> Conflict {
        Conflict(kind: kind, severity: severity, endpoint: Conflict.EndpointRef(url: "https://\(host)/", host: host, port: 443), routes: routes,
                 hop: Conflict.HopRef(name: hop, proxy: "http://127.0.0.1:3128", product: "squid"), evidence: "synthetic evidence",
                 explanation: "\(hop) disagrees about \(host)", remediation: "acl fix dstdomain \(host)\nhttp_access allow fix")
    }
}
