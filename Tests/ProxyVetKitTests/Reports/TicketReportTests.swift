import Foundation
import Testing
@testable import ProxyVetKit

/// The reports for people: the Markdown ticket summary and appendix, the HTML changes and environment blocks.
@Suite("Ticket reports")
struct TicketReportTests {
    static func secondRun() -> CheckReport {
        let earlier = SyntheticRuns.report(verdicts: ["inspect c.test": .blocked], conflicts: [SyntheticRuns.conflict(.routesDisagree, host: "c.test")])
        var later = SyntheticRuns.report(verdicts: ["edge a.test": .tlsIntercepted, "edge b.test": .blocked, "inspect b.test": .blocked],
                                         violations: ["edge a.test": [.noInspection]],
                                         conflicts: [SyntheticRuns.conflict(.groupDisagrees, host: "b.test")], finished: 1_700_086_400)
        let now = RunSnapshot(report: later, run: 12)
        later.changes = RunChanges(run: 12, sincePrevious: RunDiff.compare(RunSnapshot(report: earlier, run: 11), now),
                                   sinceBaseline: RunDiff.compare(RunSnapshot(report: SyntheticRuns.report(), run: 3), now))
        return later
    }

    @Test("Markdown: a short summary for the ticket comment, then the appendix")
    func markdown() {
        let md = MarkdownReport.render(Self.secondRun())
        let parts = md.components(separatedBy: "\n---\n")
        #expect(parts.count == 2)
        let summary = parts[0]
        #expect(summary.hasPrefix("# ProxyVet: NOT READY\n"))
        #expect(summary.split(separator: "\n").count <= 30)
        #expect(summary.contains("(history run 12)"))
        #expect(summary.contains("**Since the previous run** (run 11, 2023-11-14T22:13:20Z, not ready): 3 newly failing, 1 recovered, 1 new conflict, 1 resolved conflict."))
        #expect(summary.contains("  - newly failing, allowed → blocked ×2 (edge 1, inspect 1), e.g. https://b.test/\n"))
        #expect(summary.contains("  - newly failing, allowed → tls\\_intercepted (violates noInspection) ×1 (edge 1), e.g. https://a.test/\n"))
        #expect(summary.contains("  - recovered, blocked → allowed ×1 (inspect 1), e.g. https://c.test/\n"))
        #expect(summary.contains("  - new conflicts: group\\_disagrees at edge ×1\n"))
        #expect(summary.contains("  - resolved conflicts: routes\\_disagree at edge ×1\n"))
        #expect(summary.contains("**Since the baseline** (run 3"))
        #expect(summary.contains("**Conflicts by the proxy that must change** (1 errors, 0 warnings):"))
        #expect(summary.contains("**Failing required endpoints** by verdict (3 route × endpoint results):"))
        #expect(summary.contains("  - blocked ×2 (edge 1, inspect 1), e.g. https://b.test/"))
        let appendix = parts[1]
        #expect(appendix.contains("## Appendix"))
        #expect(appendix.contains("### Changes since the previous run (run 11, 2023-11-14T22:13:20Z)"))
        #expect(appendix.contains("| newly failing | edge | https://a.test/ | yes | allowed | tls\\_intercepted (violates noInspection) |"))
        #expect(appendix.contains("| recovered | inspect | https://c.test/ | yes | blocked | allowed |"))
        #expect(appendix.contains("| resolved conflict | edge, inspect | https://c.test/ | error | | routes\\_disagree at edge |"))
        #expect(appendix.contains("### Environment"))
        #expect(appendix.contains("- Route edge: http://127.0.0.1:3128, credentials from file edge.cred, "))
        #expect(!md.contains("TopSecret"))
    }

    @Test("Markdown without a history has no change lines")
    func markdownWithoutHistory() {
        let md = MarkdownReport.render(SyntheticRuns.report())
        #expect(md.hasPrefix("# ProxyVet: READY\n"))
        #expect(!md.contains("Since the previous run"))
        #expect(!md.contains("### Changes"))
    }

