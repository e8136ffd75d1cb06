import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import ProxyVetKit

/// JUnit, CSV and Prometheus renderings, fed with the hostile report of ReportTests and with a run's changes.
@Suite("Machine reports")
struct MachineReportTests {
    /// The hostile sample with a second run's changes attached, as a check with --history produces it.
    static func reportWithChanges() -> CheckReport {
        var report = ReportTests.sampleReport()
        let earlier = RunSnapshot(report: SyntheticRuns.report(), run: 7)
        let now = RunSnapshot(report: report, run: 8)
        report.changes = RunChanges(run: 8, sincePrevious: RunDiff.compare(earlier, now), sinceBaseline: nil)
        return report
    }

    /// Collects what XMLParser sees: elements with their attributes and text.
    final class JUnitReader: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String])] = []
        var text = ""
        var error: (any Error)?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            elements.append((name, attributes))
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
        func parser(_ parser: XMLParser, parseErrorOccurred error: any Error) { self.error = error }
    }

    static func parse(_ xml: String) -> (ok: Bool, reader: JUnitReader) {
        let reader = JUnitReader()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = reader
        let ok = parser.parse()
        return (ok && reader.error == nil, reader)
    }

    @Test("JUnit: well-formed XML, one suite per route, one case per endpoint, the failure carries verdict and evidence")
    func junit() throws {
        let report = Self.reportWithChanges()
        let xml = JUnitReport.render(report)
        let (ok, reader) = Self.parse(xml)
        #expect(ok, "\(String(describing: reader.error))")
        #expect(reader.elements.first?.name == "testsuites")
        let suites = reader.elements.filter { $0.name == "testsuite" }
        #expect(suites.map { $0.attributes["name"] } == ["edge"])
        #expect(suites.first?.attributes["tests"] == "1")
        #expect(suites.first?.attributes["failures"] == "1")
        let cases = reader.elements.filter { $0.name == "testcase" }
        #expect(cases.map { $0.attributes["name"] } == ["https://a.test/"])
        let failure = try #require(reader.elements.first { $0.name == "failure" })
        #expect(failure.attributes["type"] == "blocked")
        // The hostile text comes back exactly as the proxy sent it (newline included), minus the BEL XML cannot carry.
        #expect(failure.attributes["message"]?.hasPrefix("blocked: ") == true)
        #expect(reader.text.contains("<script>alert('x')</script> \"quoted\" & | `tick` \n new line \u{FFFD}bell"))
        #expect(reader.text.contains("since run 7: allowed → blocked"))
        #expect(reader.text.contains("CONNECT answer: HTTP/1.1 403"))
        #expect(!xml.contains("<script>"))
        #expect(!xml.contains("\u{7}"))
        let properties = reader.elements.filter { $0.name == "property" }.map { "\($0.attributes["name"] ?? "")=\($0.attributes["value"] ?? "")" }
        #expect(properties.contains("credentials=file edge.cred"))
        #expect(properties.contains("proxy=http://127.0.0.1:3128"))
    }

    @Test("JUnit: conflicts are a suite of their own, errors fail", arguments: [Conflict.Severity.error, .warning])
    func junitConflicts(_ severity: Conflict.Severity) {
        let report = SyntheticRuns.report(conflicts: [SyntheticRuns.conflict(.groupDisagrees, host: "a.test\"<&>", severity: severity)])
        let (ok, reader) = Self.parse(JUnitReport.render(report))
        #expect(ok)
        let suite = reader.elements.first { $0.attributes["name"] == "proxyvet conflicts" }
        #expect(suite?.attributes["failures"] == (severity == .error ? "1" : "0"))
        #expect(reader.elements.contains { $0.name == "testcase" && $0.attributes["name"] == "group_disagrees https://a.test\"<&>/" })
        #expect(reader.elements.filter { $0.name == "testsuite" }.count == 3)
    }

    @Test("XML escaping", arguments: [
        ("a&b<c>\"d'", "a&amp;b&lt;c&gt;&quot;d&apos;"),
        ("line\nbreak\ttab", "line&#10;break&#9;tab"),
        ("nul\u{0}esc\u{1B}", "nul\u{FFFD}esc\u{FFFD}"),
    ])
    func xmlEscape(_ input: String, _ attribute: String) {
        #expect(JUnitReport.attribute(input) == attribute)
    }

    @Test("CSV: RFC 4180 quoting and no formula gets through")
    func csv() throws {
        var report = Self.reportWithChanges()
        report.results[0].services = ["=HYPERLINK(\"http://evil\",\"x\")", "+1", "@SUM(A1)", "-2+3"]
        let csv = CSVReport.render(report)
        #expect(csv.hasSuffix("\r\n"))
        let records = try Self.parseCSV(csv)
        #expect(records.count == 2)
        #expect(records[0] == CSVReport.columns)
        let row = Dictionary(uniqueKeysWithValues: zip(records[0], records[1]))
        #expect(row["route"] == "edge")
        #expect(row["verdict"] == "blocked")
        #expect(row["required"] == "true")
        #expect(row["change_since_previous"] == "newly_failing")
        #expect(row["previous_verdict"] == "allowed")
        #expect(row["connect_status"] == "403")
        // The services cell starts with "=": defused with a leading quote, the quotes inside doubled by the writer.
        #expect(row["services"] == "'=HYPERLINK(\"http://evil\",\"x\"); +1; @SUM(A1); -2+3")
        // The hostile reason keeps its newline inside one quoted field.
        #expect(row["reason"]?.contains("\n new line") == true)
    }

    @Test("CSV fields", arguments: [
        ("plain", "plain"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""), ("two\nlines", "\"two\nlines\""),
        ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"), ("@x", "'@x"), ("\tx", "'\tx"),
        ("-1", "-1"), ("+2.5", "+2.5"), ("=a,b", "\"'=a,b\""),
    ])
    func csvField(_ input: String, _ output: String) {
        #expect(CSVReport.field(input) == output)
    }

    /// A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes.
    static func parseCSV(_ text: String) throws -> [[String]] {
        var records: [[String]] = [], record: [String] = [], field = ""
        var quoted = false, index = text.unicodeScalars.startIndex
        let scalars = text.unicodeScalars
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let next = scalars.index(after: index)
            if quoted {
                if scalar == "\"" {
                    if next < scalars.endIndex, scalars[next] == "\"" { field += "\""; index = scalars.index(after: next); continue }
                    quoted = false
                } else { field.unicodeScalars.append(scalar) }
            } else if scalar == "\"" {
                guard field.isEmpty else { throw POSIXError(.EINVAL) }
                quoted = true
            } else if scalar == "," {
                record.append(field); field = ""
            } else if scalar == "\r" {
                guard next < scalars.endIndex, scalars[next] == "\n" else { throw POSIXError(.EINVAL) }
                record.append(field); records.append(record); record = []; field = ""
                index = scalars.index(after: next); continue
            } else if scalar == "\n" {
                throw POSIXError(.EINVAL)
            } else { field.unicodeScalars.append(scalar) }
            index = next
        }
        guard !quoted, field.isEmpty, record.isEmpty else { throw POSIXError(.EINVAL) }
        return records
    }

    @Test("Prometheus: families, escaped labels, certificate expiry and changes")
    func prometheus() throws {
        var report = Self.reportWithChanges()
        report.results[0].evidence.certificate = CertificateEvidence(subject: "CN=a.test", issuer: "CN=Lab CA", notBefore: nil,
                                                                     notAfter: "Jan  2 03:04:05 2030 GMT", subjectAltNames: [], chainIssuers: [])
        report.results[0].url = "https://a.test/\"quoted\"\\back\nslash"
        let text = PrometheusReport.render(report)
        #expect(text.contains("proxyvet_ready 0\n"))
        #expect(text.contains("proxyvet_probe_success{required=\"true\",route=\"edge\",url=\"https://a.test/\\\"quoted\\\"\\\\back\\nslash\"} 0\n"))
        #expect(text.contains("proxyvet_certificate_expiry_timestamp_seconds{route=\"edge\",url=\"https://a.test/\\\"quoted\\\"\\\\back\\nslash\"} 1893553445\n"))
        #expect(text.contains("proxyvet_changes{against=\"previous\",change=\"newly_failing\"} 1\n"))
        #expect(text.contains("proxyvet_history_run 8\n"))
        #expect(text.contains("proxyvet_results{route=\"edge\",verdict=\"blocked\"} 1\n"))
        #expect(text.contains("proxyvet_run_timestamp_seconds 1\n"))
        #expect(!text.contains("TopSecret"))
        // Every family once, HELP and TYPE before its samples.
        let families = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(Set(families).count == families.count)
    }

    @Test("Prometheus: promtool accepts the exposition of a hostile report", .enabled(if: Tool.exists("promtool"), "needs promtool (Debian package prometheus; Scripts/bootstrap installs it)"))
    func promtool() throws {
        for report in [Self.reportWithChanges(), ReportTests.sampleReport(), SyntheticRuns.report(conflicts: [SyntheticRuns.conflict(.hopBlocks, host: "a.test")])] {
            let result = try Tool.run("promtool", ["check", "metrics"], input: PrometheusReport.render(report))
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.isEmpty, "lint findings: \(result.output)")
        }
    }

    @Test("Prometheus number formatting", arguments: [(1.0, "1"), (0.25, "0.25"), (1.0 / 3, "0.333333"), (Double.nan, "NaN"), (-2, "-2")])
    func numbers(_ value: Double, _ text: String) {
        #expect(PrometheusReport.number(value) == text)
    }
}

