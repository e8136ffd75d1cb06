import Foundation

/// What changed between two versions of a required-URL list: what a network team needs when Microsoft updates one.
///
/// Endpoints are compared by host (and path, when the list gives one), across services: a host that moved from one
/// service to another is one change (`services`), not a removal and an addition. Tags include the list's policies
/// (`noInspection`, `noProxyAuth`) as they apply to the host. IP address ranges are compared as sets.
public struct AllowListDiff: Codable, Sendable, Equatable {
    /// Which list a side of the diff is.
    public struct ListRef: Codable, Sendable, Equatable {
        public var name: String
        public var file: String
        /// The source's version, else its date, when the list records one.
        public var version: String?
        public var contentHash: String
        public var endpoints: Int
    }

    /// One host as a side of the diff lists it (merged over every service that names it).
    public struct EndpointState: Codable, Sendable, Equatable {
        public var host: String
        public var ports: [String]
        public var udpPorts: [String]
        public var required: Bool
        public var tags: [String]
        public var services: [String]
    }

    /// One field of one host that differs.
    public struct FieldChange: Codable, Sendable, Equatable {
        /// `ports`, `udpPorts`, `required`, `tags` or `services`.
        public var field: String
        public var old: String
        public var new: String
    }

    /// A host on both sides whose ports, tags, required flag or services differ.
    public struct ChangedEndpoint: Codable, Sendable, Equatable {
        public var host: String
        public var changes: [FieldChange]
    }

    public var old: ListRef
    public var new: ListRef
    public var added: [EndpointState]
    public var removed: [EndpointState]
    public var changed: [ChangedEndpoint]
    public var addressesAdded: [String]
    public var addressesRemoved: [String]
    public var unchanged: Int

    /// True when nothing a proxy or firewall rule depends on differs.
    public var isEmpty: Bool {
        added.isEmpty && removed.isEmpty && changed.isEmpty && addressesAdded.isEmpty && addressesRemoved.isEmpty
    }

    /// Compares two lists; `services: false` ignores which services name a host (for lists whose services were renamed).
    public static func compare(_ old: AllowList, _ new: AllowList, services compareServices: Bool = true) -> AllowListDiff {
        let before = states(old)
        let after = states(new)
        var added: [EndpointState] = []
        var removed: [EndpointState] = []
        var changed: [ChangedEndpoint] = []
        var unchanged = 0
        for key in Set(before.keys).union(after.keys).sorted() {
            switch (before[key], after[key]) {
            case let (nil, state?): added.append(state)
            case let (state?, nil): removed.append(state)
            case let (was?, now?):
                var changes: [FieldChange] = []
                func compare(_ field: String, _ a: String, _ b: String) {
                    if a != b { changes.append(FieldChange(field: field, old: a, new: b)) }
                }
                compare("ports", list(was.ports), list(now.ports))
                compare("udpPorts", list(was.udpPorts), list(now.udpPorts))
                compare("required", String(was.required), String(now.required))
                compare("tags", list(was.tags), list(now.tags))
                if compareServices { compare("services", list(was.services), list(now.services)) }
                if changes.isEmpty { unchanged += 1 } else { changed.append(ChangedEndpoint(host: key, changes: changes)) }
            case (nil, nil): break
            }
        }
        let oldRanges = Set(old.services.flatMap { $0.addresses?.ranges ?? [] })
        let newRanges = Set(new.services.flatMap { $0.addresses?.ranges ?? [] })
        return AllowListDiff(old: ref(old, endpoints: before.count), new: ref(new, endpoints: after.count), added: added, removed: removed,
                             changed: changed, addressesAdded: newRanges.subtracting(oldRanges).sorted(),
                             addressesRemoved: oldRanges.subtracting(newRanges).sorted(), unchanged: unchanged)
    }

    private static func list(_ items: [String]) -> String { items.isEmpty ? "none" : items.joined(separator: ", ") }

    private static func ref(_ list: AllowList, endpoints: Int) -> ListRef {
        ListRef(name: list.name, file: list.file, version: list.source?.version ?? list.source?.date, contentHash: list.contentHash,
                endpoints: endpoints)
    }

    /// Every host of a list, merged over its services.
    static func states(_ list: AllowList) -> [String: EndpointState] {
        var result: [String: EndpointState] = [:]
        for service in list.services {
            for endpoint in service.endpoints {
                let key = endpoint.path == "/" ? endpoint.host : endpoint.host + endpoint.path
                let ports = endpoint.ports.map { PortRange($0) } + endpoint.portRanges
                let tags = list.tags(for: endpoint, probedHost: endpoint.host).map(\.rawValue)
                var state = result[key] ?? EndpointState(host: key, ports: [], udpPorts: [], required: false, tags: [], services: [])
                state.ports = Array(Set(state.ports.compactMap(PortRange.parse) + ports)).sorted().map(\.description)
                state.udpPorts = Array(Set(state.udpPorts.compactMap(PortRange.parse) + endpoint.udpPorts)).sorted().map(\.description)
                state.required = state.required || endpoint.required
                state.tags = Array(Set(state.tags + tags)).sorted()
                state.services = Array(Set(state.services + [service.name])).sorted()
                result[key] = state
            }
        }
        return result
    }

    /// Deterministic JSON (sorted keys), for tickets and scripts.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// The diff in words, one line per endpoint.
    public func text() -> String {
        func describe(_ ref: ListRef) -> String {
            "\(ref.name) (\(ref.file)\(ref.version.map { ", version \($0)" } ?? ""), sha256 \(ref.contentHash.prefix(12)), \(ref.endpoints) endpoints)"
        }
        func summary(_ state: EndpointState) -> String {
            var parts = [state.ports.isEmpty ? nil : "TCP " + state.ports.joined(separator: ", "),
                         state.udpPorts.isEmpty ? nil : "UDP " + state.udpPorts.joined(separator: ", ")].compactMap { $0 }
            parts.append(state.required ? "required" : "optional")
            if !state.tags.isEmpty { parts.append("tags " + state.tags.joined(separator: ", ")) }
            parts.append("in " + state.services.joined(separator: "; "))
            return parts.joined(separator: "; ")
        }
        var lines = ["old: " + describe(old), "new: " + describe(new)]
        if isEmpty {
            lines.append("No differences (\(unchanged) endpoints unchanged).")
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append("\(added.count) added, \(removed.count) removed, \(changed.count) changed, \(unchanged) unchanged"
            + (addressesAdded.isEmpty && addressesRemoved.isEmpty ? "" : "; IP ranges \(addressesAdded.count) added, \(addressesRemoved.count) removed"))
        if !added.isEmpty {
            lines.append("")
            lines.append("Added:")
            lines += added.map { "  + \($0.host)  (\(summary($0)))" }
        }
        if !removed.isEmpty {
            lines.append("")
            lines.append("Removed:")
            lines += removed.map { "  - \($0.host)  (\(summary($0)))" }
        }
        if !changed.isEmpty {
            lines.append("")
            lines.append("Changed:")
            for endpoint in changed {
                let what = endpoint.changes.map { "\($0.field) \($0.old) -> \($0.new)" }.joined(separator: "; ")
                lines.append("  ~ \(endpoint.host): \(what)")
            }
        }
        if !addressesAdded.isEmpty || !addressesRemoved.isEmpty {
            lines.append("")
            lines.append("IP ranges:")
            lines += addressesAdded.map { "  + \($0)" }
            lines += addressesRemoved.map { "  - \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
