import Foundation

/// A disagreement between proxies, or between what the service requires and what a route does, that a person
/// must resolve. The README documents every kind.
public struct Conflict: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// A later hop in a chain blocks what an earlier hop allows.
        case hopBlocks = "hop_blocks"
        /// A hop intercepts TLS that the other hops pass through.
        case hopIntercepts = "hop_intercepts"
        /// A later hop demands authentication that the earlier hop does not forward.
        case hopRequiresAuth = "hop_requires_auth"
        /// Proxies of one group (load-balanced or failover) give different verdicts for the same endpoint.
        case groupDisagrees = "group_disagrees"
        /// Two routes that should both work disagree.
        case routesDisagree = "routes_disagree"
        /// The PAC sends an endpoint to a proxy that fails it while another configured route would work.
        case pacRoutesToFailure = "pac_routes_to_failure"
        /// The PAC says DIRECT for an endpoint where direct egress fails.
        case pacDirectBlocked = "pac_direct_blocked"
        /// A Windows proxy exception (MMD, Intune) sends an endpoint DIRECT where direct egress fails.
        case exceptionDirectBlocked = "exception_direct_blocked"
        /// A `noInspection` endpoint is intercepted on a route a device uses.
        case inspectionForbidden = "inspection_forbidden"
        /// A `noProxyAuth` endpoint gets 407 on a route a device uses.
        case authForbidden = "auth_forbidden"
        /// The hop that terminates TLS refuses a client offering only TLS 1.2 while TLS 1.3 works (`minTLS: "1.2"`).
        case tls12Refused = "tls12_refused"
        /// A Microsoft 365 Optimize endpoint goes through a proxy (or is inspected) on a route a device uses: a warning.
        case optimizeNotDirect = "optimize_not_direct"

        /// One line for the README table.
        public var meaning: String {
            switch self {
            case .hopBlocks: return "A later hop in a chain blocks what the earlier hops pass on (the parent blocks what the branch allows)."
            case .hopIntercepts: return "One hop of a chain intercepts TLS that the other hops pass through; the inspection CA is named."
            case .hopRequiresAuth: return "A later hop demands proxy authentication that the hop before it does not forward."
            case .groupDisagrees: return "Proxies of one group (load-balanced or failover) decide differently (one passes the endpoint on, another refuses or intercepts it): devices fail intermittently."
            case .routesDisagree: return "Two routes devices may use disagree: one passes the endpoint on, the other blocks, intercepts or demands auth."
            case .pacRoutesToFailure: return "The PAC sends the endpoint to a proxy that blocks, intercepts or demands auth for it, while another configured route passes it on."
            case .pacDirectBlocked: return "The PAC answers DIRECT for the endpoint but direct egress fails."
            case .exceptionDirectBlocked: return "An exception of the Windows proxy setting (MMD, Intune) sends the endpoint DIRECT but direct egress fails: remove the exception so devices use the proxy, or open direct egress."
            case .inspectionForbidden: return "An endpoint that does not support TLS inspection is intercepted on a route a device uses."
            case .authForbidden: return "An endpoint that must be reachable without proxy authentication gets 407 on a route a device uses."
            case .tls12Refused: return "The hop that terminates TLS on a route (an inspecting proxy, a proxy that filters TLS versions, or the origin) refuses a client offering only TLS 1.2 while TLS 1.3 works, for an endpoint whose list requires TLS 1.2 (`minTLS`)."
            case .optimizeNotDirect: return "A Microsoft 365 endpoint in the Optimize category goes through a proxy, or is TLS-inspected, on the route a device uses; the conflict says whether that route intercepts or authenticates it. Microsoft's connectivity principles want Optimize traffic to leave the network directly. Always a warning."
            }
        }
    }

    public enum Severity: String, Codable, Sendable, Comparable {
        case error, warning

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .error && rhs == .warning }
    }

    public struct EndpointRef: Codable, Sendable, Equatable {
        public var url: String
        public var host: String
        public var port: Int
    }

    /// The proxy that must change.
    public struct HopRef: Codable, Sendable, Equatable {
        public var name: String
        public var proxy: String?
        /// `squid`, `tinyproxy`, `pac` or `unknown`, from the evidence; decides the remediation's form.
        public var product: String
    }

    public var kind: Kind
    public var severity: Severity
    public var endpoint: EndpointRef
    /// Routes involved, in a stable order.
    public var routes: [String]
    public var hop: HopRef
    public var evidence: String
    public var explanation: String
    public var remediation: String
}
