import Foundation

/// Which hop decided a result, and how ProxyVet knows.
public struct HopAttribution: Codable, Sendable, Equatable {
    /// The route name of the proxy that decided, or `origin` when the failure is beyond the last proxy.
    public var hop: String
    /// The hop's proxy URL (never credentials); nil for the origin.
    public var proxy: String?
    /// `the proxy`, `first hop`, `hop 2 of 3`, `last hop (3 of 3)`, `origin`.
    public var position: String
    /// `evidence` (the answer names the hop), `comparison` (hops probed on their own), `inferred`.
    public var method: String
    /// `high`, `medium`, `low`.
    public var confidence: String
    /// How the attribution was made, in words.
    public var detail: String
}

extension HopAttribution {
    /// A hop of `route`'s chain, with its proxy URL and its position in the chain.
    init(hop: String, on route: String, topology: Topology, method: String, confidence: String, detail: String) {
        self.init(hop: hop, proxy: topology.route(hop)?.proxyURL, position: topology.position(of: hop, in: route),
                  method: method, confidence: confidence, detail: detail)
    }
}

/// All results of a check, by route and URL, for cross-route analysis.
public struct ResultIndex: Sendable {
    private var byRoute: [String: [String: ProbeResult]] = [:]

    public init(_ results: [ProbeResult]) {
        for result in results { byRoute[result.route, default: [:]][result.url] = result }
    }

    public subscript(route: String, url: String) -> ProbeResult? { byRoute[route]?[url] }
}

/// Attributes a failing result to the hop that caused it.
///
/// 1. Failures beyond every proxy go to the origin: where the classifier decided after the proxies passed the request
///    on (a proxy's report about the origin, what came through the tunnel, the target's handshake), or where nothing
///    answered and the last hop on its own shows the same.
/// 2. An answer that names its generator (Squid's "Generated ... by HOST" footer, a Via pseudonym declared as a
///    proxy's `via:` alias) is evidence.
/// 3. Otherwise later hops probed on their own are compared: the deepest hop that reproduces the verdict decides;
///    if no later hop does, the first hop does.
/// 4. When a later hop cannot be reached from here, the attribution is inferred and says so.
public enum Attributor {
    /// Phases in which the proxies had passed the request on when the verdict was decided.
    static let passedOnPhases: Set<DecisionPhase> = [.upstreamReported, .tunnelUp, .targetTLS]

    public static func attribute(_ result: ProbeResult, topology: Topology, index: ResultIndex) -> HopAttribution? {
        guard result.verdict != .allowed || !result.policyViolations.isEmpty else { return nil }
        let chain = topology.chain(of: result.route)
        guard let route = topology.route(result.route) ?? (result.route == "direct" ? .direct : nil) else { return nil }
        func make(_ hop: String, _ method: String, _ confidence: String, _ detail: String) -> HopAttribution {
            HopAttribution(hop: hop, on: result.route, topology: topology, method: method, confidence: confidence, detail: detail)
        }
        if route.kind == .direct {
            return HopAttribution(hop: "direct", proxy: nil, position: "no proxy", method: "evidence", confidence: "high",
                                  detail: "no proxy on this route: the failure is in direct egress (firewall, DNS) or at the origin")
        }
        if result.verdict == .proxyUnreachable {
            return make(result.route, "evidence", "high", "the first hop itself could not be reached: \(result.reason)")
        }
        let sameOutcome: (ProbeResult) -> Bool = { other in
            other.verdict == result.verdict && Set(other.policyViolations) == Set(result.policyViolations)
        }
        let later = Array(chain.dropFirst())
        let own = later.map { (hop: $0, result: index[$0, result.url]) }
        let reachable = own.filter { $0.result.map { $0.verdict != .proxyUnreachable } ?? false }
        let unreachable = own.filter { $0.result.map { $0.verdict == .proxyUnreachable } ?? true }.map(\.hop)

        // 1. Beyond the proxies.
        // A re-signed session's own handshake is the interceptor's doing; a failure reported or seen after it is not.
        let phase = result.phase ?? .beforeAnswer
        let passedOn = passedOnPhases.contains(phase) && !(phase == .targetTLS && result.evidence.intercepted)
        let silent = phase == .beforeAnswer
        if (passedOn || silent) && result.evidence.proxyError.map({ !isProxyPolicyError($0) }) ?? true
            && result.policyViolations.isEmpty {
            if later.isEmpty && passedOn {
                return HopAttribution(hop: "origin", proxy: nil, position: "origin", method: "evidence", confidence: "high",
                                      detail: "the proxy passed the request on; the failure is beyond it: \(result.reason)")
            }
            if later.isEmpty {
                return make(result.route, "inferred", "medium",
                            "nothing answered: the proxy, or something behind it that it did not report (\(result.reason))")
            }
            if let last = own.last, let lastResult = last.result, sameOutcome(lastResult) {
                return HopAttribution(hop: "origin", proxy: nil, position: "origin", method: "comparison", confidence: "high",
                                      detail: "the last hop \(last.hop) on its own shows the same (\(lastResult.verdict.rawValue)), so the failure is beyond the proxies")
            }
        }

        // 2. The answer names the hop that generated it: Squid's error-page footer, or, on a proxy-generated answer, the
        //    first Via entry (the generator's; hops that pass a CONNECT refusal on add none, hops after it add theirs).
        let proxyGenerated = result.evidence.proxyError != nil
        if let generator = result.evidence.generatedBy ?? (proxyGenerated ? result.evidence.via.first : nil),
           let hop = topology.hop(named: generator, among: chain) {
            let source = result.evidence.generatedBy != nil ? "the error page says it was generated by" : "the answer's Via names"
            return make(hop, "evidence", "high", "\(source) \(generator) (\(hop), \(topology.position(of: hop, in: result.route)))")
        }

        // 3. Compare with later hops probed on their own.
        if later.isEmpty {
            return make(result.route, "evidence", "high", "a single proxy: its own answer decided (\(result.reason))")
        }
        if let deepest = reachable.last(where: { $0.result.map(sameOutcome) ?? false }) {
            let next = own.drop { $0.hop != deepest.hop }.dropFirst().first
            let sure = next.map { $0.result.map { $0.verdict != .proxyUnreachable } ?? false } ?? true
            return make(deepest.hop, "comparison", sure ? "high" : "medium",
                        "\(deepest.hop) on its own gives the same \(result.verdict.rawValue)"
                        + (next.map { sure ? ", \($0.hop) beyond it does not" : ", \($0.hop) beyond it cannot be probed from here" } ?? ""))
        }
        if unreachable.isEmpty {
            let others = reachable.map { "\($0.hop): \($0.result?.verdict.rawValue ?? "?")" }.joined(separator: ", ")
            return make(result.route, "comparison", "high", "every later hop on its own allows it (\(others)), so the first hop decides")
        }
        // 4. Later hops cannot be probed from here.
        return make(result.route, "inferred", "low",
                    "\(unreachable.joined(separator: ", ")) cannot be probed from here and the answer names no hop; attributed to the first hop, which returned it")
    }

