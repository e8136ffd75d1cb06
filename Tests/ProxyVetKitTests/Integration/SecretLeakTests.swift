import Foundation
import Testing
@testable import ProxyVetKit

/// Proxy credentials never appear in stdout, stderr or any artefact: a check with known passwords through the real
/// authenticating Squid, every report format requested, and every byte written is searched for the secrets.
@Suite("Secrets", .enabled(if: Lab.available, "needs the lab: run Scripts/test"))
struct SecretLeakTests {
    @Test("no password in output, reports or any file written")
    func noLeak() throws {
        let lab = try #require(Lab.current)
        let good = try #require(lab.credentials["good"])
        let goodPassword = try #require(try String(contentsOfFile: good, encoding: .utf8).split(separator: ":", maxSplits: 1).last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let envPassword = goodPassword
        let folder = try TestFiles.temporaryFolder()
        let flagCredentials = folder.appendingPathComponent("flag.cred")
        let flagPassword = "Flag-Secret-\(UUID().uuidString)"
        try Data("probe:\(flagPassword)\n".utf8).write(to: flagCredentials)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: flagCredentials.path)
        let config = folder.appendingPathComponent("proxies.yaml")
        try Data("""
        version: 1
        proxies:
          auth:     { url: "\(lab.proxies["auth"] ?? "")", credentials: { file: "\(good)" } }
          auth-env: { url: "\(lab.proxies["auth"] ?? "")", credentials: { username: probe, passwordEnv: PROXYVET_TEST_PASS } }
        """.utf8).write(to: config)
        let list = folder.appendingPathComponent("urls.txt")
        try Data("https://allowed.proxyvet-lab.test/\nhttp://allowed.proxyvet-lab.test/\nhttps://blocked.proxyvet-lab.test/\n".utf8).write(to: list)
        let output = folder.appendingPathComponent("reports")
        var environment = ProcessInfo.processInfo.environment
        environment["PROXYVET_TEST_PASS"] = envPassword
        let formats = ReportFormat.allCases.flatMap { ["--format", $0.rawValue] }
        let run = try CommandRun.proxyvet(["check", list.path, "--config", config.path, "--proxy", "flagged=\(lab.proxies["auth"] ?? "")",
                                           "--proxy-credentials", "flagged=\(flagCredentials.path)", "--ca-bundle", lab.originCA,
                                           "--timeout", "4", "--output", output.path] + formats,
                                          timeout: 60, environment: environment)
        #expect(run.status == 0 || run.status == 1, "\(run.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: output.path)
        #expect(written.count >= ReportFormat.allCases.count)
        var haystacks = [("stdout", run.stdout), ("stderr", run.stderr)]
        for name in written {
            let data = try Data(contentsOf: output.appendingPathComponent(name))
            haystacks.append((name, String(decoding: data, as: UTF8.self)))
        }
        for secret in [goodPassword, envPassword, flagPassword] {
            #expect(!secret.isEmpty)
            for (name, text) in haystacks {
                #expect(!text.contains(secret), "a password appears in \(name)")
            }
        }
        // The credentials were really used: the good ones (file and environment) pass, the random one is refused.
        let report = try JSONReport.decode(Data(contentsOf: output.appendingPathComponent("proxyvet-report.json")))
        let url = "https://allowed.proxyvet-lab.test/"
        for route in ["auth", "auth-env"] {
            #expect(report.results.first { $0.route == route && $0.url == url }?.verdict == .allowed, "\(route)")
        }
        #expect(report.results.first { $0.route == "flagged" && $0.url == url }?.verdict == .authFailed)
    }
}
