import Foundation
import Testing
@testable import ProxyVetKit

/// The most common way a network team describes its routing is a PAC file alone: its answers are the routes.
@Suite("A config with only pac:", .enabled(if: Lab.available, "needs the lab: run Scripts/test"))
struct PACOnlyTests {
    @Test("is a complete route description: the PAC's proxies are probed, nothing else is needed")
    func pacOnly() throws {
        let lab = try #require(Lab.current)
        let folder = try TestFiles.temporaryFolder()
        let config = folder.appendingPathComponent("proxyvet.yaml")
        try Data("version: 1\npac: \"http://\(lab.net).1:8081/proxy.pac\"\n".utf8).write(to: config)
        let list = folder.appendingPathComponent("urls.txt")
        try Data("https://allowed.proxyvet-lab.test/\nhttps://x.manage.microsoft.com/\n".utf8).write(to: list)
        let output = folder.appendingPathComponent("reports")
        let run = try CommandRun.proxyvet(["check", list.path, "--config", config.path, "--ca-bundle", lab.originCA, "--timeout", "4",
                                           "--format", "json", "--output", output.path], timeout: 120)
        #expect(run.status == 0 || run.status == 1, "\(run.stderr)")
        let report = try JSONReport.decode(try Data(contentsOf: output.appendingPathComponent("proxyvet-report.json")))
        #expect(report.devices?.source == "pac")
        // The edge pair for allowed.proxyvet-lab.test, inspect for *.manage.microsoft.com: routes the PAC named.
        let routes = Set(report.routes.filter { $0.origin == .pac }.compactMap(\.proxy))
        #expect(routes.isSuperset(of: ["http://\(lab.net).1:3128", "http://\(lab.net).1:3130"]), "\(routes)")
        #expect(report.results.contains { $0.url == "https://allowed.proxyvet-lab.test/" && $0.verdict == .allowed })
        #expect(report.results.contains { $0.url == "https://x.manage.microsoft.com/" && $0.verdict == .tlsIntercepted })
    }
}
