import Foundation
import Testing
@testable import ProxyVetKit

/// Several writers on one history file: nothing corrupts, a writer waits for another, or gives up clearly.
@Suite("History under concurrent writers")
struct ConcurrentHistoryTests {
    /// Holds SQLite's write lock on `file` from another process (Python's sqlite3) until `stop()` closes its input,
    /// or `seconds` pass. (Closing stdin, not a signal: the child may inherit a blocked signal mask from the test runner.)
    final class LockHolder {
        let process = Process()
        let output = Pipe()
        let input = Pipe()

        init(file: String, seconds: Double) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", """
                import select, sqlite3, sys
                db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
                db.execute("BEGIN IMMEDIATE")
                db.execute("UPDATE run SET tls = tls")
                print("locked", flush=True)
                select.select([sys.stdin], [], [], float(sys.argv[2]))
                db.execute("COMMIT")
                """, file, String(seconds)]
            process.standardOutput = output
            process.standardInput = input
            try process.run()
            // Bounded: the line comes at once, or the holder died (then the test fails on its expectations).
            let line = output.fileHandleForReading.availableLine(timeout: 10)
            guard line == "locked" else { stop(); throw POSIXError(.EAGAIN) }
        }

        func stop() {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    @Test("two stores on one file record concurrently; every run is there and the file is intact")
    func twoWritersInProcess() async throws {
        let file = try HistoryStoreTests.freshFile()
        let first = try HistoryStore(path: file, busyTimeout: 30)
        let second = try HistoryStore(path: file, busyTimeout: 30)
        let report = SyntheticRuns.report()
        let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for store in [first, second] {
                group.addTask { try (0..<15).map { _ in try store.record(report) } }
            }
            var all: [Int64] = []
            for try await ids in group { all += ids }
            return all
        }
        #expect(Set(ids).count == 30)
        #expect(try first.runs().count == 30)
        for id in ids { #expect(try second.snapshot(run: id).results.count == 8) }
        let check = try HistoryStoreTests.python("import sqlite3, sys\nprint(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])", [file])
        #expect(check.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }

    @Test("two proxyvet processes on a new history file: both migrate safely and record every run")
    func twoProcesses() throws {
        let folder = try TestFiles.temporaryFolder()
        let history = folder.appendingPathComponent("history.sqlite").path
        // A direct probe to a closed loopback port: fast and needs no lab.
        let list = try TestFiles.write("http://127.0.0.1:9/\n", name: "closed.txt")
        let script = """
            for i in 1 2 3; do "$0" check "$1" --direct --timeout 2 --quiet --format json --history "$2" --output "$3/out-$4-$i"; echo "exit $?"; done
            """
        let runs = try ["a", "b"].map { name -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", script, CommandRun.binary.path, list, history, folder.path, name]
            process.standardOutput = Pipe()
            try process.run()
            return process
        }
        var outputs: [String] = []
        for process in runs {
            let data = (process.standardOutput as? Pipe)?.fileHandleForReading.readDataToEndOfFile() ?? Data()
            process.waitUntilExit()
            outputs.append(String(decoding: data, as: UTF8.self))
        }
        // Exit code 1: the closed port is a finding. Never 3: each waited for the other instead of failing.
        for output in outputs { #expect(output.split(separator: "\n") == ["exit 1", "exit 1", "exit 1"], "\(output)") }
        let store = try HistoryStore(path: history)
        #expect(try store.runs().count == 6)
        #expect(Set(try store.runs().map(\.run)).count == 6)
    }

    @Test("a writer waits for a lock held less than its timeout, and gives up clearly after it")
    func busyWaitsThenFails() throws {
        let file = try HistoryStoreTests.freshFile()
        let store = try HistoryStore(path: file, busyTimeout: 0.3)
        try store.record(SyntheticRuns.report())

        let holder = try LockHolder(file: file, seconds: 4)
        defer { holder.stop() }
        #expect(throws: HistoryError.busy(file: file, timeoutSeconds: 0.3)) { try store.record(SyntheticRuns.report()) }
        #expect(!HistoryError.busy(file: file, timeoutSeconds: 0.3).isInputError)
        #expect("\(HistoryError.busy(file: file, timeoutSeconds: 0.3))".contains("locked by another run"))
        // Readers are not blocked by a writer (WAL).
        #expect(try store.runs().count == 1)

        let patient = try HistoryStore(path: file, busyTimeout: 30)
        let id = try patient.record(SyntheticRuns.report())
        #expect(try patient.runs().map(\.run).first == id)
        #expect(try patient.runs().count == 2)
    }
}

extension FileHandle {
    /// The first line written to this pipe within `timeout` seconds, or nil.
    func availableLine(timeout: Double) -> String? {
        let box = CommandRun.DataBox()
        let reader = Thread { [self] in
            var data = Data()
            while let byte = try? read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { data.append(byte) }
            box.set(data)
        }
        reader.start()
        let deadline = Date().addingTimeInterval(timeout)
        while !box.done && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return box.done ? String(decoding: box.data, as: UTF8.self) : nil
    }
}
