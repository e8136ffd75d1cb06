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
        let failing = report.results.filter(\.failsRequirement)
        if !failing.isEmpty {
            out.append("")
            out.append("## Failing required endpoints")
            out.append("")
            out.append("| Route | URL | Verdict | Policy | Reason |")
            out.append("|---|---|---|---|---|")
            for result in failing {
                let policy = result.policyViolations.isEmpty ? "" : "violates " + result.policyViolations.map(\.rawValue).joined(separator: ", ")
                out.append("| \(cell(result.route)) | \(cell(result.url)) | \(result.verdict.rawValue) | \(policy) | \(cell(result.reason)) |")
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
