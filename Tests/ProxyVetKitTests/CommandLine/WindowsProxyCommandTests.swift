import Foundation
import Testing
@testable import ProxyVetKit

/// `check --windows-proxy` / `--windows-exceptions` and the config's `windows:` as a user meets them: bad input exits 2
/// with the file and line (or the option), and nothing is probed.
@Suite("check: the Windows proxy setting")
struct WindowsProxyCommandTests {
    static let tooLong = (0..<207).map { "host\($0).example" }.joined(separator: ";")

    static let bad: [CheckCommandTests.BadRun] = [
        .init(name: "exceptions over MMD's limit on the command line", arguments: { folder in
            ["check", try CheckCommandTests.urls(folder), "--windows-proxy", "127.0.0.1:9", "--windows-exceptions", tooLong]
        }, message: "proxyvet: --windows-exceptions: the proxy exceptions take \(WindowsProxySetting.grouped(tooLong.utf16.count)) characters"),
        .init(name: "exceptions over MMD's limit in the config", arguments: { folder in
            let config = folder.appendingPathComponent("windows.yaml")
            try Data("version: 1\nwindows:\n  proxy: \"127.0.0.1:9\"\n  exceptions: \"\(tooLong)\"\n".utf8).write(to: config)
            return ["check", try CheckCommandTests.urls(folder), "--config", config.path]
        }, message: "windows.yaml:4: windows: the proxy exceptions take"),
        .init(name: "exceptions without a proxy", arguments: { folder in
            ["check", try CheckCommandTests.urls(folder), "--direct", "--windows-exceptions", "a.test"]
        }, message: "--windows-exceptions needs the proxy they are exceptions to"),
        .init(name: "a proxy without a port", arguments: { folder in
            ["check", try CheckCommandTests.urls(folder), "--windows-proxy", "proxy.test"]
        }, message: "--windows-proxy: proxy \"proxy.test\": expected host:port"),
    ]

    @Test("bad Windows proxy input exits 2 and probes nothing", arguments: bad)
    func badInput(_ bad: CheckCommandTests.BadRun) throws {
        let folder = try TestFiles.temporaryFolder()
        let output = folder.appendingPathComponent("out")
        let run = try CommandRun.proxyvet(try bad.arguments(folder) + ["--output", output.path], timeout: 30)
        #expect(run.status == 2)
        #expect(run.stderr.contains(bad.message), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.path), "nothing may be probed or written")
    }

    @Test("help documents the Windows proxy options")
    func help() throws {
        let run = try CommandRun.proxyvet(["check", "--help"], timeout: 30)
        let folded = run.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(folded.contains("--windows-proxy <host:port> Devices use this proxy as MMD and Intune set it on Windows"), "\(folded)")
        #expect(folded.contains("--windows-exceptions <list> The Windows proxy exceptions that go DIRECT, separated by ; (*.contoso.com;10.*;<local>), at most 2,064 characters."), "\(folded)")
    }
}
