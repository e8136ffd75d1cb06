import Foundation

/// JUnit XML for CI: one `<testsuite>` per route, one `<testcase>` per endpoint.
///
/// A required endpoint that is not ready on the route is a `<failure>` whose `type` is the verdict and whose text is the
/// evidence; an optional one that fails passes, with the verdict in `<system-out>`. Conflicts form one more suite
/// (`proxyvet conflicts`, errors fail). Everything is XML-escaped and characters XML 1.0 forbids are replaced, so
/// a proxy's answer cannot break the file. Accepted by the common consumers (Jenkins, GitLab, GitHub test reporters).
public enum JUnitReport {
    /// The whole JUnit XML document of a report.
    public static func render(_ report: CheckReport) -> String {
        let since = report.changes?.sincePrevious
        let changeByKey = Dictionary(
            ((since?.newlyFailing ?? []) + (since?.verdictChanged ?? []) + (since?.recovered ?? [])).map { ($0.route + " " + $0.url, $0) },
            uniquingKeysWith: { first, _ in first })
        let timestamp = String(report.generatedAt.prefix(19))
        var suites: [String] = []
        var totals = (tests: 0, failures: 0, time: 0.0)
        for route in report.routes {
            let results = report.results.filter { $0.route == route.name }
            let failures = results.filter(\.blocksReadiness).count
            let time = results.reduce(0) { $0 + $1.timings.total }
            totals.tests += results.count
            totals.failures += failures
            totals.time += time
            var lines = ["  <testsuite name=\"\(attribute(route.name))\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\" time=\"\(seconds(time))\" timestamp=\"\(attribute(timestamp))\">"]
            lines.append("    <properties>")
            var properties: [(String, String)] = [("proxy", route.proxy ?? "direct"), ("kind", route.kind.rawValue), ("role", route.role)]
            if let source = route.credentialSource { properties.append(("credentials", source)) }
            if route.chain.count > 1 { properties.append(("chain", route.chain.joined(separator: " → "))) }
            for (name, value) in properties {
                lines.append("      <property name=\"\(attribute(name))\" value=\"\(attribute(value))\"/>")
            }
            lines.append("    </properties>")
            for result in results {
                let change = changeByKey[result.route + " " + result.url]
                let open = "    <testcase name=\"\(attribute(result.url))\" classname=\"\(attribute("proxyvet." + route.name))\" time=\"\(seconds(result.timings.total))\""
                if result.blocksReadiness {
                    lines.append(open + ">")
                    lines.append("      <failure type=\"\(attribute(result.verdict.rawValue))\" message=\"\(attribute(result.failureKey + ": " + result.reason))\">"
                        + text(evidence(result, change: change, against: since?.against.run)) + "</failure>")
                    lines.append("    </testcase>")
                } else if result.verdict != .allowed || !result.policyViolations.isEmpty || change != nil {
                    var note = result.failsRequirement
                        ? "not a route devices use for this endpoint (readiness rule): \(result.failureKey): \(result.reason)"
                        : result.verdict == .allowed ? "allowed" : "optional endpoint: \(result.verdict.rawValue): \(result.reason)"
                    if let change, let run = since?.against.run { note += "\nsince run \(run): \(change.transition)" }
                    lines.append(open + ">")
                    lines.append("      <system-out>\(text(note))</system-out>")
                    lines.append("    </testcase>")
                } else {
                    lines.append(open + "/>")
                }
            }
            lines.append("  </testsuite>")
            suites.append(lines.joined(separator: "\n"))
        }
        if !report.conflicts.isEmpty {
            let errors = report.conflicts.filter { $0.severity == .error }.count
            totals.tests += report.conflicts.count
            totals.failures += errors
            var lines = ["  <testsuite name=\"proxyvet conflicts\" tests=\"\(report.conflicts.count)\" failures=\"\(errors)\" errors=\"0\" skipped=\"0\" time=\"0\" timestamp=\"\(attribute(timestamp))\">"]
            for conflict in report.conflicts {
                let open = "    <testcase name=\"\(attribute(conflict.kind.rawValue + " " + conflict.endpoint.url))\" classname=\"\(attribute("proxyvet.conflicts." + conflict.hop.name))\" time=\"0\">"
                let body = "\(conflict.explanation)\nroutes: \(conflict.routes.joined(separator: ", "))\nhop that must change: \(conflict.hop.name)"
                    + (conflict.hop.proxy.map { " (\($0))" } ?? "") + "\nevidence: \(conflict.evidence)\nfix:\n\(conflict.remediation)"
                lines.append(open)
                if conflict.severity == .error {
                    lines.append("      <failure type=\"\(attribute(conflict.kind.rawValue))\" message=\"\(attribute(conflict.explanation))\">\(text(body))</failure>")
                } else {
                    lines.append("      <system-out>\(text("warning: " + body))</system-out>")
                }
                lines.append("    </testcase>")
            }
            lines.append("  </testsuite>")
            suites.append(lines.joined(separator: "\n"))
        }
        let head = "<testsuites name=\"ProxyVet \(attribute(report.ready ? "ready" : "not ready"))\" tests=\"\(totals.tests)\" failures=\"\(totals.failures)\" errors=\"0\" time=\"\(seconds(report.durationSeconds))\">"
        return (["<?xml version=\"1.0\" encoding=\"UTF-8\"?>", head] + suites + ["</testsuites>", ""]).joined(separator: "\n")
    }

