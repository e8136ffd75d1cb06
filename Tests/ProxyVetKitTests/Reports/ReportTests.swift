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

    @Test("JSON: one line per top-level key and per element of a top-level array or table, the same JSON as the encoding")
    func jsonLines() throws {
        var report = Self.sampleReport()
        // Structural characters and escapes inside strings must not move a line break.
        var odd = report.results[0]
        odd.route = "odd"
        odd.evidence.curlMessage = "line one\nline \"two\" {[,]} \\ end"
        report.results.append(odd)
        let data = try JSONReport.render(report)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let compact = try encoder.encode(report)
        #expect(data.filter { $0 != 0x0A } == compact, "line breaks are the only difference")
        let text = try #require(String(data: data, encoding: .utf8))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "{" && lines.dropLast().last == "}" && lines.last == "")
        #expect(lines.contains("\"schemaVersion\":3,"))
        #expect(lines.contains("\"targets\":["))
        #expect(lines.filter { $0.hasPrefix("{\"host\":\"a.test\"") }.count == 1, "the target and its two results on one line")
        #expect(lines.contains { $0.hasPrefix("\"e2\":{") && $0.contains(",\"curlMessage\":\"line one\\nline \\\"two\\\" {[,]} \\\\ end\",") })
        #expect(try JSONReport.decode(data) == report)
    }

    @Test("JSON is deterministic, schema 3 and round-trips")
    func json() throws {
        let report = Self.sampleReport()
        let first = try JSONReport.render(report)
        let second = try JSONReport.render(report)
        #expect(first == second)
        let decoded = try JSONReport.decode(first)
        #expect(decoded == report)
        let object = try JSONSerialization.jsonObject(with: first) as? [String: Any]
        #expect(object?["schemaVersion"] as? Int == CheckReport.schemaVersion && CheckReport.schemaVersion == 3)
        #expect(object?["ready"] as? Bool == false)
        let target = (object?["targets"] as? [[String: Any]])?.first
        #expect(Set(target?.keys.map { $0 } ?? []) == ["url", "host", "port", "services", "requiredBy", "required", "results"])
        let result = (target?["results"] as? [[String: Any]])?.first
        #expect(result?["verdict"] as? String == "blocked")
        #expect(Set(result?.keys.map { $0 } ?? []) == ["route", "verdict", "phase", "reason", "evidence"])
        let evidence = (object?["evidence"] as? [String: [String: Any]])?[result?["evidence"] as? String ?? ""]
        #expect(evidence?["connectStatus"] as? Int == 403)
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
