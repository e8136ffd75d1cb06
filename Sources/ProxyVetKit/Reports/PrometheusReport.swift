import Foundation

/// Metrics in the Prometheus text exposition format (version 0.0.4), for node_exporter's textfile collector
/// (`proxyvet.prom` in its `--collector.textfile.directory`) and for a Pushgateway (`--push-gateway URL`).
///
/// Every family is a gauge, grouped with its `# HELP` and `# TYPE` lines; label values are escaped as the format
/// says (backslash, double quote, line feed). No sample carries a timestamp: `proxyvet_run_timestamp_seconds` says
/// when the run finished, so an alert can tell a stale site from a failing one.
public enum PrometheusReport {
    /// The exposition of a report: run-level families first, then the per-probe ones.
    public static func render(_ report: CheckReport) -> String {
        var out = Exposition()
        let finished = ISO8601DateFormatter().date(from: report.generatedAt)?.timeIntervalSince1970 ?? 0
        out.family("proxyvet_build_info", "ProxyVet and libcurl versions of the run (always 1).", [
            (["version": report.tool.version, "libcurl": report.tool.libcurl, "tls": report.tool.tls], 1),
        ])
        out.family("proxyvet_list_info", "Allow lists probed, with their source date and SHA-256 (always 1).", report.lists.map {
            (["list": $0.id, "name": $0.name, "date": $0.source?.date ?? "", "sha256": $0.contentHash], 1)
        })
        out.family("proxyvet_run_timestamp_seconds", "Unix time the run finished.", [([:], finished)])
        out.family("proxyvet_run_duration_seconds", "Wall time of the run.", [([:], report.durationSeconds)])
        out.family("proxyvet_ready", "1 when every required endpoint is allowed on the routes devices use and no conflict is an error.",
                   [([:], report.ready ? 1 : 0)])
        out.family("proxyvet_targets", "Distinct URLs probed.", [([:], Double(report.summary.targets))])
        out.family("proxyvet_probes", "Probes (URLs times routes).", [([:], Double(report.summary.probes))])
        out.family("proxyvet_failing_required_targets", "Required URLs failing on at least one route that decides readiness.",
                   [([:], Double(report.summary.failingRequired))])
        out.family("proxyvet_policy_violations", "Results that break a policy of their endpoint (noInspection, noProxyAuth).",
                   [([:], Double(report.summary.policyViolations))])
        out.family("proxyvet_results", "Probes per route and verdict.", report.summary.routes.flatMap { route in
            Verdict.allCases.map { (["route": route.route, "verdict": $0.rawValue], Double(route.verdicts[$0.rawValue] ?? 0)) }
        })
        out.family("proxyvet_route_failing_required", "Required URLs not ready on the route.", report.summary.routes.map {
            (["route": $0.route], Double($0.failingRequired))
        })
        out.family("proxyvet_conflicts", "Conflicts per kind and severity.", Conflict.Kind.allCases.flatMap { kind in
            [Conflict.Severity.error, .warning].map { severity in
                (["kind": kind.rawValue, "severity": severity.rawValue],
                 Double(report.conflicts.filter { $0.kind == kind && $0.severity == severity }.count))
            }
        })
        if let changes = report.changes {
            out.family("proxyvet_history_run", "This run's number in the ProxyVet history.", [([:], Double(changes.run))])
            var samples: [([String: String], Double)] = []
            for (against, comparison) in [("previous", changes.sincePrevious), ("baseline", changes.sinceBaseline)] {
                guard let comparison else { continue }
                for (change, count) in [("newly_failing", comparison.newlyFailing.count), ("recovered", comparison.recovered.count),
                                        ("verdict_changed", comparison.verdictChanged.count), ("new_conflicts", comparison.newConflicts.count),
                                        ("resolved_conflicts", comparison.resolvedConflicts.count)] {
                    samples.append((["against": against, "change": change], Double(count)))
                }
            }
            out.family("proxyvet_changes", "Changes against the previous run and the pinned baseline.", samples)
        }
        out.family("proxyvet_probe_success", "1 when the endpoint is allowed on the route without a policy violation.", report.results.map {
            (probeLabels($0), $0.verdict == .allowed && $0.policyViolations.isEmpty ? 1 : 0)
        })
        out.family("proxyvet_probe_verdict", "The verdict of the probe (always 1; the verdict is the label).", report.results.map {
            (["route": $0.route, "url": $0.url, "verdict": $0.verdict.rawValue], 1)
        })
        out.family("proxyvet_probe_duration_seconds", "Total time of the probe.", report.results.map {
            (["route": $0.route, "url": $0.url], $0.timings.total)
        })
        out.family("proxyvet_certificate_expiry_timestamp_seconds", "notAfter of the certificate the route presented for the endpoint, as Unix time.",
                   report.results.compactMap { result in
                       result.evidence.certificate?.notAfter.flatMap(certificateDate).map { (["route": result.route, "url": result.url], $0.timeIntervalSince1970) }
                   })
        return out.text
    }

    /// `route`, `url` and `required`: the labels of a per-probe sample.
    static func probeLabels(_ result: ProbeResult) -> [String: String] {
        ["route": result.route, "url": result.url, "required": result.required ? "true" : "false"]
    }

    /// libcurl's certinfo dates: `Jan  2 03:04:05 2030 GMT` (OpenSSL's form); also ISO 8601.
    static func certificateDate(_ text: String) -> Date? {
        let collapsed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["MMM d HH:mm:ss yyyy zzz", "yyyy-MM-dd HH:mm:ss zzz"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: collapsed) { return date }
        }
        return ISO8601DateFormatter().date(from: text)
    }

    /// A label value as the exposition format wants it: `\` → `\\`, `"` → `\"`, line feed → `\n`.
    public static func labelValue(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Builds the text family by family.
    struct Exposition {
        var lines: [String] = []

        mutating func family(_ name: String, _ help: String, _ samples: [([String: String], Double)]) {
            guard !samples.isEmpty else { return }
            lines.append("# HELP \(name) \(help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n"))")
            lines.append("# TYPE \(name) gauge")
            for (labels, value) in samples {
                let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(PrometheusReport.labelValue($0.value))\"" }
                lines.append(name + (rendered.isEmpty ? "" : "{" + rendered.joined(separator: ",") + "}") + " " + PrometheusReport.number(value))
            }
        }

        var text: String { lines.joined(separator: "\n") + "\n" }
    }

    /// Integers without a fraction; otherwise up to 6 decimals. NaN and infinities as the format spells them.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.6f", value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
