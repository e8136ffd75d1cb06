import Foundation

/// What a route's proxy did with a request, judged on its policy and not on the origin's health: the answer to
/// "did this proxy let it through?" that every conflict between proxies asks.
///
/// A verdict mixes both: `timeout` may be a proxy that opened the tunnel to an origin that hangs, or a proxy that
/// never answered. Two proxies of which one opens the tunnel to a hanging origin and the other refuses it with 403
/// disagree on policy, whatever the origin later does; two that both pass it on agree, even if the origin answered one
/// and hung on the other.
public enum ProxyAction: String, Codable, Sendable, CaseIterable {
    /// The proxy passed the request on: it opened the tunnel (CONNECT 2xx), forwarded the plain request, or answered
    /// that the origin behind it failed (an HTTP proxy's 5xx: connect failure, unresolvable name, the origin's TLS; a
    /// SOCKS reply: connection refused, host or network unreachable, TTL expired). What the origin then did (answered,
    /// failed, hung, presented a bad certificate) is its health, not the proxy's policy.
    case passedOn = "passed_on"
    /// The proxy refused: `blocked`, `block_page`, `auth_required`, `auth_failed` (also inside an inspected session).
    case refused
    /// The TLS session was re-signed on the way (`evidence.intercepted`): the route inspects the endpoint, whether the
    /// origin behind the inspecting hop answered, failed or hung.
    case intercepted
    /// The proxy itself could not be reached (`proxy_unreachable`).
    case unreachable
    /// Nothing shows what the proxy decided: no answer before the timeout, the connection closed or reset (a proxy
    /// that ends a tunnel after reading the SNI looks like an origin that resets), an answer that is not HTTP, or a
    /// failure on a route without a proxy.
    case unknown

    /// The action in a result, from where the classifier decided it (`DecisionPhase`) and whether the session was
    /// re-signed; the rule is in the cases' documentation.
    public init(_ result: ProbeResult) {
        switch result.phase ?? .beforeAnswer {
        case .beforeAnswer:
            self = result.verdict == .proxyUnreachable ? .unreachable : .unknown
        case .refused:
            // A refusal inside an inspected session is a refusal first: allowing the endpoint is the fix that matters.
            self = .refused
        case .upstreamReported, .tunnelUp, .targetTLS:
            if result.evidence.intercepted || result.verdict == .tlsIntercepted {
                self = .intercepted
            } else if result.phase == .tunnelUp && Self.endedWithoutAnswer.contains(result.verdict) {
                // Closed or garbled after the tunnel opened: the proxy may have ended it as well as the origin.
                self = .unknown
            } else {
                self = .passedOn
            }
        }
    }

    /// After the tunnel opened, these say nothing about who ended the connection (a proxy that ends a tunnel after
    /// reading the SNI looks like an origin that resets).
    static let endedWithoutAnswer: Set<Verdict> = [.dropped, .protocolError]

    /// True for what the proxy decided against the endpoint: a refusal or an inspection.
    public var isPolicyFailure: Bool { self == .refused || self == .intercepted }

    /// True when the evidence shows what the proxy decided (passed on, refused or intercepted).
    public var isDecision: Bool { self == .passedOn || isPolicyFailure }

    /// `passed it on`, `refuses it`, … for explanations.
    var phrase: String {
        switch self {
        case .passedOn: return "passes it on"
        case .refused: return "refuses it"
        case .intercepted: return "intercepts its TLS"
        case .unreachable: return "cannot be reached"
        case .unknown: return "gives no decision"
        }
    }

    /// `passed on`, `refused`, … for evidence lines.
    var label: String { rawValue.replacingOccurrences(of: "_", with: " ") }
}

extension ProbeResult {
    /// What the route's proxy did with the request (see `ProxyAction`).
    public var proxyAction: ProxyAction { ProxyAction(self) }
}