    /// The failure's text: verdict, reason, attribution, what each hop answered, the certificate, timings.
    static func evidence(_ result: ProbeResult, change: ResultChange?, against run: Int64?) -> String {
        var lines = ["verdict: \(result.verdict.rawValue)", "reason: \(result.reason)"]
        if let change, let run { lines.append("since run \(run): \(change.transition)") }
        if !result.policyViolations.isEmpty { lines.append("policy violations: \(result.policyViolations.map(\.rawValue).joined(separator: ", "))") }
        if let decided = result.decidedBy {
            lines.append("decided by: \(decided.hop) (\(decided.position); \(decided.method), \(decided.confidence) confidence): \(decided.detail)")
        }
        let evidence = result.evidence
        lines.append("libcurl: \(evidence.curlCode) \(evidence.curlMessage)")
        for response in evidence.responses {
            let headers = response.headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            lines.append("\(response.phase == "connect" ? "CONNECT answer" : "response"): \(response.statusLine)" + (headers.isEmpty ? "" : " — " + headers))
        }
        if let error = evidence.proxyError { lines.append("proxy error: \(error)") }
        if let certificate = evidence.certificate {
            lines.append("certificate: subject \(certificate.subject); issuer \(certificate.issuer); expires \(certificate.notAfter ?? "?")")
        }
        if let verify = evidence.verifyResult { lines.append("TLS verify result: \(verify)") }
        if let page = evidence.proxyPage { lines.append("proxy page: \(page)") }
        lines.append(String(format: "timings: connect %.3f s, TLS %.3f s, first byte %.3f s, total %.3f s",
                            result.timings.connect, result.timings.tls, result.timings.firstByte, result.timings.total))
        lines.append("required by: " + result.requiredBy.map { "\($0.list) / \($0.service) (\($0.entry))" }.joined(separator: "; "))
        return lines.joined(separator: "\n")
    }

    static func seconds(_ value: Double) -> String { String(format: "%.3f", value) }

    /// Escapes element text; characters XML 1.0 does not allow become U+FFFD.
    public static func text(_ value: String) -> String { escape(value, attribute: false) }

    /// Escapes an attribute value; line breaks and tabs are kept as character references.
    public static func attribute(_ value: String) -> String { escape(value, attribute: true) }

    private static func escape(_ value: String, attribute: Bool) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where attribute: out += "&quot;"
            case "'" where attribute: out += "&apos;"
            case "\n" where attribute: out += "&#10;"
            case "\r": out += "&#13;"
            case "\t" where attribute: out += "&#9;"
            default:
                out.unicodeScalars.append(allowedInXML(scalar) ? scalar : "\u{FFFD}")
            }
        }
        return out
    }

    /// XML 1.0 `Char`: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
    static func allowedInXML(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }
}
