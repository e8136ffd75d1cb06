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

    @Test("an unknown option is reported first, in every subcommand", arguments: [
        (["check", "--bogus", "x", "LIST"], "Error: Unknown option '--bogus'\n  See 'proxyvet check --help' for more information.\n"),
        (["check", "LIST", "--drect"], "Error: Unknown option '--drect'. Did you mean '--direct'?\n  See 'proxyvet check --help' for more information.\n"),
        (["allowlist", "show", "--fetchh", "http://x.test/"],
         "Error: Unknown option '--fetchh'. Did you mean '--fetch'?\n  See 'proxyvet allowlist show --help' for more information.\n"),
        (["allowlist", "diff", "--json", "--bogus"], "Error: Unknown option '--bogus'\n  See 'proxyvet allowlist diff --help' for more information.\n"),
        (["history", "list", "--histroy", "h.sqlite"],
         "Error: Unknown option '--histroy'. Did you mean '--history'?\n  See 'proxyvet history list --help' for more information.\n"),
        (["history", "prune", "--keep", "0", "-x"], "Error: Unknown option '-x'\n  See 'proxyvet history prune --help' for more information.\n"),
        // The value of --check-option may start with a dash: only --bogus is unknown.
        (["schedule", "install", "--check-option", "--timeout=2", "--bogus"],
         "Error: Unknown option '--bogus'\n  See 'proxyvet schedule install --help' for more information.\n"),
    ])
    func unknownOption(_ arguments: [String], _ message: String) throws {
        let folder = try TestFiles.temporaryFolder()
        let list = try Self.urls(folder)
        let run = try CommandRun.proxyvet(arguments.map { $0 == "LIST" ? list : $0 } + ["--output", folder.appendingPathComponent("out").path],
                                          timeout: 30)
        #expect(run.status == 2)
        #expect(run.stderr == message)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    @Test("with no route, the proxy variables of the environment are named, and how to use them, without their credentials")
    func proxyVariablesHint() throws {
        let folder = try TestFiles.temporaryFolder()
        var environment = ProcessInfo.processInfo.environment.filter { !["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"].contains($0.key) }
        environment["HTTPS_PROXY"] = "http://svc:TopSecret7@proxy1.corp.example:3128"
        let run = try CommandRun.proxyvet(["check", try Self.urls(folder)], timeout: 30, environment: environment)
        #expect(run.status == 2)
        #expect(run.stderr.contains("Name at least one route: --proxy NAME=URL (or --proxy URL)"), "\(run.stderr)")
        #expect(run.stderr.contains("The environment sets HTTPS_PROXY=http://proxy1.corp.example:3128, which ProxyVet does not read unless told to."))
        #expect(run.stderr.contains("--proxy http://proxy1.corp.example:3128 --proxy-credentials proxy1.corp.example:3128=FILE"))
        #expect(!run.stderr.contains("TopSecret7") && !run.stderr.contains("svc"))
    }

    @Test("an HTML page given as a list is one error line (exit code 2)")
    func htmlList() throws {
        let page = try TestFiles.write("<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n<body><p>HTTP Error 503. The service is unavailable.</p></body></html>\n",
                                       name: "endpoints.json")
        let run = try CommandRun.proxyvet(["check", page, "--direct"], timeout: 30)
        #expect(run.status == 2)
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("proxyvet: \(page): this is an HTML page (title \"Service Unavailable\"), not an allow list: "))
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
