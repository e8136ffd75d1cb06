import Foundation
import Testing
@testable import ProxyVetKit

@Suite("Reports")
struct ReportTests {
    static let hostile = "<script>alert('x')</script> \"quoted\" & | `tick` \n new line \u{7}bell"

    /// A report built from real classifier output over evidence that carries hostile proxy text.
    static func sampleReport() -> CheckReport {
        let list = AllowList(id: "l", name: "List <b>bold</b>", file: "l.yaml", source: ListSource(date: "2024-01-01"),
                             services: [Service(name: "Svc", endpoints: [Endpoint(host: "a.test")])], contentHash: String(repeating: "ab", count: 32))
        let route = Route(name: "edge", kind: .http, proxyURL: "http://127.0.0.1:3128",
                          credentials: ProxyCredentials(username: "probe", password: "TopSecret-Password-123", origin: "file edge.cred"))
        let plan = TargetPlanner().plan([list])
        let denied = ResponseHead(status: 403, statusLine: "HTTP/1.1 403 \(hostile)", headers: [
            .init(name: "x-squid-error", value: "ERR_ACCESS_DENIED \(hostile)"), .init(name: "via", value: hostile)])
        let evidence = ProbeEvidence(curlCode: 56, curlMessage: hostile, connectStatus: 403, connectResponses: [denied],
                                     bodySnippet: "<html><title>\(hostile)</title></html>", sentCredentials: true)
        let result = CheckRunner.result(route: route, target: plan.targets[0], evidence: evidence)
        return CheckReport.build(lists: [list], routes: [route], settings: ProbeSettings(), plan: plan, results: [result],
                                 started: Date(timeIntervalSince1970: 0), finished: Date(timeIntervalSince1970: 1))
    }

    @Test("HTML escapes everything a proxy or list supplied")
    func htmlEscapes() throws {
        let html = try HTMLReport.render(Self.sampleReport())
        #expect(!html.contains("<script>"))
        #expect(!html.contains("<b>bold</b>"))
        #expect(html.contains("&lt;script&gt;"))
        #expect(html.contains("Not ready"))
        #expect(!html.contains("http://") || !html.contains("src=\"http"), "no external assets")
        #expect(!html.contains("<link"))
    }

    @Test("Markdown cells cannot break the table or inject HTML")
    func markdownEscapes() {
        let md = MarkdownReport.render(Self.sampleReport())
        let rows = md.split(separator: "\n").filter { $0.hasPrefix("| edge | https://a.test/") }
        #expect(rows.count == 1)
        #expect(!md.contains("<script>"))
        #expect(!md.contains("\u{7}"))
        // Unescaped pipes in a row would add columns: 6 cells → 7 unescaped pipes.
        let row = String(rows[0]).replacingOccurrences(of: "\\|", with: "")
        #expect(row.filter { $0 == "|" }.count == 7)
    }

    @Test("no format carries the password")
    func noSecrets() throws {
        let report = Self.sampleReport()
        for format in ReportFormat.allCases {
            let text = String(decoding: try format.render(report), as: UTF8.self)
            #expect(!text.contains("TopSecret-Password-123"), "\(format)")
            #expect(text.contains("edge"))
        }
        #expect(!ConsoleSummary.render(report).contains("TopSecret"))
        #expect(!ConsoleSummary.render(report).contains("\u{7}"))
    }

    @Test("JSON streamed result by result is byte for byte the encoding of the whole report")
    func jsonStreamedEqualsWhole() throws {
        var report = Self.sampleReport()
        // Several results, one with a newline and quotes in its evidence, so the splice and re-indenting are exercised.
        var odd = report.results[0]
        odd.evidence.curlMessage = "line one\nline \"two\"\n  ]\n"
        report.results += [odd, report.results[0]]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        for candidate in [report, Self.sampleReport(), { var empty = report; empty.results = []; return empty }()] {
            var whole = try encoder.encode(candidate)
            whole.append(0x0A)
            let streamed = try JSONReport.render(candidate)
            #expect(streamed == whole, "\(candidate.results.count) results")
        }
    }

    @Test("JSON is deterministic, versioned and round-trips")
    func json() throws {
        let report = Self.sampleReport()
        let first = try JSONReport.render(report)
        let second = try JSONReport.render(report)
        #expect(first == second)
        let decoded = try JSONReport.decode(first)
        #expect(decoded == report)
        let object = try JSONSerialization.jsonObject(with: first) as? [String: Any]
        #expect(object?["schemaVersion"] as? Int == CheckReport.schemaVersion && CheckReport.schemaVersion == 2)
        #expect(object?["ready"] as? Bool == false)
        let results = object?["results"] as? [[String: Any]]
        #expect(results?.first?["verdict"] as? String == "blocked")
        let keys = Set(results?.first?.keys.map { $0 } ?? [])
        #expect(keys.isSuperset(of: ["route", "url", "host", "port", "services", "required", "policy", "verdict", "evidence", "timings"]))
    }

    @Test("reports replace the old ones atomically and leave no temporary files")
    func atomic() throws {
        let folder = try TestFiles.temporaryFolder()
        let old = folder.appendingPathComponent("proxyvet-report.json")
        try Data("old".utf8).write(to: old)
        let written = try ReportWriter.write(Self.sampleReport(), formats: ReportFormat.allCases, to: folder.path)
        #expect(written.count == 6)
        #expect(try String(contentsOf: old, encoding: .utf8).hasPrefix("{"))
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["proxyvet-junit.xml", "proxyvet-report.csv", "proxyvet-report.html", "proxyvet-report.json", "proxyvet-report.md", "proxyvet.prom"])
        #expect(ReportFormat.defaults == [.json, .md, .html])
    }
}
