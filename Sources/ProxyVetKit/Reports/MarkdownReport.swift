import Foundation

/// Markdown for a ticket: a short summary fit for pasting into a ticket comment (readiness, what changed, the top
/// conflicts by the proxy that must change, failing required endpoints by verdict), then a longer appendix (per-route
/// counts, every change, every conflict with its fix, every failing required endpoint, the environment).
public enum MarkdownReport {
    /// Items listed per kind in the summary; the appendix lists everything.
    public static let summaryItems = 5

    /// The summary, a rule, then the appendix.
    public static func render(_ report: CheckReport) -> String {
        summary(report) + "\n---\n\n" + appendix(report)
    }

    /// The part for a ticket comment: a handful of lines, every number and the worst examples.
    public static func summary(_ report: CheckReport) -> String {
        var out: [String] = []
        let failing = report.results.filter(\.blocksReadiness)
        out.append("# ProxyVet: \(report.ready ? "READY" : "NOT READY")")
        out.append("")
        out.append("- \(report.summary.targets) targets × \(report.routes.count) route\(report.routes.count == 1 ? "" : "s"), \(report.summary.probes) probes: "
            + "\(report.summary.failingRequired) required targets failing, \(report.summary.policyViolations) policy violations, "
            + "\(report.summary.conflictErrors) error conflicts, \(report.conflictWarnings) warnings.")
        if let note = report.weaklyAllowedNote { out.append("- \(cell(note)).") }
        out.append("- Run \(cell(report.generatedAt))\(report.changes.map { " (history run \($0.run))" } ?? "") in "
            + "\(String(format: "%.1f", report.durationSeconds)) s with ProxyVet \(cell(report.tool.version)), libcurl \(cell(report.tool.libcurl)). "
            + "Lists: " + report.lists.map { "\(cell($0.name)) (\(cell($0.source?.date ?? "no date")), sha256 \($0.contentHash.prefix(12)))" }.joined(separator: "; ") + ".")
        if let changes = report.changes {
            for (title, comparison) in [("Since the previous run", changes.sincePrevious), ("Since the baseline", changes.sinceBaseline)] {
                guard let comparison else { continue }
                out.append("- **\(title)** (run \(comparison.against.run), \(cell(comparison.against.generatedAt)), "
                    + "\(comparison.against.ready ? "ready" : "not ready")): \(cell(comparison.headline)).")
                for line in changeGroups(comparison).prefix(summaryItems) { out.append("  - " + line) }
                for (title, conflicts) in [("new conflicts", comparison.newConflicts), ("resolved conflicts", comparison.resolvedConflicts)] where !conflicts.isEmpty {
                    let counts = conflicts.groupedInOrder { "\($0.kind) at \($0.hop)" }
                    out.append("  - \(title): " + counts.prefix(4).map { "\(cell($0.key)) ×\($0.members.count)" }.joined(separator: ", ") + (counts.count > 4 ? ", …" : ""))
                }
            }
        }
        let groups = ConflictGroups.byHop(report.conflicts)
        if !groups.isEmpty {
            out.append("- **Conflicts by the proxy that must change** (\(report.summary.conflictErrors) errors, "
                + "\(report.conflictWarnings) warnings):")
            for group in groups.prefix(3) {
                let kinds = group.byKind.map { "\($0.kind.rawValue) ×\($0.conflicts.count) \($0.severity.rawValue)" }.joined(separator: ", ")
                out.append("  - \(cell(group.hop.name))\(group.hop.proxy.map { " (\(cell($0)))" } ?? ""): \(kinds). "
                    + "\(cell(shortened(group.byKind.first?.conflicts.first?.explanation ?? "")))")
            }
            if groups.count > 3 { out.append("  - … \(groups.count - 3) more proxies (appendix)") }
        }
        if !failing.isEmpty {
            // Grouped by what went wrong across routes, biggest first: 600 endpoints refused the same way read as one finding.
            var groups = failing.groupedInOrder(by: \.failureKey).map { (key: $0.key, results: $0.members) }
            groups.sort { ($0.results.count, $1.key) > ($1.results.count, $0.key) }
            out.append("- **Failing required endpoints** by verdict (\(failing.count) route × endpoint results):")
            for group in groups.prefix(summaryItems) {
                let routes = routeCounts(group.results.map(\.route))
                let example = group.results.first { $0.port == 443 || $0.port == 80 } ?? group.results[0]
                out.append("  - \(cell(group.key)) ×\(group.results.count) (\(routes)), e.g. \(cell(example.url)): \(cell(shortened(example.reason)))")
            }
            if groups.count > summaryItems { out.append("  - … \(groups.count - summaryItems) more verdicts (appendix)") }
        }
        out.append("")
        out.append("Details: the appendix below, and the HTML and JSON reports of this run.")
        out.append("")
        return out.joined(separator: "\n")
    }

