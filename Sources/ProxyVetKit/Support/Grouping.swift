extension Sequence {
    /// The elements grouped by `key`, groups and their members in first-seen order: how reports fold hundreds of
    /// results that failed the same way into one line.
    func groupedInOrder(by key: (Element) -> String) -> [(key: String, members: [Element])] {
        var groups: [(key: String, members: [Element])] = []
        var position: [String: Int] = [:]
        for element in self {
            let name = key(element)
            if let index = position[name] {
                groups[index].members.append(element)
            } else {
                position[name] = groups.count
                groups.append((name, [element]))
            }
        }
        return groups
    }
}

extension ProbeResult {
    /// What went wrong, as reports group failures: `blocked`, `tls_intercepted (violates noInspection)`.
    var failureKey: String {
        verdict.rawValue + (policyViolations.isEmpty ? "" : " (violates \(policyViolations.map(\.rawValue).joined(separator: ", ")))")
    }
}
