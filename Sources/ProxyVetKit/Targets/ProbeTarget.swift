import Foundation

/// Which list and service asked for a target, and through which published entry.
public struct Requirement: Codable, Sendable, Hashable, Comparable {
    public var list: String
    public var service: String
    /// The entry as published (`*.manage.microsoft.com`), which may differ from the probed host.
    public var entry: String

    public static func < (lhs: Requirement, rhs: Requirement) -> Bool {
        (lhs.list, lhs.service, lhs.entry) < (rhs.list, rhs.service, rhs.entry)
    }
}

/// One URL to probe, with everything the lists say about it.
public struct ProbeTarget: Codable, Sendable, Equatable {
    public var url: String
    public var scheme: String
    public var host: String
    public var port: Int
    public var requiredBy: [Requirement]
    /// Required by at least one list; optional only if every list says optional.
    public var required: Bool
    public var policy: [PolicyTag]
    /// A synthesized name under a wildcard: what matters is the proxy's decision, the name need not exist.
    public var policyProbe: Bool
    /// The oldest TLS version devices use for it (`minTLS` of the lists and services that require it; the oldest
    /// wins): every path must accept a client that offers at most this version. nil: no TLS version check.
    public var minTLS: TLSVersion?
    /// Who sets `minTLS`: list names, with the service when the service sets its own (`Lab list (Intune)`).
    public var minTLSBy: [String] = []
    /// Issuer patterns the lists expect on this target's certificate.
    public var expectedIssuers: [String] = []
    /// Microsoft 365 endpoint-set categories (`Optimize`, `Allow`, `Default`) of the list entries that require this
    /// target, sorted; empty when no entry comes from an endpoint set.
    public var categories: [String] = []

    /// True when an entry that requires the target is in an Optimize endpoint set: Microsoft's connectivity principles
    /// want it to leave the network directly, without a proxy, TLS inspection or proxy authentication.
    public var isOptimize: Bool { categories.contains(Self.optimizeCategory) }

    /// The endpoint-set category of latency-sensitive Microsoft 365 traffic.
    public static let optimizeCategory = "Optimize"

    /// Service names for display, deduplicated.
    public var services: [String] {
        var seen = Set<String>()
        return requiredBy.map(\.service).filter { seen.insert($0).inserted }
    }
}

/// The targets of a check and the list entries that could not become targets.
public struct TargetPlan: Sendable, Equatable {
    public var targets: [ProbeTarget]
    public var skipped: [SkippedEntry]
}
