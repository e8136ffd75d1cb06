import Foundation

/// What a list holds and what a check would do with it: counts, corrections, skipped entries and the names probed
/// for each wildcard. The value behind `proxyvet allowlist show` and `validate`.
public struct AllowListSummary: Codable, Sendable, Equatable {
    /// A wildcard entry and the names a check probes for it.
    public struct Wildcard: Codable, Sendable, Equatable {
        public var entry: String
        public var service: String
        /// `samples` (real names from the list) or `policyProbe` (a synthesized name: the proxy's decision is what counts).
        public var strategy: String
        public var probed: [String]
    }

    public var id: String
    public var name: String
    public var file: String
    public var format: ListFormat
    public var source: ListSource?
    public var contentHash: String
    public var services: Int
    public var endpoints: Int
    /// Endpoints that are wildcards.
    public var wildcards: Int
    /// IP address ranges (firewall requirements).
    public var addressRanges: Int
    /// Distinct URLs a check probes.
    public var targets: Int
    /// Targets that are synthesized policy-probe names.
    public var policyProbes: Int
    public var skipped: Int
    /// Skip kind → count.
    public var skippedByKind: [String: Int]
    public var corrections: Int
    /// Correction kind → count.
    public var correctionsByKind: [String: Int]
    /// Hosts listed in more than one service (kept in each; probed once).
    public var hostsInSeveralServices: [String]
    /// Endpoint-set category → number of services (Microsoft 365 / Intune tables).
    public var categories: [String: Int]
    public var wildcardProbes: [Wildcard]
    public var skippedEntries: [SkippedEntry]
    public var correctionEntries: [Correction]

    /// Summarises one list as a check with `tenant` would plan it.
    public static func of(_ list: AllowList, tenant: String? = nil) -> AllowListSummary {
        let plan = TargetPlanner(tenant: tenant).plan([list])
        let endpoints = list.services.flatMap(\.endpoints)
        var servicesByHost: [String: Set<String>] = [:]
        for service in list.services {
            for endpoint in service.endpoints { servicesByHost[endpoint.host, default: []].insert(service.name) }
        }
        var categories: [String: Int] = [:]
        for case let category? in list.services.map({ $0.endpointSet?.category }) { categories[category, default: 0] += 1 }
        var wildcards: [Wildcard] = []
        for service in list.services {
            for endpoint in service.endpoints where endpoint.isWildcard {
                let probed = plan.targets.filter { $0.requiredBy.contains { $0.service == service.name && $0.entry == endpoint.host } }
                guard !probed.isEmpty else { continue }
                let hosts = Array(Set(probed.map(\.host))).sorted()
                wildcards.append(Wildcard(entry: endpoint.host, service: service.name,
                                          strategy: endpoint.samples.isEmpty ? "policyProbe" : "samples", probed: hosts))
            }
        }
        return AllowListSummary(
            id: list.id, name: list.name, file: list.file, format: list.format, source: list.source, contentHash: list.contentHash,
            services: list.services.count, endpoints: endpoints.count, wildcards: endpoints.filter(\.isWildcard).count,
            addressRanges: list.services.reduce(0) { $0 + ($1.addresses?.ranges.count ?? 0) },
            targets: plan.targets.count, policyProbes: plan.targets.filter(\.policyProbe).count,
            skipped: plan.skipped.count,
            skippedByKind: Dictionary(grouping: plan.skipped, by: { $0.kind?.rawValue ?? "other" }).mapValues(\.count),
            corrections: list.corrections.count,
            correctionsByKind: Dictionary(grouping: list.corrections, by: { $0.kind.rawValue }).mapValues(\.count),
            hostsInSeveralServices: servicesByHost.filter { $0.value.count > 1 }.keys.sorted(),
            categories: categories, wildcardProbes: wildcards, skippedEntries: plan.skipped, correctionEntries: list.corrections)
    }