    /// The hop that intercepts TLS on a result's route, whatever the origin behind it then did (answered, failed, hung):
    /// nil unless the result's `ProxyAction` is `intercepted`.
    ///
    /// 1. Evidence: the last `Via` entry of the answer inside the re-signed session. Hops before the intercepting one
    ///    only tunnel the bytes and cannot add one; hops after it add theirs before it does.
    /// 2. Otherwise later hops probed on their own are compared: the deepest one that intercepts too decides; if none
    ///    does, the first hop does (inferred when a later hop cannot be probed from here).
    public static func interceptor(of result: ProbeResult, topology: Topology, index: ResultIndex) -> HopAttribution? {
        guard result.proxyAction == .intercepted else { return nil }
        let chain = topology.chain(of: result.route)
        func make(_ hop: String, _ method: String, _ confidence: String, _ detail: String) -> HopAttribution {
            HopAttribution(hop: hop, on: result.route, topology: topology, method: method, confidence: confidence, detail: detail)
        }
        if let closest = result.evidence.via.last, let hop = topology.hop(named: closest, among: chain) {
            return make(hop, "evidence", "high", "the answer inside the re-signed session carries Via \(closest) last (\(hop), \(topology.position(of: hop, in: result.route)))")
        }
        let later = chain.dropFirst().map { (hop: $0, result: index[$0, result.url]) }
        if let deepest = later.last(where: { $0.result?.proxyAction == .intercepted }) {
            return make(deepest.hop, "comparison", "high", "\(deepest.hop) on its own intercepts TLS to \(result.host) too")
        }
        // A later hop that was not reached, or whose own probe shows no decision, may be the one that intercepts.
        let undecided = later.filter { !($0.result?.proxyAction.isDecision ?? false) }.map(\.hop)
        if later.isEmpty || undecided.isEmpty {
            return make(result.route, later.isEmpty ? "evidence" : "comparison", "high",
                        later.isEmpty ? "a single proxy: it re-signs the session" : "no later hop intercepts on its own, so the first hop does")
        }
        return make(result.route, "inferred", "low",
                    "\(undecided.joined(separator: ", ")) on its own cannot be reached or shows no decision, and no answer names a hop; attributed to the first hop")
    }

    /// Squid error tags that are a proxy's policy decision rather than a failure beyond it.
    static func isProxyPolicyError(_ tag: String) -> Bool {
        ["ERR_ACCESS_DENIED", "ERR_CACHE_ACCESS_DENIED", "ERR_FORWARDING_DENIED", "ERR_TOO_BIG"].contains(tag)
    }
}
