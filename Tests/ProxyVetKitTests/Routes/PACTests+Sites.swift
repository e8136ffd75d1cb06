import Foundation
import Testing
@testable import ProxyVetKit

extension PACTests {
    /// One PAC, several sites: `myIpAddress()` returns each site's client address, and the answers equal pactester's.
    /// Nested in the serialized PAC suite, so no evaluation here overlaps the suite's slow-script test.
    @Suite("PAC per site")
    struct Sites {
        static let fixture = TestFiles.repositoryRoot.appendingPathComponent("Tests/ProxyVetKitTests/Fixtures/PAC/sites.pac").path
        static let branch = try! ClientAddress(parsing: "10.20.4.5")
        static let headquarters = try! ClientAddress(parsing: "192.168.1.10")

        static func target(_ url: String) -> ProbeTarget {
            let components = URLComponents(string: url)
            return ProbeTarget(url: url, scheme: components?.scheme ?? "https", host: components?.host ?? "",
                               port: components?.port ?? (url.hasPrefix("http:") ? 80 : 443),
                               requiredBy: [], required: true, policy: [], policyProbe: false)
        }

        @Test("myIpAddress() returns the client address given, 127.0.0.1 otherwise, and each evaluation uses its own")
        func clientAddress() throws {
            let script = PACScript(source: "site.pac", text: """
                function FindProxyForURL(url, host) {
                    if (isInNet(myIpAddress(), "10.20.0.0", "255.255.0.0")) return "PROXY branch.corp.test:3128";
                    return "PROXY " + myIpAddress() + ":3128";
                }
                """)
            let request = [(url: "https://a.example.test/", host: "a.example.test")]
            #expect(try script.evaluate(request).map(\.text) == ["PROXY 127.0.0.1:3128"])
            #expect(try script.evaluate(request, clientAddress: Self.branch).map(\.text) == ["PROXY branch.corp.test:3128"])
            #expect(try script.evaluate(request, clientAddress: Self.headquarters).map(\.text) == ["PROXY 192.168.1.10:3128"])
            #expect(try script.evaluate(request, clientAddress: Self.branch).map(\.text) == ["PROXY branch.corp.test:3128"])
        }

