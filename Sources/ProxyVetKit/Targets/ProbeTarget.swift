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
    /// Issuer patterns the lists expect on this target's certificate.
    public var expectedIssuers: [String] = []

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
