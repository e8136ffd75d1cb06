import Foundation

/// The compact text printed at the end of `proxyvet check`: readiness, per-route counts, failing required endpoints.
public enum ConsoleSummary {
    /// Most failing endpoints listed per route before "and N more".
    public static let listLimit = 15

    public static func render(_ report: CheckReport) -> String {
        var lines: [String] = []
        let verdictLine = report.ready ? "READY" : "NOT READY"
        lines.append("ProxyVet \(report.tool.version) (libcurl \(report.tool.libcurl)): \(verdictLine)")
        lines.append("\(report.summary.targets) targets × \(report.routes.count) routes = \(report.summary.probes) probes in \(String(format: "%.1f", report.durationSeconds)) s; "
            + "\(report.summary.failingRequired) required targets failing, \(report.summary.policyViolations) policy violations")
        if !report.skipped.isEmpty {
            lines.append("\(report.skipped.count) list entries skipped (see the report): \(report.skipped.prefix(3).map { "\($0.entry): \($0.reason)" }.joined(separator: "; "))")
        }
        for route in report.summary.routes {
            let info = report.routes.first { $0.name == route.route }
            let proxy = info?.proxy ?? "no proxy"
            let counts = Verdict.allCases.compactMap { verdict in route.verdicts[verdict.rawValue].map { "\(verdict.rawValue) \($0)" } }
            lines.append("")
            lines.append("route \(route.route) (\(proxy)\(info?.authenticated == true ? ", with credentials" : "")): \(counts.joined(separator: ", "))")
            let failing = report.results.filter { $0.route == route.route && $0.failsRequirement }
            for result in failing.prefix(listLimit) {
                let violation = result.policyViolations.isEmpty ? "" : " [violates \(result.policyViolations.map(\.rawValue).joined(separator: ", "))]"
                lines.append("  \(pad(result.verdict.rawValue, 20)) \(result.url)\(violation) — \(sanitize(result.reason))")
            }
            if failing.count > listLimit { lines.append("  … and \(failing.count - listLimit) more required endpoints failing on \(route.route)") }
        }
        return lines.joined(separator: "\n")
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Control characters from a proxy's answer never reach the terminal.
    static func sanitize(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
    }
}