/// External tools the tests call.
enum Tool {
    static func exists(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
        }
    }

    /// Runs `name arguments` with `input` on stdin; stdout and stderr together. Killed after `timeout` seconds.
    static func run(_ name: String, _ arguments: [String], input: String = "", timeout: Double = 60) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [name] + arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        let box = CommandRun.DataBox()
        let reader = Thread { box.set(stdout.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        try stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        for _ in 0..<250 where !box.done { Thread.sleep(forTimeInterval: 0.02) }
        return (process.terminationStatus, String(decoding: box.data, as: UTF8.self))
    }
}

/// The README's sample alert rules must load in Prometheus and name metrics the exposition has.
@Suite("Alert rule documentation")
struct AlertRuleDocumentationTests {
    static func rules() throws -> String {
        let readme = try String(contentsOf: TestFiles.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "```yaml\ngroups:\n  - name: proxyvet\n"))
        let end = try #require(readme.range(of: "\n```", range: start.upperBound..<readme.endIndex))
        return String(readme[readme.index(start.lowerBound, offsetBy: "```yaml\n".count)..<end.lowerBound]) + "\n"
    }

    @Test("promtool check rules accepts the sample alert rules", .enabled(if: Tool.exists("promtool"), "needs promtool (Scripts/bootstrap installs it)"))
    func promtool() throws {
        let file = try TestFiles.write(try Self.rules(), name: "proxyvet-rules.yml")
        let result = try Tool.run("promtool", ["check", "rules", file])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("SUCCESS: 4 rules found"), "\(result.output)")
    }

    @Test("every metric the rules use is in the exposition")
    func metricsExist() throws {
        var report = MachineReportTests.reportWithChanges()
        report.results[0].evidence.certificate = CertificateEvidence(subject: "CN=a.test", issuer: "CN=CA", notBefore: nil, notAfter: "Jan  2 03:04:05 2030 GMT",
                                                                     subjectAltNames: [], chainIssuers: [])
        let exposition = PrometheusReport.render(report)
        for metric in ["proxyvet_ready", "proxyvet_changes", "proxyvet_run_timestamp_seconds", "proxyvet_certificate_expiry_timestamp_seconds"] {
            #expect(try Self.rules().contains(metric))
            #expect(exposition.contains("# TYPE \(metric) gauge"), "\(metric)")
        }
    }
}