    /// `edge 25, branch 25, tiny 25`: how many of a group each route has, in first-seen order, four at most.
    static func routeCounts(_ routes: [String]) -> String {
        let perRoute = routes.groupedInOrder { $0 }
        return perRoute.prefix(4).map { "\(cell($0.key)) \($0.members.count)" }.joined(separator: ", ") + (perRoute.count > 4 ? ", …" : "")
    }

    /// Result changes grouped the way they happen (one ACL line moves many endpoints the same way):
    /// `newly failing, allowed → blocked ×75 (edge 25, branch 25, tiny 25), e.g. URL, URL`. Required ones first.
    static func changeGroups(_ comparison: RunComparison) -> [String] {
        let kinds = [("newly failing", comparison.newlyFailing), ("verdict changed", comparison.verdictChanged), ("recovered", comparison.recovered)]
        let changes = kinds.flatMap { kind, list in
            list.sorted(by: { ($0.required ? 0 : 1) < ($1.required ? 0 : 1) }).map { (kind: kind, change: $0) }
        }
        let groups = changes.groupedInOrder { "\($0.kind)\($0.change.required ? "" : " (optional)"), \($0.change.transition)" }
            .map { (key: $0.key, changes: $0.members.map(\.change)) }
        return groups.map { group in
            let routes = routeCounts(group.changes.map(\.route))
            var examples: [String] = []
            for change in group.changes where !examples.contains(change.url) && examples.count < 2 { examples.append(change.url) }
            return "\(cell(group.key)) ×\(group.changes.count) (\(routes)), e.g. " + examples.map(cell).joined(separator: ", ")
        }
    }

