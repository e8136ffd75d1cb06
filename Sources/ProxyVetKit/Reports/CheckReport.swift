import Foundation

/// The JSON contract of a check (schema in docs/report-schema.md). Everything else renders from this value; its JSON
/// form (`CheckReport+Codable.swift`) stores what results share once.
public struct CheckReport: Sendable, Equatable {
    /// The schema version written; reports of versions 1 and 2 are still read.
    public static let schemaVersion = 3

    /// The schema version the report was written with (a report read from an older file keeps its version).
    public var schemaVersion: Int
    public var tool: ToolInfo
    public var generatedAt: String
    public var durationSeconds: Double
    public var lists: [ListInfo]
    public var routes: [RouteInfo]
    public var settings: SettingsInfo
    public var skipped: [SkippedEntry]
    /// What each route's proxies said about themselves before probing: the voice later answers are compared with.
    public var calibration: [ProxyVoice]?
    /// Where devices send each endpoint (PAC, default route, environment or the Windows proxy setting); absent when not declared.
    public var devices: DeviceRoutingInfo?
    public var results: [ProbeResult]
    /// Conflicts, errors first, grouped by the hop that must change.
    public var conflicts: [Conflict]
    public var summary: Summary
    public var ready: Bool
    /// The rule `ready` was decided by, in words.
    public var readinessRule: String
    /// Changes since the previous run and the pinned baseline; only with `--history` (absent otherwise).
    public var changes: RunChanges? = nil

    /// Conflicts of severity `warning`: the summary's count, or for an older report the conflicts that are not errors.
    public var conflictWarnings: Int { summary.conflictWarnings ?? conflicts.count - summary.conflictErrors }

    /// Results said `allowed` with low confidence: an answer came, but nothing proves the origin gave it.
    public var weaklyAllowed: [ProbeResult] { results.filter { $0.verdict == .allowed && $0.confidence == .low } }

    /// One line about weakly allowed results, or nil when there are none.
    public var weaklyAllowedNote: String? {
        let weak = weaklyAllowed
        guard !weak.isEmpty else { return nil }
        return "\(weak.count) allowed result\(weak.count == 1 ? " rests" : "s rest") on low confidence (a plain-http answer no proxy voice or signature claimed, with no TLS or other-route reference to prove the origin gave it), e.g. \(weak[0].route) \(weak[0].url)"
    }

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
        /// The list's `minTLS` (`1.2`): the oldest TLS version its devices use; absent without one.
        public var minTLS: TLSVersion? = nil
    }

    /// A route as reported: never its credentials, only whether it has some and where they came from.
    public struct RouteInfo: Codable, Sendable, Equatable {
        public var name: String
        public var kind: ProxyKind
        public var proxy: String?
        public var authenticated: Bool
        public var credentialSource: String?
        /// `configured`, or `pac` for an address only the PAC named.
        public var origin: RouteOrigin
        /// The hops a request crosses, this route first (more than one for a chain).
        public var chain: [String]
        public var groups: [String]
        /// `device` (devices use it), `entry` (probed as a way out), or `hop` (only another proxy's upstream).
        public var role: String
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
        /// Conflict kind → count.
        public var conflicts: [String: Int]
        public var conflictErrors: Int
        /// Conflicts of severity `warning` (they never change readiness); absent in reports written before it was counted.
        public var conflictWarnings: Int? = nil
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
    /// Where in the probe the verdict was decided (`before_answer`, `refused`, `upstream_reported`, `tunnel_up`,
    /// `target_tls`): what the proxy's action and the attribution read. Absent in reports written before it was
    /// recorded (schema 1 and 2); every result of a run has one.
    public var phase: DecisionPhase?
    /// How sure the verdict is (`high`, `medium`, `low`); the reason says what it rests on.
    public var confidence: Confidence?
    /// When routes disagree on this URL and this answer is the odd one: what the others got.
    public var comparison: String?
    /// Policy tags of the target this route breaks (`noInspection` when intercepted, `noProxyAuth` when challenged).
    public var policyViolations: [PolicyTag]
    /// The hop that decided a failing result and how that is known; absent for clean results.
    public var decidedBy: HopAttribution?
    /// For a route that a PAC (or default/environment) answer names for this target: the answer and this route's place in it.
    public var pac: PACRouteInfo?
    public var evidence: ReportedEvidence
    public var timings: ProbeTimings
    /// The second probe that offered only TLS 1.2 (the target's list sets `minTLS: "1.2"` and the route was sampled):
    /// whether the hop that terminates the target's TLS accepts it. Never changes the verdict; absent when not probed.
    public var tls12: TLSVersionProbe? = nil

    /// Whether this result counts for readiness (the route a device uses for it, or a route that is not only another
    /// proxy's upstream); absent in reports written before it was recorded, where every result counted.
    public var decidesReadiness: Bool?

    /// True when this result is a required target that is not ready on this route.
    public var failsRequirement: Bool {
        required && (verdict != .allowed || !policyViolations.isEmpty)
    }

    /// True when this result keeps the run from being ready: it fails a requirement on a route that decides readiness.
    public var blocksReadiness: Bool { failsRequirement && decidesReadiness != false }
}

/// A route's place in a device's answer for one target.
public struct PACRouteInfo: Codable, Sendable, Equatable {
    public var answer: String
    /// 1 for the first alternative.
    public var position: Int
}

/// The device routing of a check, per endpoint.
public struct DeviceRoutingInfo: Codable, Sendable, Equatable {
    /// `pac`, `default`, `environment` or `windows`.
    public var source: String
    public var pac: String?
    public var endpoints: [EndpointRoute]

    public struct EndpointRoute: Codable, Sendable, Equatable {
        public var url: String
        public var answer: String
        public var alternatives: [String]
        /// The first alternative that could be reached: the route a device ends up on.
        public var usedRoute: String?
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
    /// The host a proxy's error page says generated it (Squid: "Generated ... by HOST (squid/...)").
    public var generatedBy: String?
    /// Via pseudonyms on the final answer, in header order.
    public var via: [String]
    /// Who answered, when a proxy's own answer was recognised: a product signature, Squid's error tag or a proxy's voice.
    public var answeredBy: String?
    /// The product and signature id when a known product's page matched.
    public var product: String?
    public var signature: String?
    /// The SOCKS failure libcurl reported (CURLINFO_PROXY_ERROR, a CURLPX_* number); absent when none.
    public var proxyReply: Int?
    /// An https proxy's own certificate verify result (CURLINFO_PROXY_SSL_VERIFYRESULT); absent for other proxies.
    public var proxyVerifyResult: Int?
    /// The TLS version negotiated with the target, or with the inspecting proxy that terminated it (`TLSv1.3`).
    public var tlsVersion: String? = nil
    /// The cipher suite of that session (`TLS_AES_256_GCM_SHA384`).
    public var tlsCipher: String? = nil

    public struct ReportedResponse: Codable, Sendable, Hashable {
        /// `connect` for answers to CONNECT, `response` otherwise.
        public var phase: String
        public var status: Int
        public var statusLine: String
        public var headers: [String: String]
    }

    /// Headers that say which box answered and why.
    public static let selectedHeaders = ["via", "x-squid-error", "proxy-agent", "server", "proxy-authenticate", "location", "x-cache"]
}
