import Foundation

/// A Markdown summary fit for a ticket: readiness, per-route counts, then every failing required endpoint.
public enum MarkdownReport {
    public static func render(_ report: CheckReport) -> String {
        var out: [String] = []
        out.append("# ProxyVet: \(report.ready ? "READY" : "NOT READY")")
        out.append("")
        out.append("\(report.summary.targets) targets × \(report.routes.count) routes, \(report.summary.probes) probes, "
            + "\(report.summary.failingRequired) required targets failing, \(report.summary.policyViolations) policy violations. "
            + "Run \(report.generatedAt) with ProxyVet \(report.tool.version), libcurl \(report.tool.libcurl).")
        out.append("")
        out.append("Lists: " + report.lists.map { "\(cell($0.name)) (\(cell($0.source?.date ?? "no date")), sha256 \($0.contentHash.prefix(12)))" }.joined(separator: "; "))
        out.append("")
        out.append("| Route | Proxy | " + Verdict.allCases.map(\.rawValue).joined(separator: " | ") + " |")
        out.append("|---|---|" + Verdict.allCases.map { _ in "---:" }.joined(separator: "|") + "|")
        for route in report.summary.routes {
            let info = report.routes.first { $0.name == route.route }
            let counts = Verdict.allCases.map { String(route.verdicts[$0.rawValue] ?? 0) }
            out.append("| \(cell(route.route)) | \(cell(info?.proxy ?? "direct")) | " + counts.joined(separator: " | ") + " |")
        }
        if !report.conflicts.isEmpty {
            out.append("")
            out.append("## Conflicts by the proxy that must change (\(report.summary.conflictErrors) errors)")
            for group in ConflictGroups.byHop(report.conflicts) {
                out.append("")
                out.append("### \(cell(group.hop.name))\(group.hop.proxy.map { " (\(cell($0)))" } ?? "")")
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
        let failing = report.results.filter(\.failsRequirement)
        if !failing.isEmpty {
            out.append("")
            out.append("## Failing required endpoints")
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
            out.append("## Skipped list entries")
            out.append("")
            for entry in report.skipped { out.append("- \(cell(entry.entry)) (\(cell(entry.service))): \(cell(entry.reason))") }
        }
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
