import Foundation

/// CSV for spreadsheets and scripts: a header, then one row per (route, endpoint) in the JSON report's order.
///
/// RFC 4180: CRLF line ends; a field with a comma, quote, CR or LF is quoted and its quotes doubled. A text field
/// that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`,
/// so a hostile proxy answer or list entry cannot become a formula (OWASP "CSV injection"); numbers are left alone.
public enum CSVReport {
    /// The columns, in order.
    public static let columns = [
        "run_at", "route", "proxy", "url", "host", "port", "required", "services", "verdict", "policy_violations", "reason",
        "decided_by", "connect_status", "http_status", "curl_code", "proxy_error", "cert_issuer", "cert_not_after",
        "total_seconds", "change_since_previous", "previous_verdict",
    ]

    /// The header and one CRLF-terminated record per result.
    public static func render(_ report: CheckReport) -> String {
        let proxies = Dictionary(report.routes.map { ($0.name, $0.proxy ?? "direct") }, uniquingKeysWith: { first, _ in first })
        let since = report.changes?.sincePrevious
        var changes: [String: (kind: String, change: ResultChange)] = [:]
        for (kind, list) in [("newly_failing", since?.newlyFailing ?? []), ("recovered", since?.recovered ?? []),
                             ("verdict_changed", since?.verdictChanged ?? [])] {
            for change in list { changes[change.route + " " + change.url] = (kind, change) }
        }
        var rows = [columns.map(field).joined(separator: ",")]
        for result in report.results {
            let evidence = result.evidence
            let change = changes[result.route + " " + result.url]
            let values: [String] = [
                report.generatedAt, result.route, proxies[result.route] ?? "", result.url, result.host, String(result.port),
                result.required ? "true" : "false", result.services.joined(separator: "; "), result.verdict.rawValue,
                result.policyViolations.map(\.rawValue).joined(separator: " "), result.reason,
                result.decidedBy.map { "\($0.hop) (\($0.position))" } ?? "",
                evidence.connectStatus.map(String.init) ?? "", evidence.httpStatus.map(String.init) ?? "", String(evidence.curlCode),
                evidence.proxyError ?? "", evidence.certificate?.issuer ?? "", evidence.certificate?.notAfter ?? "",
                String(format: "%.3f", result.timings.total), change?.kind ?? "", change?.change.from ?? "",
            ]
            rows.append(values.map(field).joined(separator: ","))
        }
        return rows.joined(separator: "\r\n") + "\r\n"
    }

    /// One field: defused against formulas, then quoted when RFC 4180 requires it.
    public static func field(_ value: String) -> String {
        var value = value
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), !isNumber(value) {
            value = "'" + value
        }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `-1`, `+2.5`: a plain number is data, not a formula.
    static func isNumber(_ value: String) -> Bool {
        var body = Substring(value)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) else { return false }
        return body.filter { $0 == "." }.count <= 1 && body != "."
    }
}
