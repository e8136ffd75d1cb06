import Foundation

/// The compact text printed at the end of `proxyvet check`: readiness, per-route counts, failing required endpoints.
public enum ConsoleSummary {
    /// Most groups of failures listed per route.
    public static let listLimit = 15
    /// Example URLs shown per group.
    public static let examplesPerGroup = 3

    public static func render(_ report: CheckReport) -> String {
        var lines: [String] = []
        let verdictLine = report.ready ? "READY" : "NOT READY"
        lines.append("ProxyVet \(report.tool.version) (libcurl \(report.tool.libcurl)): \(verdictLine)")
        lines.append("\(report.summary.targets) targets × \(report.routes.count) route\(report.routes.count == 1 ? "" : "s") = \(report.summary.probes) probes in \(String(format: "%.1f", report.durationSeconds)) s; "
            + "\(report.summary.failingRequired) required targets failing, \(report.summary.policyViolations) policy violations")
        lines += conflictLines(report)
        if let note = report.weaklyAllowedNote { lines.append(sanitize(note)) }
        if !report.skipped.isEmpty {
            lines.append("\(report.skipped.count) list entries skipped (see the report): \(report.skipped.prefix(3).map { "\($0.entry): \($0.reason)" }.joined(separator: "; "))")
        }
        for route in report.summary.routes {
            let info = report.routes.first { $0.name == route.route }
            let proxy = info?.proxy ?? "no proxy"
            let counts = Verdict.allCases.compactMap { verdict in route.verdicts[verdict.rawValue].map { "\(verdict.rawValue) \($0)" } }
            lines.append("")
            lines.append("route \(route.route) (\(proxy)\(info?.authenticated == true ? ", with credentials" : "")): \(counts.joined(separator: ", "))")
            // Grouped by what went wrong, so 300 endpoints refused the same way read as one finding.
            let failing = report.results.filter { $0.route == route.route && $0.blocksReadiness }
            let groups = failing.groupedInOrder(by: \.failureKey).map { (key: $0.key, results: $0.members) }
            for group in groups.prefix(listLimit) {
                let examples = group.results.prefix(examplesPerGroup).map(\.url).joined(separator: ", ")
                let more = group.results.count > examplesPerGroup ? ", …" : ""
                lines.append("  \(pad(group.key, 20)) \(group.results.count) required: \(examples)\(more)")
                // The example reason comes from a default-port target when there is one: it is the typical case.
                if let example = group.results.first(where: { $0.port == 443 || $0.port == 80 }) ?? group.results.first {
                    lines.append("      e.g. \(sanitize(example.reason))")
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Conflicts grouped by the hop that must change, then by kind: count, examples and one fix.
    static func conflictLines(_ report: CheckReport) -> [String] {
        guard !report.conflicts.isEmpty else { return [] }
        var lines = ["", "Conflicts: \(report.summary.conflictErrors) errors, \(report.conflictWarnings) warnings — by the proxy that must change:"]
        for group in ConflictGroups.byHop(report.conflicts) {
            lines.append("  \(group.hop.name)\(group.hop.proxy.map { " (\($0))" } ?? "")\(group.hop.product == "unknown" ? "" : ", \(group.hop.product)"): \(group.conflicts.count)")
            for kind in group.byKind {
                let examples = kind.conflicts.prefix(examplesPerGroup).map(\.endpoint.url).joined(separator: ", ")
                let more = kind.conflicts.count > examplesPerGroup ? ", …" : ""
                lines.append("    \(pad(kind.kind.rawValue, 22)) \(kind.conflicts.count) \(kind.severity.rawValue)\(kind.conflicts.count == 1 ? "" : "s"): \(examples)\(more)")
                if let first = kind.conflicts.first {
                    lines.append("      \(sanitize(first.explanation))")
                    for fix in first.remediation.split(separator: "\n").prefix(4) { lines.append("      fix: \(sanitize(String(fix)))") }
                }
            }
        }
        return lines
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Control characters from a proxy's answer never reach the terminal.
    public static func sanitize(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
    }
}
