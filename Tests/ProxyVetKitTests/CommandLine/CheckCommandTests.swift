import Foundation
import Testing
@testable import ProxyVetKit

/// The command line as a user meets it: bad input gets a clear message and exit code 2, and nothing is probed.
@Suite("check command")
struct CheckCommandTests {
    struct BadRun: Sendable, CustomStringConvertible {
        let name: String
        let arguments: @Sendable (URL) throws -> [String]
        let message: String
        var description: String { name }
    }

    static let bad: [BadRun] = [
        BadRun(name: "no list", arguments: { _ in ["check", "--proxy", "a=http://127.0.0.1:9"] }, message: "Name at least one allow list"),
        BadRun(name: "no route", arguments: { folder in ["check", try urls(folder)] }, message: "Name at least one route"),
        BadRun(name: "zero concurrency", arguments: { folder in ["check", try urls(folder), "--direct", "--concurrency", "0"] }, message: "--concurrency must be between 1 and 1024"),
        BadRun(name: "credentials in the URL", arguments: { folder in ["check", try urls(folder), "--proxy", "a=http://u:secret@127.0.0.1:9"] },
               message: "credentials in the proxy URL are not accepted"),
        BadRun(name: "missing list", arguments: { folder in ["check", folder.appendingPathComponent("nope.yaml").path, "--direct"] }, message: "nope.yaml: cannot read the allow list"),
        BadRun(name: "config with an upstream loop", arguments: { folder in
            let config = folder.appendingPathComponent("loop.yaml")
            try Data("version: 1\nproxies:\n  a: { url: \"http://127.0.0.1:9\", upstream: a }\n".utf8).write(to: config)
            return ["check", try urls(folder), "--config", config.path]
        }, message: "loop.yaml:3: proxy a: the upstream chain loops (a → a)"),
        BadRun(name: "bad list line", arguments: { folder in
            let list = folder.appendingPathComponent("bad.txt")
            try Data("ok.test\nftp://x.test/\n".utf8).write(to: list)
            return ["check", list.path, "--direct"]
        }, message: "bad.txt:2: unsupported scheme \"ftp\""),
    ]

    static func urls(_ folder: URL) throws -> String {
        let file = folder.appendingPathComponent("urls.txt")
        try Data("https://a.example.test/\n".utf8).write(to: file)
        return file.path
    }

    @Test("bad input exits 2 with a clear message and probes nothing", arguments: bad)
    func badInput(_ bad: BadRun) throws {
        let folder = try TestFiles.temporaryFolder()
        let output = folder.appendingPathComponent("out")
        let run = try CommandRun.proxyvet(try bad.arguments(folder) + ["--output", output.path], timeout: 30)
        #expect(run.status == 2)
        #expect(run.stderr.contains(bad.message), "\(run.stderr)")
        #expect(!run.stderr.contains("secret"))
        #expect(!FileManager.default.fileExists(atPath: output.path), "nothing may be probed or written")
    }

    @Test("help documents the exit codes")
    func help() throws {
        let run = try CommandRun.proxyvet(["check", "--help"], timeout: 30)
        #expect(run.status == 0)
        // Help text is wrapped to the terminal width: compare with white space folded.
        let folded = run.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(folded.contains("Exit codes: 0 ready, 1 findings, 2 usage, config or allow-list error"), "\(folded)")
    }
}
