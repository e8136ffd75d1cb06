import Foundation
import Testing
@testable import ProxyVetKit

/// A whole run in the library, as `proxyvet check` runs it, without the executable: exit codes, what is written and
/// recorded when a step fails, and input errors before anything is probed.
@Suite("Check run")
struct CheckRunTests {
    /// An origin on loopback that answers every request with a plain 200 page.
    static func origin() throws -> FakeProxy {
        try FakeProxy(.reply("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"))
    }

    /// A direct check of `urls` into a fresh output folder, with a short timeout; `recorded` in `folder/history.sqlite`.
    static func run(_ urls: [String], folder: URL, recorded: Bool = false) throws -> CheckRun {
        let list = folder.appendingPathComponent("urls.txt")
        try Data((urls.joined(separator: "\n") + "\n").utf8).write(to: list)
        var settings = ProbeSettings()
        settings.timeout = 3
        settings.connectTimeout = 2
        var run = CheckRun(lists: [list.path], routes: RouteInput(direct: true), settings: settings, environment: [:])
        run.outputDirectory = folder.appendingPathComponent("out").path
        if recorded { run.historyFile = folder.appendingPathComponent("history.sqlite").path }
        return run
    }

    @Test("a ready run is exit code 0 and writes the default reports")
    func ready() throws {
        let origin = try Self.origin()
        defer { origin.stop() }
        let folder = try TestFiles.temporaryFolder()
        let outcome = try Self.run(["\(origin.url)/"], folder: folder).run()
        #expect(outcome.report.results.map(\.verdict) == [.allowed])
        #expect(outcome.report.ready)
        #expect(outcome.exitCode == 0)
        #expect(outcome.problems.isEmpty)
        #expect(outcome.written.map { URL(fileURLWithPath: $0).lastPathComponent } == ReportFormat.defaults.map(\.fileName))
        #expect(outcome.historyLines().isEmpty)
        #expect(origin.requests.count == 1 && origin.requests[0].hasPrefix("GET / HTTP/1.1\r\n"), "\(origin.requests)")
    }

    @Test("findings are exit code 1")
    func findings() throws {
        let folder = try TestFiles.temporaryFolder()
        let outcome = try Self.run(["http://127.0.0.1:9/"], folder: folder).run()
        #expect(!outcome.report.ready)
        #expect(outcome.exitCode == 1)
        #expect(outcome.problems.isEmpty)
    }

