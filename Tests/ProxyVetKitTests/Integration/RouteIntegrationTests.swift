import Foundation
import Testing
@testable import ProxyVetKit

/// `proxyvet route` and `check --plan` on the lab: the lab's PAC (fetched from its server) sends a branch office
/// (10.20.0.0/16) through the branch Squid, everyone else through the edge pair.
@Suite("route on the lab", .enabled(if: Lab.available, "needs the lab: run Scripts/test"))
struct RouteIntegrationTests {
    @Test("the lab PAC per site: headquarters on the edge pair, the branch office on branch then edge; DIRECT and failover alike")
    func sites() throws {
        let lab = try #require(Lab.current)
        let folder = try TestFiles.temporaryFolder()
        let list = folder.appendingPathComponent("urls.txt")
        try Data("https://allowed.proxyvet-lab.test/\nhttps://www.direct-ok.proxyvet-lab.test/\nhttps://x.manage.microsoft.com/\n".utf8).write(to: list)
        let run = try CommandRun.proxyvet(["route", list.path, "--config", lab.config, "--client-ip", "127.0.0.1", "--client-ip", "10.20.0.7",
                                           "--format", "json"], timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let plan = try JSONDecoder().decode(RoutePlan.self, from: Data(run.stdout.utf8))
        #expect(plan.source.pac == "http://\(lab.net).1:8081/proxy.pac")
        let labels = plan.endpoints.map { $0.sites.map { $0.alternatives.map(\.label) } }
        #expect(labels == [[["edge", "edge2"], ["branch", "edge"]], [["DIRECT"], ["DIRECT"]], [["inspect"], ["inspect"]]])
    }

    @Test("check --plan --client-ip on the lab config shows the branch office's routes")
    func planForSite() throws {
        let lab = try #require(Lab.current)
        let folder = try TestFiles.temporaryFolder()
        let list = folder.appendingPathComponent("urls.txt")
        try Data("https://allowed.proxyvet-lab.test/\n".utf8).write(to: list)
        let run = try CommandRun.proxyvet(["check", list.path, "--config", lab.config, "--plan", "--client-ip", "10.20.0.7"], timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("https://allowed.proxyvet-lab.test/  yes       PROXY \(lab.net).1:3129; PROXY \(lab.net).1:3128 → branch, edge"),
                "\(run.stdout)")
    }
}
