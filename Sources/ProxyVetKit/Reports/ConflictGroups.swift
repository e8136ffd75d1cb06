import Foundation

/// Conflicts grouped the way a network team works them: by the proxy that must change, then by kind.
public struct ConflictGroups: Sendable {
    public struct KindGroup: Sendable {
        public var kind: Conflict.Kind
        public var severity: Conflict.Severity
        public var conflicts: [Conflict]
    }

    public var hop: Conflict.HopRef
    public var conflicts: [Conflict]
    public var byKind: [KindGroup]

    /// Hops with errors first, then by number of conflicts, then by name.
    public static func byHop(_ conflicts: [Conflict]) -> [ConflictGroups] {
        var order: [String] = []
        var grouped: [String: [Conflict]] = [:]
        for conflict in conflicts {
            if grouped[conflict.hop.name] == nil { order.append(conflict.hop.name) }
            grouped[conflict.hop.name, default: []].append(conflict)
        }
        let groups = order.compactMap { name -> ConflictGroups? in
            guard let mine = grouped[name], let hop = mine.first?.hop else { return nil }
            var kinds: [KindGroup] = []
            for conflict in mine {
                if let index = kinds.firstIndex(where: { $0.kind == conflict.kind }) {
                    kinds[index].conflicts.append(conflict)
                    kinds[index].severity = min(kinds[index].severity, conflict.severity)
                } else {
                    kinds.append(KindGroup(kind: conflict.kind, severity: conflict.severity, conflicts: [conflict]))
                }
            }
            return ConflictGroups(hop: hop, conflicts: mine, byKind: kinds.sorted { ($0.severity, $0.kind.rawValue) < ($1.severity, $1.kind.rawValue) })
        }
        return groups.sorted { lhs, rhs in
            let lhsErrors = lhs.conflicts.filter { $0.severity == .error }.count
            let rhsErrors = rhs.conflicts.filter { $0.severity == .error }.count
            return (-lhsErrors, -lhs.conflicts.count, lhs.hop.name) < (-rhsErrors, -rhs.conflicts.count, rhs.hop.name)
        }
    }
}