    @Test("a report folder that cannot be created is exit code 3; the run is still recorded, with its changes")
    func unwritableReports() throws {
        let folder = try TestFiles.temporaryFolder()
        var check = try Self.run(["http://127.0.0.1:9/"], folder: folder, recorded: true)
        let history = check.historyFile ?? ""
        let first = try check.run()
        #expect(first.exitCode == 1)
        #expect(first.historyLines() == ["History run 1 (\(history)): the first run recorded"])
        // A regular file where the folder should be: fails for root too.
        let blocker = folder.appendingPathComponent("blocker")
        try Data("not a folder".utf8).write(to: blocker)
        check.outputDirectory = blocker.appendingPathComponent("reports").path
        check.baseline = "1"
        let second = try check.run()
        #expect(second.exitCode == 3)
        #expect(second.problems.map(\.step) == [.reports])
        #expect(second.problems.first?.message.contains("cannot create the output folder") == true)
        #expect(second.written.isEmpty)
        #expect(try HistoryStore(path: history).runs().map(\.run) == [2, 1])
        #expect(second.report.changes?.run == 2)
        #expect(second.historyLines().prefix(2) == [
            "History run 2 (\(history)):",
            "  since the previous run (run 1 finished \(first.report.generatedAt), not ready): no change",
        ])
        #expect(second.historyLines().last == "  the baseline is the previous run")
    }

    @Test("a Pushgateway that refuses or cannot be reached is exit code 3, and the reports are still written", arguments: [true, false])
    func pushRefused(_ answers: Bool) throws {
        let gateway = try FakeProxy(.reply("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 27\r\nConnection: close\r\n\r\ntext format parsing error\r\n"))
        let url = gateway.url
        // Stopped before the run: nothing listens on the port any more, the push's connection is refused.
        if !answers { gateway.stop() }
        defer { gateway.stop() }
        let folder = try TestFiles.temporaryFolder()
        var check = try Self.run(["http://127.0.0.1:9/"], folder: folder)
        check.pushGateway = url
        check.instance = "site-a"
        check.formats = [.json, .prometheus]
        let outcome = try check.run()
        #expect(outcome.exitCode == 3)
        #expect(outcome.problems.map(\.step) == [.push])
        let message = outcome.problems.first?.message ?? ""
        #expect(message.hasPrefix("\(url)/metrics/job/proxyvet/instance/site-a: push to the Pushgateway failed: "), "\(message)")
        if answers {
            #expect(message.hasSuffix("HTTP status 400: text format parsing error"), "\(message)")
            #expect(gateway.requests.first?.hasPrefix("PUT /metrics/job/proxyvet/instance/site-a HTTP/1.1\r\n") == true, "\(gateway.requests)")
        }
        #expect(outcome.written.count == 2)
        for file in outcome.written { #expect(FileManager.default.fileExists(atPath: file)) }
    }

    @Test("a baseline that is not in the history is an input error before anything is probed or written")
    func wrongBaseline() throws {
        let history = try HistoryCommandTests.history()
        let origin = try Self.origin()
        defer { origin.stop() }
        let folder = try TestFiles.temporaryFolder()
        var check = try Self.run(["\(origin.url)/"], folder: folder)
        check.historyFile = history
        check.baseline = "42"
        #expect { try check.run() } throws: { error in
            (error as? HistoryError) == .unknownRun(file: history, reference: "42") && (error as? HistoryError)?.isInputError == true
        }
        check.historyFile = nil
        #expect { try check.run() } throws: { error in
            "\(error)" == "--baseline names a run of the history: give --history FILE too."
        }
        #expect(origin.requests.isEmpty, "nothing may be probed")
        #expect(!FileManager.default.fileExists(atPath: check.outputDirectory))
        #expect(try HistoryStore(path: history).runs().count == 2)
    }

    @Test("a history that stays locked past its timeout is exit code 3; the reports are still written")
    func lockedHistory() throws {
        var check = try Self.run(["http://127.0.0.1:9/"], folder: try TestFiles.temporaryFolder(), recorded: true)
        let history = check.historyFile ?? ""
        try HistoryStore(path: history).record(SyntheticRuns.report())
        let holder = try ConcurrentHistoryTests.LockHolder(file: history, seconds: 20)
        defer { holder.stop() }
        check.historyTimeout = 0.5
        let outcome = try check.run()
        #expect(outcome.exitCode == 3)
        #expect(outcome.problems.map(\.step) == [.history])
        #expect(outcome.problems.first?.message.contains("the history database is locked by another run") == true)
        #expect(outcome.report.changes == nil)
        #expect(FileManager.default.fileExists(atPath: (check.outputDirectory as NSString).appendingPathComponent("proxyvet-report.json")))
    }

    @Test("bad input is thrown before the history is opened: a list that is an HTML page, a config without routes")
    func inputFirst() throws {
        var check = try Self.run(["http://127.0.0.1:9/"], folder: try TestFiles.temporaryFolder(), recorded: true)
        let history = check.historyFile ?? ""
        try Data("<!doctype html><title>503</title>".utf8).write(to: URL(fileURLWithPath: check.lists[0]))
        #expect(throws: InputErrors.self) { try check.run() }
        check.routes = RouteInput()
        #expect(throws: InputError.self) { try check.run() }
        #expect(!FileManager.default.fileExists(atPath: history))
    }
}
