import Foundation
import Testing
@testable import ProxyVetKit

/// `proxyvet history ...` and the history flags of `proxyvet check`, as a user runs them (the run itself: `CheckRunTests`).
@Suite("History commands")
struct HistoryCommandTests {
    /// A history with two synthetic runs (the second compared with the first as its baseline).
    static func history() throws -> String {
        let file = try HistoryStoreTests.freshFile()
        let store = try HistoryStore(path: file)
        let first = try store.record(SyntheticRuns.report(verdicts: ["inspect c.test": .blocked]))
        try store.record(SyntheticRuns.report(verdicts: ["edge a.test": .tlsIntercepted], finished: 1_700_086_400), baseline: first)
        return file
    }

    @Test("list, show and diff")
    func listShowDiff() throws {
        let file = try Self.history()
        let list = try CommandRun.proxyvet(["history", "list", "--history", file], timeout: 30)
        #expect(list.status == 0)
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("2     2023-11-15T22:13:20Z NOT READY 8"))
        #expect(lines[1].contains("Managed Desktop 2024-01-01 abababab"))

        let show = try CommandRun.proxyvet(["history", "show", "latest", "--history", file], timeout: 30)
        #expect(show.status == 0)
        #expect(show.stdout.hasPrefix("Run 2: NOT READY, finished 2023-11-15T22:13:20Z in 2.0 s\n"))
        #expect(show.stdout.contains("route edge (http://127.0.0.1:3128, credentials from file edge.cred, entry): allowed 3, tls_intercepted 1"))
        #expect(show.stdout.contains("  edge https://a.test/: tls_intercepted: synthetic tls_intercepted for a.test"))
        #expect(!show.stdout.contains("TopSecret"))

        let diff = try CommandRun.proxyvet(["history", "diff", "1", "2", "--history", file], timeout: 30)
        #expect(diff.status == 0)
        #expect(diff.stdout == """
            from run 1 to run 2 (run 1 finished 2023-11-14T22:13:20Z, not ready): 1 newly failing, 1 recovered
              newly failing:
                edge https://a.test/: allowed → tls_intercepted
              recovered:
                inspect https://c.test/: blocked → allowed