        @Test("route: one column a site, answers matched to configured proxies, an undeclared proxy named as such")
        func columnsPerSite() throws {
            var config = RouteConfig(routes: [try Route.parse(name: "edge", url: "http://edge.corp.test:3128"),
                                              try Route.parse(name: "branch", url: "http://branch.corp.test:3128")])
            config.pac = Self.fixture
            let list = RoutePlanTests.list(["https://x.teams.microsoft.com/", "https://portal.example.test/", "http://y.example.test/"])
            let plan = try RoutePlan(lists: [list], config: config, clientAddresses: [Self.branch, Self.headquarters], tenant: nil, environment: [:])
            #expect(plan.source == .init(kind: "pac", pac: Self.fixture, description: "the PAC \(Self.fixture)"))
            #expect(plan.sites == ["10.20.4.5", "192.168.1.10"])
            #expect(plan.endpoints.map { $0.sites.map(\.answer) } == [
                ["DIRECT", "PROXY edge.corp.test:3128; PROXY edge2.corp.test:3128"],
                ["PROXY branch.corp.test:3128; PROXY edge.corp.test:3128", "PROXY edge.corp.test:3128; PROXY edge2.corp.test:3128"],
                ["PROXY branch.corp.test:3128; DIRECT", "PROXY edge.corp.test:3128"],
            ])
            #expect(plan.endpoints[0].sites[1].alternatives == [.init(answer: "PROXY edge.corp.test:3128", route: "edge", configured: true),
                                                                .init(answer: "PROXY edge2.corp.test:3128", route: nil, configured: false)])
            #expect(plan.text() == """
                Where devices send 3 endpoints of Lab list (lab.yaml); nothing was probed.
                Decided by the PAC \(Self.fixture).
                myIpAddress() per site: 10.20.4.5, 192.168.1.10.

                ENDPOINT                        REQUIRED  SITE 10.20.4.5                                                         SITE 192.168.1.10
                https://x.teams.microsoft.com/  yes       DIRECT                                                                 PROXY edge.corp.test:3128; PROXY edge2.corp.test:3128 → edge, not configured: PROXY edge2.corp.test:3128
                https://portal.example.test/    yes       PROXY branch.corp.test:3128; PROXY edge.corp.test:3128 → branch, edge  PROXY edge.corp.test:3128; PROXY edge2.corp.test:3128 → edge, not configured: PROXY edge2.corp.test:3128
                http://y.example.test/          yes       PROXY branch.corp.test:3128; DIRECT → branch, DIRECT                   PROXY edge.corp.test:3128 → edge

                """)
        }

        @Test("what a PAC, the config or a list supplies is escaped in Markdown and JSON and cannot break a text row")
        func hostileText() throws {
            let script = """
                function FindProxyForURL(url, host) {
                    if (host == "evil.example.test") return "PROXY under_score.corp.test:8080;\\n\\tDIRECT";
                    return "PROXY edge.corp.test:3128";
                }
                """
            let file = try TestFiles.write(script, name: "hostile.pac")
            var edge = try Route.parse(name: "edge", url: "http://edge.corp.test:3128")
            edge.name = "edge|<img src=x>"
            var config = RouteConfig(routes: [edge])
            config.pac = file
            let list = AllowList(id: "l", name: "List <b>|</b>", file: "l.yaml", services: [Service(name: "S", endpoints: [
                Endpoint(host: "evil.example.test", path: "/a|b<script>`x`[y](z)"), Endpoint(host: "fine.example.test"),
            ])], contentHash: "")
            let plan = try RoutePlan(lists: [list], config: config, clientAddresses: [], tenant: nil, environment: [:])
            #expect(plan.endpoints[0].sites[0].answer == "PROXY under_score.corp.test:8080;\n\tDIRECT")

            let markdown = plan.markdown()
            #expect(!markdown.contains("<script>") && !markdown.contains("<img") && !markdown.contains("<b>"))
            #expect(markdown.contains("| https://evil.example.test/a\\|b&lt;script&gt;\\`x\\`\\[y\\](z) | yes | PROXY under\\_score.corp.test:8080;  DIRECT → not configured: PROXY under\\_score.corp.test:8080, DIRECT |"),
                    "\(markdown)")
            #expect(markdown.contains("| https://fine.example.test/ | yes | PROXY edge.corp.test:3128 → edge\\|&lt;img src=x&gt; |"), "\(markdown)")
            // Every table row has the same number of unescaped pipes: nothing added a cell.
            let rows = markdown.split(separator: "\n").filter { $0.hasPrefix("|") }
            #expect(rows.count == 4)
            #expect(Set(rows.map { $0.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count }) == [4])

            let json = try plan.json()
            #expect(!json.contains("\t") && json.contains(#""answer" : "PROXY under_score.corp.test:8080;\n\tDIRECT""#), "\(json)")
            #expect(try JSONDecoder().decode(RoutePlan.self, from: Data(json.utf8)) == plan)
            // Keys sorted, so two runs diff cleanly.
            #expect(json.hasPrefix("{\n  \"endpoints\" : ["))

            let text = plan.text()
            #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count == 8, "\(text)")
            #expect(text.contains("PROXY under_score.corp.test:8080;  DIRECT → not configured: PROXY under_score.corp.test:8080, DIRECT"))
        }

        /// Every URL of every bundled list (tenant entries filled in), at two sites: ProxyVet's answer is pactester's.
        @Test("answers equal pactester's for every endpoint of the bundled lists at two sites")
        func equalsPactester() throws {
            let pactester = "/usr/bin/pactester"
            try #require(FileManager.default.isExecutableFile(atPath: pactester), "pactester comes with libpacparser1: run Scripts/bootstrap")
            let folder = TestFiles.repositoryRoot.appendingPathComponent("AllowLists")
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
            #expect(files.count >= 4)
            let lists = try AllowListLoader.load(files: files.map { folder.appendingPathComponent($0).path })
            var config = RouteConfig()
            config.pac = Self.fixture
            let plan = try RoutePlan(lists: lists, config: config, clientAddresses: [Self.branch, Self.headquarters], tenant: "contoso",
                                     environment: [:])
            #expect(plan.endpoints.count > 700)
            let work = try TestFiles.temporaryFolder()
            let urlFile = work.appendingPathComponent("urls.txt")
            try Data(plan.endpoints.map { $0.url + "\n" }.joined().utf8).write(to: urlFile)
            for (index, site) in plan.sites.enumerated() {
                let run = try CommandRun.program(URL(fileURLWithPath: pactester), ["-p", Self.fixture, "-f", urlFile.path, "-c", site], timeout: 60)
                #expect(run.status == 0, "\(run.stderr)")
                let theirs = run.stdout.split(separator: "\n").map { line -> (String, String) in
                    let parts = line.components(separatedBy: " : ")
                    return (parts[0], parts.dropFirst().joined(separator: " : "))
                }
                #expect(theirs.count == plan.endpoints.count)
                for (endpoint, answer) in zip(plan.endpoints, theirs) {
                    #expect(endpoint.url == answer.0)
                    #expect(endpoint.sites[index].answer == answer.1, "\(endpoint.url) at \(site)")
                }
            }
            // The comparison covers the PAC's branches: many answers, and sites that differ.
            #expect(Set(plan.endpoints.flatMap { $0.sites.map(\.answer) }).count >= 8)
            #expect(plan.endpoints.filter { $0.sites[0].answer != $0.sites[1].answer }.count > 100)
        }
    }
}
