import Foundation
import Testing
@testable import ProxyVetKit

/// A problem on this machine is never a network finding: a trust file that is not PEM is an input error before anything
/// is sent (exit 2); one libcurl cannot load stops the run (exit 3) instead of blaming every proxy and origin.
@Suite("Local failures are not findings")
struct LocalFailureTests {
    static func list() -> AllowList {
        AllowList(id: "local", name: "local", file: "local", policies: [], services: [Service(name: "local", endpoints: [
            Endpoint(host: "allowed.proxyvet-lab.test", ports: [443], scheme: "https"),
        ])], contentHash: "")
    }

    @Test("a CA bundle that is not PEM is an input error naming the file, and nothing is probed")
    func notPEM() throws {
        let file = try TestFiles.write("this is not a certificate\n", name: "ca.pem")
        var settings = ProbeSettings()
        settings.caBundle = file
        // A proxy address where nothing may be asked: the run must stop before any request.
        let route = try Route.parse(name: "nowhere", url: "http://127.0.0.1:9")
        #expect { try CheckRunner(lists: [Self.list()], routes: [route], settings: settings).run() } throws: { error in
            (error as? InputError)?.description == "\(file): the CA bundle is not a PEM certificate bundle (no -----BEGIN CERTIFICATE----- block)"
        }
    }

    @Test("a PEM block libcurl cannot load stops the run with exit code 3, not findings",
          .enabled(if: Lab.available, "needs the lab: run Scripts/test"))
    func unusableCA() throws {
        let lab = try #require(Lab.current)
        let folder = try TestFiles.temporaryFolder()
        let ca = folder.appendingPathComponent("broken.pem")
        try Data("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".utf8).write(to: ca)
        let list = folder.appendingPathComponent("urls.txt")
        try Data("https://allowed.proxyvet-lab.test/\n".utf8).write(to: list)
        let output = folder.appendingPathComponent("reports")
        let run = try CommandRun.proxyvet(["check", list.path, "--proxy", "edge=\(lab.proxies["edge"] ?? "")", "--ca-bundle", ca.path,
                                           "--timeout", "4", "--output", output.path], timeout: 60)
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("curl 77") && run.stderr.contains("not a network finding"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("proxyvet-report.json").path))
    }
}