    /// A reason cut to one readable line for the summary (the appendix has it whole).
    static func shortened(_ text: String, limit: Int = 180) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// Everything behind the summary.
    public static func appendix(_ report: CheckReport) -> String {
        var out: [String] = []
        out.append("## Appendix")
        out.append("")
        out.append("### Routes")
        out.append("")
        out.append("| Route | Proxy | " + Verdict.allCases.map(\.rawValue).joined(separator: " | ") + " |")
        out.append("|---|---|" + Verdict.allCases.map { _ in "---:" }.joined(separator: "|") + "|")
        for route in report.summary.routes {
            let info = report.routes.first { $0.name == route.route }
            let counts = Verdict.allCases.map { String(route.verdicts[$0.rawValue] ?? 0) }
            out.append("| \(cell(route.route)) | \(cell(info?.proxy ?? "direct")) | " + counts.joined(separator: " | ") + " |")
        }
        if let calibration = report.calibration, !calibration.isEmpty {
            out.append("")
            out.append("### How each proxy answers for itself (calibration)")
            out.append("")
            out.append("| Route | Calibration | What the proxy said |")
            out.append("|---|---|---|")
            for voice in calibration {
                out.append("| \(cell(voice.route)) | \(cell(voice.status.rawValue)) (\(voice.requests) requests) | \(cell(shortened(voice.note, limit: 400))) |")
            }
        }
        if let changes = report.changes {
            for (title, comparison) in [("previous run", changes.sincePrevious), ("baseline", changes.sinceBaseline)] {
                guard let comparison, !comparison.isEmpty else { continue }
                out.append("")
                out.append("### Changes since the \(title) (run \(comparison.against.run), \(cell(comparison.against.generatedAt)))")
                out.append("")
                out.append("| Change | Route | URL | Required | Was | Now | Reason now |")
                out.append("|---|---|---|---|---|---|---|")
                for (kind, list) in [("newly failing", comparison.newlyFailing), ("verdict changed", comparison.verdictChanged), ("recovered", comparison.recovered)] {
                    for change in list {
                        out.append("| \(kind) | \(cell(change.route)) | \(cell(change.url)) | \(change.required ? "yes" : "no") | \(cell(change.fromState)) | \(cell(change.toState)) | \(cell(change.reason)) |")
                    }
                }
                for (kind, list) in [("new conflict", comparison.newConflicts), ("resolved conflict", comparison.resolvedConflicts)] {
                    for conflict in list {
                        out.append("| \(kind) | \(cell(conflict.routes.joined(separator: ", "))) | \(cell(conflict.url)) | \(cell(conflict.severity)) | | \(cell(conflict.kind + " at " + conflict.hop)) | \(cell(conflict.explanation)) |")
                    }
                }
                for list in comparison.listsChanged {
                    out.append("| list changed | | \(cell(list.name)) | | \(cell(list.fromDate ?? list.fromHash.map { String($0.prefix(12)) } ?? "not probed")) | \(cell(list.toDate ?? list.toHash.map { String($0.prefix(12)) } ?? "not probed")) | |")
                }
            }
        }
        if !report.conflicts.isEmpty {
            out.append("")
            out.append("### Conflicts by the proxy that must change (\(report.summary.conflictErrors) errors, \(report.conflictWarnings) warnings)")
            for group in ConflictGroups.byHop(report.conflicts) {
                out.append("")
                out.append("#### \(cell(group.hop.name))\(group.hop.proxy.map { " (\(cell($0)))" } ?? "")")
                out.append("")
                out.append("| Kind | Severity | Endpoints | Example |")
                out.append("|---|---|---:|---|")
                for kind in group.byKind {
                    out.append("| \(kind.kind.rawValue) | \(kind.severity.rawValue) | \(kind.conflicts.count) | \(cell(kind.conflicts.first?.explanation ?? "")) |")
                }
                for kind in group.byKind {
                    guard let fix = kind.conflicts.first?.remediation else { continue }
                    out.append("")
                    out.append("Fix for \(kind.kind.rawValue) (e.g. \(cell(kind.conflicts.first?.endpoint.url ?? ""))):")
                    out.append("")
                    out.append("```")
                    out.append(fix.replacingOccurrences(of: "```", with: "` ` `"))
                    out.append("```")
                }
            }
        }
        let failing = report.results.filter(\.blocksReadiness)
        if !failing.isEmpty {
            out.append("")
            out.append("### Failing required endpoints")
            out.append("")
            out.append("| Route | URL | Verdict | Policy | Decided by | Reason |")
            out.append("|---|---|---|---|---|---|")
            for result in failing {
                let policy = result.policyViolations.isEmpty ? "" : "violates " + result.policyViolations.map(\.rawValue).joined(separator: ", ")
                let decided = result.decidedBy.map { "\($0.hop) (\($0.position))" } ?? ""
                out.append("| \(cell(result.route)) | \(cell(result.url)) | \(result.verdict.rawValue) | \(policy) | \(cell(decided)) | \(cell(result.reason)) |")
            }
        }
        if !report.skipped.isEmpty {
            out.append("")
            out.append("### Skipped list entries")
            out.append("")
            for entry in report.skipped { out.append("- \(cell(entry.entry)) (\(cell(entry.service))): \(cell(entry.reason))") }
        }
        out.append("")
        out.append("### Environment")
        out.append("")
        out.append("- Tool: \(cell(report.tool.name)) \(cell(report.tool.version)), libcurl \(cell(report.tool.libcurl)), \(cell(report.tool.tls))")
        out.append("- Run: finished \(cell(report.generatedAt)), \(String(format: "%.1f", report.durationSeconds)) s; "
            + "concurrency \(report.settings.concurrency), \(report.settings.perProxy) per proxy, timeout \(report.settings.timeoutSeconds) s")
        for list in report.lists {
            out.append("- List \(cell(list.name)) (\(cell(list.file))): \(cell(list.source?.date ?? "no date")), \(list.endpoints) endpoints, sha256 \(list.contentHash)")
        }
        for route in report.routes {
            out.append("- Route \(cell(route.name)): \(cell(route.proxy ?? "direct"))\(route.credentialSource.map { ", credentials from \(cell($0))" } ?? ""), \(route.role)")
        }
        out.append("- Ready means: \(cell(report.readinessRule)).")
        out.append("")
        return out.joined(separator: "\n")
    }

    /// Escapes text for a Markdown table cell: no pipes, newlines, HTML or control characters get through.
    public static func cell(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "|": out += "\\|"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "`": out += "\\`"
            case "*", "_", "[", "]", "\\": out += "\\" + String(scalar)
            case "\n", "\r", "\t": out += " "
            default:
                out += scalar.properties.generalCategory == .control ? " " : String(scalar)
            }
        }
        return out
    }
}