            """)
        let json = try CommandRun.proxyvet(["history", "diff", "previous", "latest", "--history", file, "--json"], timeout: 30)
        let comparison = try JSONDecoder().decode(RunComparison.self, from: Data(json.stdout.utf8))
        #expect(comparison.newlyFailing.map(\.url) == ["https://a.test/"])
    }

    @Test("prune keeps the baseline of a kept run")
    func prune() throws {
        let file = try Self.history()
        let pruned = try CommandRun.proxyvet(["history", "prune", "--keep", "1", "--history", file], timeout: 30)
        #expect(pruned.status == 0)
        #expect(pruned.stdout == "Deleted 0 runs; kept the newest 1 and baseline run 1.\n")
    }

    @Test("errors: an unknown run is exit code 2, a missing history too", arguments: [
        (["history", "show", "9"], 2, "no run 9 in the history"),
        (["history", "diff", "1", "x"], 2, "no run x in the history"),
    ])
    func errors(_ arguments: [String], _ status: Int32, _ message: String) throws {
        let file = try Self.history()
        let run = try CommandRun.proxyvet(arguments + ["--history", file], timeout: 30)
        #expect(run.status == status)
        #expect(run.stderr.contains(message), "\(run.stderr)")
        let missing = try CommandRun.proxyvet(["history", "list", "--history", file + ".missing"], timeout: 30)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no such history file"))
    }

    @Test("check --baseline with a run that does not exist stops before probing (exit code 2)")
    func unknownBaseline() throws {
        let file = try Self.history()
        let folder = try TestFiles.temporaryFolder()
        let list = try TestFiles.write("http://127.0.0.1:9/\n", name: "closed.txt")
        let run = try CommandRun.proxyvet(["check", list, "--direct", "--history", file, "--baseline", "42", "--output", folder.path], timeout: 30)
        #expect(run.status == 2)
        #expect(run.stderr.contains("no run 42 in the history"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        let noHistory = try CommandRun.proxyvet(["check", list, "--direct", "--baseline", "1"], timeout: 30)
        #expect(noHistory.status == 2)
        #expect(noHistory.stderr.contains("--baseline names a run of the history: give --history FILE too."))
    }

    @Test("a check with --history prints what changed and puts it in every format")
    func checkWithHistory() throws {
        let folder = try TestFiles.temporaryFolder()
        let history = folder.appendingPathComponent("h.sqlite").path
        // The same list file, edited between the runs.
        let first = try TestFiles.write("http://127.0.0.1:9/\n", name: "urls.txt")
        let both = try TestFiles.write("http://127.0.0.1:9/\nhttp://127.0.0.1:7/\n", name: "urls.txt")
        let formats = ReportFormat.allCases.flatMap { ["--format", $0.rawValue] }
        let one = try CommandRun.proxyvet(["check", first, "--direct", "--timeout", "2", "--history", history, "--output", folder.appendingPathComponent("1").path] + formats, timeout: 60)
        #expect(one.status == 1)
        #expect(one.stdout.contains("History run 1 (\(history)): the first run recorded"))
        #expect(!one.stderr.contains("probes "), "no progress line when stderr is not a terminal")
        let two = try CommandRun.proxyvet(["check", both, "--direct", "--timeout", "2", "--history", history, "--baseline", "1",
                                           "--output", folder.appendingPathComponent("2").path] + formats, timeout: 60)
        #expect(two.status == 1)
        #expect(two.stdout.contains("since the previous run (run 1 finished"))
        #expect(two.stdout.contains("1 newly failing, 1 list changed"))
        #expect(two.stdout.contains("direct http://127.0.0.1:7/: not probed → "))
        #expect(two.stdout.contains("the baseline is the previous run"))
        let out = folder.appendingPathComponent("2")
        let json = try JSONReport.decode(try Data(contentsOf: out.appendingPathComponent("proxyvet-report.json")))
        #expect(json.changes?.run == 2)
        #expect(json.changes?.sincePrevious?.newlyFailing.map(\.url) == ["http://127.0.0.1:7/"])
        #expect(json.changes?.sinceBaseline?.against.run == 1)
        let text = { (name: String) in (try? String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)) ?? "" }
        #expect(text("proxyvet-report.md").contains("**Since the previous run** (run 1,"))
        #expect(text("proxyvet-report.html").contains("Changes since the last run"))
        #expect(text("proxyvet-junit.xml").contains("since run 1: not probed → "))
        #expect(text("proxyvet-report.csv").contains(",newly_failing,\r\n"))
        #expect(text("proxyvet.prom").contains("proxyvet_changes{against=\"previous\",change=\"newly_failing\"} 1\n"))
    }

    @Test("on a terminal a progress line goes to stderr, never with --quiet", .enabled(if: Tool.exists("script"), "needs script(1) for a pseudo-terminal"))
    func progressOnTerminal() throws {
        let list = try TestFiles.write("http://127.0.0.1:9/\n", name: "closed.txt")
        let folder = try TestFiles.temporaryFolder()
        func onTerminal(_ extra: String) throws -> String {
            let command = "\(CommandRun.binary.path) check \(list) --direct --timeout 2 --format json --output \(folder.path) \(extra)"
            return try Tool.run("script", ["-qec", command, "/dev/null"]).output
        }
        let shown = try onTerminal("")
        #expect(shown.contains("\rprobes 1/1, "), "\(shown)")
        // The one probe (a closed port) fails, so the line ends counting it.
        #expect(shown.range(of: "\rprobes 1/1, 1 not allowed so far, [0-9]+ s\r\n", options: .regularExpression) != nil, "\(shown)")
        #expect(!(try onTerminal("--quiet").contains("probes ")))
    }
}
