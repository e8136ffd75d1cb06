import Foundation

/// The JSON contract of a check (schema in docs/report-schema.md). Everything else renders from this value.
public struct CheckReport: Codable, Sendable, Equatable {
    public static let schemaVersion = 1

    public var schemaVersion: Int
    public var tool: ToolInfo
    public var generatedAt: String
    public var durationSeconds: Double
    public var lists: [ListInfo]
    public var routes: [RouteInfo]
    public var settings: SettingsInfo
    public var skipped: [SkippedEntry]
    public var results: [ProbeResult]
    public var summary: Summary
    public var ready: Bool

    public struct ToolInfo: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public var libcurl: String
        public var tls: String
    }

    public struct ListInfo: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var file: String
        public var source: ListSource?
        public var contentHash: String
        public var services: Int
        public var endpoints: Int
    }

    /// A route as reported: never its credentials, only whether it has some and where they came from.
    public struct RouteInfo: Codable, Sendable, Equatable {
        public var name: String
        public var kind: ProxyKind
        public var proxy: String?
        public var authenticated: Bool
        public var credentialSource: String?
    }

    public struct SettingsInfo: Codable, Sendable, Equatable {
        public var concurrency: Int
        public var perProxy: Int
        public var timeoutSeconds: Double
        public var connectTimeoutSeconds: Double
        public var caBundle: String?
    }

    public struct Summary: Codable, Sendable, Equatable {
        public var targets: Int
        public var probes: Int
        /// Verdict name → count, over all routes.
        public var verdicts: [String: Int]
        public var routes: [RouteSummary]
        /// Required targets that are not allowed (or violate a policy) on some route.
        public var failingRequired: Int
        public var policyViolations: Int
    }

    public struct RouteSummary: Codable, Sendable, Equatable {
        public var route: String
        public var verdicts: [String: Int]
        public var failingRequired: Int
    }
}

/// One (route, target) outcome with its evidence.
public struct ProbeResult: Codable, Sendable, Equatable {
    public var route: String
    public var url: String
    public var host: String
    public var port: Int
    public var services: [String]
    public var requiredBy: [Requirement]
    public var required: Bool
    public var policy: [PolicyTag]
    public var policyProbe: Bool
    public var verdict: Verdict
    public var reason: String
    /// Policy tags of the target this route breaks (`noInspection` when intercepted, `noProxyAuth` when challenged).
    public var policyViolations: [PolicyTag]
    public var evidence: ReportedEvidence
    public var timings: ProbeTimings

    /// True when this result keeps a required target from being ready.
    public var failsRequirement: Bool {
        required && (verdict != .allowed || !policyViolations.isEmpty)
    }
}

/// The evidence that goes into reports: what libcurl said, the proxy's answers with selected headers, the certificate.
public struct ReportedEvidence: Codable, Sendable, Equatable {
    public var curlCode: Int
    public var curlMessage: String
    public var connectStatus: Int?
    public var httpStatus: Int?
    /// The proxy's answers to CONNECT and then the response heads, with the headers that identify who answered.
    public var responses: [ReportedResponse]
    public var proxyError: String?
    public var authChallenged: Bool
    public var authSchemes: [String]
    public var intercepted: Bool
    public var allowedByPolicyOnly: Bool
    public var certificate: CertificateEvidence?
    public var verifyResult: Int?
    /// The title or first line of a proxy-generated page, when one was served.
    public var proxyPage: String?

    public struct ReportedResponse: Codable, Sendable, Equatable {
        /// `connect` for answers to CONNECT, `response` otherwise.
        public var phase: String
        public var status: Int
        public var statusLine: String
        public var headers: [String: String]
    }

    /// Headers that say which box answered and why.
    public static let selectedHeaders = ["via", "x-squid-error", "proxy-agent", "server", "proxy-authenticate", "location", "x-cache"]
}