    @Test("HTML: changes since the last run and the environment block, escaped")
    func html() throws {
        var report = Self.secondRun()
        report.changes?.sincePrevious?.newlyFailing[0].reason = "<img src=x onerror=alert(1)>"
        let html = try HTMLReport.render(report)
        #expect(html.contains("<h2>Changes since the last run <span class=\"muted\">— run 11, 2023-11-14T22:13:20Z, not ready: 3 newly failing, 1 recovered, 1 new conflict, 1 resolved conflict</span></h2>"))
        #expect(html.contains("<h2>Changes since the baseline <span class=\"muted\">— run 3,"))
        #expect(html.contains("<span class=\"v\">newly failing</span>"))
        #expect(html.contains("<span class=\"v good\">recovered</span>"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(!html.contains("<img"))
        #expect(html.contains("<p class=\"rule\">Since run 11 (2023-11-14T22:13:20Z): 3 newly failing, 1 recovered, 1 new conflict, 1 resolved conflict.</p>"))
        #expect(html.contains("<h2>Environment</h2>"))
        #expect(html.contains("<dt>libcurl</dt><dd>libcurl \(Curl.version), \(Curl.sslVersion)</dd>"))
        #expect(html.contains("<dt>route edge</dt><dd>http://127.0.0.1:3128, credentials from file edge.cred, "))
        #expect(html.contains("<dt>list mmd</dt><dd>Managed Desktop (mmd.yaml): 2024-01-01, 4 endpoints, sha256 "))
        #expect(html.contains("history run 12"))
        #expect(!html.contains("TopSecret"))
    }

    @Test("HTML without a history has no changes section")
    func htmlWithoutHistory() throws {
        let html = try HTMLReport.render(SyntheticRuns.report())
        #expect(!html.contains("Changes since"))
        #expect(html.contains("<h2>Environment</h2>"))
    }

    @Test("metrics replace the old file atomically; a failed write leaves the last good one")
    func atomicMetrics() throws {
        let folder = try TestFiles.temporaryFolder()
        let prom = folder.appendingPathComponent("proxyvet.prom")
        try Data("proxyvet_ready 1\n".utf8).write(to: prom)
        _ = try ReportWriter.write(Self.secondRun(), formats: [.prometheus], to: folder.path)
        #expect(try String(contentsOf: prom, encoding: .utf8).contains("proxyvet_history_run 12"))
        // A folder where the temporary file should go makes the write fail half-way: the old metrics stay.
        let blocker = folder.appendingPathComponent(".proxyvet.prom.\(ProcessInfo.processInfo.processIdentifier).tmp")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: false)
        #expect(throws: InputError.self) { try ReportWriter.write(SyntheticRuns.report(), formats: [.prometheus], to: folder.path) }
        #expect(try String(contentsOf: prom, encoding: .utf8).contains("proxyvet_history_run 12"))
        try? FileManager.default.removeItem(at: blocker)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["proxyvet.prom"])
    }

    @Test("--keep: each run's reports are archived, the newest N kept, never half a folder")
    func archive() throws {
        let folder = try TestFiles.temporaryFolder()
        var kept: [String] = []
        for day in 0..<4 {
            let report = SyntheticRuns.report(finished: 1_700_000_000 + Double(day) * 86_400)
            let written = try ReportWriter.write(report, formats: [.json, .prometheus], to: folder.path)
            kept.append(URL(fileURLWithPath: try ReportArchive.archive(files: written, generatedAt: report.generatedAt, run: Int64(day + 1),
                                                                        in: folder.path, keep: 2).folder).lastPathComponent)
        }
        let archive = folder.appendingPathComponent("archive")
        let names = try FileManager.default.contentsOfDirectory(atPath: archive.path).sorted()
        #expect(names == ["20231116T221320Z-run3", "20231117T221320Z-run4"])
        #expect(kept.last == "20231117T221320Z-run4")
        #expect(try FileManager.default.contentsOfDirectory(atPath: archive.appendingPathComponent(names[1]).path).sorted() == ["proxyvet-report.json", "proxyvet.prom"])
        // Folders that are not archive stamps are never touched.
        try FileManager.default.createDirectory(at: archive.appendingPathComponent("notes"), withIntermediateDirectories: false)
        _ = try ReportArchive.archive(files: [], generatedAt: "2023-11-18T00:00:00Z", run: nil, in: folder.path, keep: 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: archive.path).sorted() == ["20231118T000000Z", "notes"])
    }
}
