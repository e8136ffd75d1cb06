import Foundation
import Testing
@testable import ProxyVetKit

@Suite("History store")
struct HistoryStoreTests {
    static func freshFile() throws -> String {
        try TestFiles.temporaryFolder().appendingPathComponent("history.sqlite").path
    }

    /// Runs `python3 -c SCRIPT ARGS...` (Python's sqlite3 module is an independent SQLite client) and returns stdout.
    static func python(_ script: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test("an empty file is migrated from v1 and gets every table")
    func migratesEmpty() throws {
        let file = try Self.freshFile()
        _ = try HistoryStore(path: file)
        let tables = try Self.python("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            print(",".join(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")))
            print(",".join(r[0] for r in db.execute("SELECT identifier FROM grdb_migrations")))
            print(db.execute("PRAGMA journal_mode").fetchone()[0])
            """, [file]).split(separator: "\n").map(String.init)
        #expect(tables.first == "conflict,grdb_migrations,result,run,run_list,run_route")
        #expect(tables.dropFirst().first == HistoryStore.migrations.joined(separator: ","))
        #expect(HistoryStore.migrations.first == "v1")
        #expect(tables.last == "wal")
        // Opening again applies nothing and keeps what is there.
        let store = try HistoryStore(path: file)
        #expect(try store.runs().isEmpty)
    }

    @Test("a history migrated by a newer ProxyVet is refused, not written")
    func newerSchema() throws {
        let file = try Self.freshFile()
        _ = try HistoryStore(path: file)
        _ = try Self.python("import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\ndb.execute(\"INSERT INTO grdb_migrations VALUES ('v99-future')\")\ndb.commit()", [file])
        #expect(throws: HistoryError.newerSchema(file: file, migrations: ["v99-future"])) { try HistoryStore(path: file) }
        #expect(HistoryError.newerSchema(file: file, migrations: ["v99-future"]).isInputError)
    }

    @Test("a file that is not a ProxyVet history is refused and left as it was")
    func foreignFiles() throws {
        let text = try TestFiles.write("hosts: [a, b]\n", name: "notes.sqlite")
        #expect {
            try HistoryStore(path: text)
        } throws: { error in
            guard let error = error as? HistoryError, case .notAHistory = error else { return false }
            return error.isInputError
        }
        #expect(try String(contentsOfFile: text, encoding: .utf8) == "hosts: [a, b]\n")

        let other = try Self.freshFile()
        _ = try Self.python("import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\ndb.execute('CREATE TABLE invoices (id INTEGER)')\ndb.commit()", [other])
        #expect {
            try HistoryStore(path: other)
        } throws: { error in
            "\(error)".contains("not a ProxyVet history database (it holds other tables: invoices)")
        }
    }

    @Test("a folder that does not exist is a write failure (exit code 3), named")
    func missingFolder() throws {
        let file = try TestFiles.temporaryFolder().appendingPathComponent("missing/sub/history.sqlite").path
        #expect {
            try HistoryStore(path: file)
        } throws: { error in
            guard let error = error as? HistoryError, case .cannotWrite = error else { return false }
            return !error.isInputError && "\(error)".hasPrefix(file)
        }
    }

    @Test("two runs are recorded with lists, routes, results and conflicts, and compared")
    func twoRunsAndTheirDiff() throws {
        let store = try HistoryStore(path: try Self.freshFile())
        let first = SyntheticRuns.report(verdicts: ["edge c.test": .blocked, "inspect b.test": .tlsIntercepted],
                                         conflicts: [SyntheticRuns.conflict(.routesDisagree, host: "c.test")], finished: 1_700_000_000)
        let second = SyntheticRuns.report(verdicts: ["edge a.test": .tlsIntercepted, "inspect b.test": .blocked, "edge optional.test": .timeout],
                                          violations: ["edge a.test": [.noInspection]],
                                          conflicts: [SyntheticRuns.conflict(.inspectionForbidden, host: "a.test")],
                                          listDate: "2024-02-01", listHash: String(repeating: "cd", count: 32), finished: 1_700_086_400)
        let one = try store.record(first)
        let two = try store.record(second, baseline: one)
        #expect(two == one + 1)

        let runs = try store.runs()
        #expect(runs.map(\.run) == [two, one])
        #expect(runs[0].baseline == one)
        #expect(runs[0].lists.map(\.date) == ["2024-02-01"])
        #expect(runs[0].routes.map(\.name) == ["edge", "inspect"])
        #expect(runs[0].routes[0].credentialSource == "file edge.cred")
        #expect(runs[1].probes == 8)
        #expect(runs[1].libcurl == Curl.version)

        let snapshot = try store.snapshot(run: one)
        #expect(snapshot == RunSnapshot(report: first, run: one))
        #expect(try store.resolve("latest") == two)
        #expect(try store.resolve("previous") == one)
        #expect(try store.resolve("#\(one)") == one)
        #expect(throws: HistoryError.unknownRun(file: store.file, reference: "99")) { try store.resolve("99") }
        #expect(try store.previousRun(before: two) == one)

        let diff = RunDiff.compare(try store.snapshot(run: one), try store.snapshot(run: two))
        #expect(diff.against.run == one)
        #expect(diff.newlyFailing.map { "\($0.route) \($0.url) \($0.transition)" } == [
            "edge https://a.test/ allowed → tls_intercepted (violates noInspection)",
            "edge https://optional.test/ allowed → timeout",
        ])
        #expect(diff.newlyFailing.map(\.required) == [true, false])
        #expect(diff.recovered.map { "\($0.route) \($0.url) \($0.transition)" } == ["edge https://c.test/ blocked → allowed"])
        #expect(diff.verdictChanged.map { "\($0.route) \($0.url) \($0.transition)" } == ["inspect https://b.test/ tls_intercepted → blocked"])
        #expect(diff.newConflicts.map(\.kind) == ["inspection_forbidden"])
        #expect(diff.resolvedConflicts.map(\.kind) == ["routes_disagree"])
        #expect(diff.listsChanged.map { "\($0.name) \($0.fromDate ?? "-") → \($0.toDate ?? "-")" } == ["Managed Desktop 2024-01-01 → 2024-02-01"])
        #expect(diff.headline == "2 newly failing (1 required), 1 recovered, 1 verdict changed, 1 new conflict, 1 resolved conflict, 1 list changed")
    }

    @Test("credentials never reach the history file, even in a proxy URL")
    func noCredentials() throws {
        let file = try Self.freshFile()
        let store = try HistoryStore(path: file)
        var report = SyntheticRuns.report()
        report.routes[1].proxy = "http://svc-probe:Other-Secret-456@127.0.0.1:3130"
        try store.record(report)
        #expect(try store.runs()[0].routes[1].proxy == "http://127.0.0.1:3130")
        // Every byte of the database and its WAL.
        for path in [file, file + "-wal"] {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            #expect(data.range(of: Data("TopSecret-Password-123".utf8)) == nil, "\(path)")
            #expect(data.range(of: Data("Other-Secret-456".utf8)) == nil, "\(path)")
        }
    }

    @Test("recording is one transaction: a run that fails half-way leaves nothing behind")
    func atomicRecord() throws {
        let store = try HistoryStore(path: try Self.freshFile())
        try store.record(SyntheticRuns.report())
        var broken = SyntheticRuns.report(finished: 1_700_000_100)
        // The same (route, URL) twice violates the results' primary key after the run row and some results are in.
        broken.results.append(broken.results[2])
        #expect(throws: (any Error).self) { try store.record(broken) }
        let runs = try store.runs()
        #expect(runs.count == 1)
        #expect(try store.snapshot(run: runs[0].run).results.count == 8)
        #expect(try store.resolve("latest") == runs[0].run)
    }

    @Test("prune keeps the newest runs and the baselines they refer to; numbers are never reused")
    func prune() throws {
        let store = try HistoryStore(path: try Self.freshFile())
        let baseline = try store.record(SyntheticRuns.report(finished: 1_700_000_000))
        var ids = [baseline]
        for day in 1...4 {
            ids.append(try store.record(SyntheticRuns.report(finished: 1_700_000_000 + Double(day) * 86_400), baseline: day >= 3 ? baseline : nil))
        }
        let outcome = try store.prune(keep: 2)
        #expect(outcome.deleted == [ids[1], ids[2]])
        #expect(outcome.keptAsBaseline == [baseline])
        #expect(try store.runs().map(\.run) == [ids[4], ids[3], baseline])
        let next = try store.record(SyntheticRuns.report(finished: 1_700_500_000))
        #expect(next == ids[4] + 1)
        #expect(throws: HistoryError.self) { try store.snapshot(run: ids[1]) }
    }
}