    /// Deterministic JSON (sorted keys).
    public static func json(_ summaries: [AllowListSummary]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(summaries), as: UTF8.self) + "\n"
    }

    /// The counts in one line: `12 services, 80 endpoints, 75 targets (9 policy probes), 6 skipped`.
    public var countsLine: String {
        "\(services) services, \(endpoints) endpoints (\(wildcards) wildcards), \(addressRanges) IP ranges, "
            + "\(targets) probe targets (\(policyProbes) policy probes), \(skipped) skipped, \(corrections) corrections"
    }

    /// The summary in words. `detail` lists every endpoint, correction and skipped entry.
    public func text(list: AllowList, detail: Bool) -> String {
        var lines: [String] = []
        lines.append("\(name) [\(id)] (\(file), \(format.rawValue))")
        if let source {
            let parts = [source.title, source.url, source.repository.map { "repo \($0)" }, source.path, source.commit.map { "commit \($0)" },
                         source.version.map { "version \($0)" }, source.date.map { "date \($0)" }].compactMap { $0 }
            if !parts.isEmpty { lines.append("  source: " + parts.joined(separator: ", ")) }
        }
        lines.append("  sha256: \(contentHash)")
        lines.append("  " + countsLine)
        if !categories.isEmpty {
            lines.append("  endpoint-set categories: " + categories.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !skippedByKind.isEmpty {
            lines.append("  skipped by reason:")
            for kind in SkipKind.allCases {
                if let count = skippedByKind[kind.rawValue] { lines.append("    \(count) \(kind.label)") }
            }
        }
        if !correctionsByKind.isEmpty {
            lines.append("  corrections:")
            for kind in Correction.Kind.allCases {
                if let count = correctionsByKind[kind.rawValue] { lines.append("    \(count) \(kind.label)") }
            }
        }
        if !hostsInSeveralServices.isEmpty {
            lines.append("  \(hostsInSeveralServices.count) hosts are listed in more than one service (probed once): "
                + hostsInSeveralServices.prefix(detail ? Int.max : 5).joined(separator: ", ") + (detail || hostsInSeveralServices.count <= 5 ? "" : ", ..."))
        }
        guard detail else { return lines.joined(separator: "\n") + "\n" }
        lines.append("")
        for service in list.services {
            var head = "  \(service.name)"
            if let set = service.endpointSet {
                let facts = ["ID \(set.id)", set.category, set.required.map { $0 ? "required" : "optional" },
                             set.expressRoute.map { "ER \($0 ? "yes" : "no")" }].compactMap { $0 }
                head += " (" + facts.joined(separator: ", ") + ")"
            }
            lines.append(head)
            if let notes = service.notes, service.endpointSet != nil { lines.append("    notes: \(notes)") }
            for endpoint in service.endpoints {
                var parts: [String] = []
                let tcp = endpoint.ports.map(String.init) + endpoint.portRanges.map(\.description)
                if !tcp.isEmpty { parts.append("TCP " + tcp.joined(separator: ", ")) }
                if !endpoint.udpPorts.isEmpty { parts.append("UDP " + endpoint.udpPorts.map(\.description).joined(separator: ", ")) }
                if let scheme = endpoint.scheme { parts.append(scheme) }
                if endpoint.path != "/" { parts.append("path \(endpoint.path)") }
                parts.append(endpoint.required ? "required" : "optional")
                let tags = list.tags(for: endpoint, probedHost: endpoint.host)
                if !tags.isEmpty { parts.append("tags " + tags.map(\.rawValue).joined(separator: ", ")) }
                lines.append("    \(endpoint.host)  " + parts.joined(separator: "; "))
            }
            if let addresses = service.addresses {
                lines.append("    IP ranges (\(addresses.ranges.count)): " + addresses.ranges.joined(separator: ", "))
            }
        }
        if !wildcardProbes.isEmpty {
            lines.append("")
            lines.append("  Wildcards and the names probed for them:")
            for wildcard in wildcardProbes {
                let how = wildcard.strategy == "samples" ? "samples" : "policy probe (a proxy's \"cannot resolve\" counts as allowed by policy)"
                lines.append("    \(wildcard.entry) (\(wildcard.service)): \(wildcard.probed.joined(separator: ", ")) [\(how)]")
            }
        }
        if !correctionEntries.isEmpty {
            lines.append("")
            lines.append("  Corrections:")
            for correction in correctionEntries {
                let place = correction.line.map { "line \($0): " } ?? ""
                lines.append("    \(place)\(correction.kind.rawValue): \(AllowListWriter.oneLine(correction.original)) -> "
                    + (correction.result.isEmpty ? "dropped" : correction.result) + " (\(correction.service))")
            }
        }
        if !skippedEntries.isEmpty {
            lines.append("")
            lines.append("  Skipped:")
            for entry in skippedEntries { lines.append("    \(entry.entry) (\(entry.service)): \(entry.reason)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
