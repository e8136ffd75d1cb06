import Foundation
import Testing
@testable import ProxyVetKit

/// `proxyvet route`, `--pac`, `--client-ip` and `check --plan` as a user meets them.
@Suite("route command and check --plan")
struct RouteCommandTests {
    static let fixture = TestFiles.repositoryRoot.appendingPathComponent("Tests/ProxyVetKitTests/Fixtures/PAC/sites.pac").path

    static func pacConfig(_ folder: URL) throws -> String {
        let config = folder.appendingPathComponent("proxies.yaml")
        try Data("version: 1\nproxies:\n  edge: { url: \"http://edge.corp.test:3128\" }\npac: corp.pac\n".utf8).write(to: config)
        return config.path
    }

    static let bad: [CheckCommandTests.BadRun] = [
        .init(name: "route: a client address that is not IPv4", arguments: { folder in
            ["route", try CheckCommandTests.urls(folder), "--pac", fixture, "--client-ip", "10.20.300.1"]
        }, message: "--client-ip \"10.20.300.1\": not an IPv4 address; myIpAddress() returns a dotted quad such as 10.20.30.40."),
        .init(name: "check: a client address that is not IPv4", arguments: { folder in
            ["check", try CheckCommandTests.urls(folder), "--pac", fixture, "--client-ip", "branch.corp.test"]
        }, message: "--client-ip \"branch.corp.test\": not an IPv4 address"),
        .init(name: "check: two client addresses", arguments: { folder in
            ["check", try CheckCommandTests.urls(folder), "--pac", fixture, "--client-ip", "10.20.0.1", "--client-ip", "10.30.0.1"]
        }, message: "check runs for one site: give one --client-ip (proxyvet route takes several, one column a site)."),
        .init(name: "check: --pac beside the config's pac:", arguments: { folder in
            ["check", try CheckCommandTests.urls(folder), "--config", try pacConfig(folder), "--pac", fixture]
        }, message: "proxies.yaml: --pac \(fixture) and the config's pac: "),
        .init(name: "route: --pac beside the config's pac:", arguments: { folder in
            ["route", try CheckCommandTests.urls(folder), "--config", try pacConfig(folder), "--pac", fixture]
        }, message: "both name the PAC file; give one"),
        .init(name: "route: a PAC that is not there", arguments: { folder in
            ["route", try CheckCommandTests.urls(folder), "--pac", folder.appendingPathComponent("nope.pac").path]
        }, message: "nope.pac: cannot read the PAC file: no such file"),
        .init(name: "check --plan: a report format that needs probes", arguments: { folder in
            ["check", try CheckCommandTests.urls(folder), "--pac", fixture, "--plan", "--format", "md"]
        }, message: "--plan writes the plan as text and, with --format json, as proxyvet-plan.json; --format md needs probes."),
        .init(name: "route: an unknown format", arguments: { folder in
            ["route", try CheckCommandTests.urls(folder), "--pac", fixture, "--format", "html"]
        }, message: "Unknown --format html (text, json, md)."),
        .init(name: "route: no list", arguments: { _ in ["route", "--pac", fixture] },
              message: "Name at least one allow list, e.g. AllowLists/managed-desktop.yaml."),
    ]

    @Test("bad input exits 2 with a clear message, and nothing is written", arguments: bad)
    func badInput(_ bad: CheckCommandTests.BadRun) throws {
        let folder = try TestFiles.temporaryFolder()
        let output = folder.appendingPathComponent("out")
        var arguments = try bad.arguments(folder)
        if arguments.first == "check" { arguments += ["--output", output.path] }
        let run = try CommandRun.proxyvet(arguments, timeout: 30)
        #expect(run.status == 2)
        #expect(run.stderr.contains(bad.message), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: output.path), "nothing may be probed or written")
    }

    @Test("a PAC URL that cannot be fetched exits 2 and names the URL and the status")
    func pacFetchFails() throws {
        let server = try FakeProxy(.reply("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
        defer { server.stop() }
        let folder = try TestFiles.temporaryFolder()
        let pac = server.url + "/proxy.pac"
        let route = try CommandRun.proxyvet(["route", try CheckCommandTests.urls(folder), "--pac", pac], timeout: 30)
        #expect(route.status == 2)
        #expect(route.stderr == "proxyvet: \(pac): cannot fetch the PAC file: HTTP status 404\n")
        let check = try CommandRun.proxyvet(["check", try CheckCommandTests.urls(folder), "--pac", pac, "--plan"], timeout: 30)
        #expect(check.status == 2)
        #expect(check.stderr == "proxyvet: \(pac): cannot fetch the PAC file: HTTP status 404\n")
    }

    @Test("route prints one column a site in text, JSON and Markdown")
    func formats() throws {
        let folder = try TestFiles.temporaryFolder()
        let list = folder.appendingPathComponent("urls.txt")
        try Data("https://x.teams.microsoft.com/\nhttps://portal.manage.microsoft.com/\n".utf8).write(to: list)
        let config = folder.appendingPathComponent("proxies.yaml")
        try Data("version: 1\nproxies:\n  edge: { url: \"http://edge.corp.test:3128\" }\n  mdm: { url: \"http://noinspect.corp.test:8080\" }\n".utf8).write(to: config)
        let common = ["route", list.path, "--config", config.path, "--pac", Self.fixture, "--client-ip", "10.20.4.5", "--client-ip", "192.168.1.10"]

        let text = try CommandRun.proxyvet(common, timeout: 30)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout == """
            Where devices send 2 endpoints of urls.txt; nothing was probed.
            Decided by the PAC \(Self.fixture).
            myIpAddress() per site: 10.20.4.5, 192.168.1.10.

            ENDPOINT                              REQUIRED  SITE 10.20.4.5                        SITE 192.168.1.10
            https://x.teams.microsoft.com/        yes       DIRECT                                PROXY edge.corp.test:3128; PROXY edge2.corp.test:3128 → edge, not configured: PROXY edge2.corp.test:3128
            https://portal.manage.microsoft.com/  yes       PROXY noinspect.corp.test:8080 → mdm  PROXY noinspect.corp.test:8080 → mdm

            """)

        let json = try CommandRun.proxyvet(common + ["--format", "json"], timeout: 30)
        #expect(json.status == 0)
        let plan = try JSONDecoder().decode(RoutePlan.self, from: Data(json.stdout.utf8))
        #expect(plan.schemaVersion == 1)
        #expect(plan.sites == ["10.20.4.5", "192.168.1.10"])
        #expect(plan.endpoints.map(\.url) == ["https://x.teams.microsoft.com/", "https://portal.manage.microsoft.com/"])
        #expect(plan.endpoints[0].sites.map(\.site) == ["10.20.4.5", "192.168.1.10"])
        #expect(plan.routes == [.init(name: "edge", proxy: "http://edge.corp.test:3128"), .init(name: "mdm", proxy: "http://noinspect.corp.test:8080")])
        // The same run twice gives the same bytes.
        #expect(try CommandRun.proxyvet(common + ["--format", "json"], timeout: 30).stdout == json.stdout)

        let markdown = try CommandRun.proxyvet(common + ["--format", "md"], timeout: 30)
        #expect(markdown.status == 0)
        #expect(markdown.stdout.hasPrefix("# Where devices send each endpoint\n\n- Where devices send 2 endpoints of urls.txt; nothing was probed.\n"))
        #expect(markdown.stdout.contains("""
            | Endpoint | Required | Site 10.20.4.5 | Site 192.168.1.10 |
            |---|---|---|---|
            | https://x.teams.microsoft.com/ | yes | DIRECT | PROXY edge.corp.test:3128; PROXY edge2.corp.test:3128 → edge, not configured: PROXY edge2.corp.test:3128 |
            | https://portal.manage.microsoft.com/ | yes | PROXY noinspect.corp.test:8080 → mdm | PROXY noinspect.corp.test:8080 → mdm |
            """), "\(markdown.stdout)")
    }

    @Test("check --plan sends nothing, not even calibration: the proxy's own count stays 0 (and a check does reach it)")
    func planSendsNothing() throws {
        let proxy = try FakeProxy(.reply("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
        defer { proxy.stop() }
        let folder = try TestFiles.temporaryFolder()
        let output = folder.appendingPathComponent("out")
        let list = try CheckCommandTests.urls(folder)
        let plan = try CommandRun.proxyvet(["check", list, "--proxy", "fake=\(proxy.url)", "--direct", "--plan", "--format", "json",
                                            "--output", output.path], timeout: 30)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(proxy.connections == 0)
        #expect(plan.stdout.hasPrefix("Plan: 1 targets × 2 routes = 2 probes. Nothing was sent: no calibration, no probes.\n"), "\(plan.stdout)")
        #expect(plan.stdout.hasSuffix("\nPlan: \(output.appendingPathComponent("proxyvet-plan.json").path)\n"))
        let written = try JSONDecoder().decode(PlanReport.self, from: Data(contentsOf: output.appendingPathComponent("proxyvet-plan.json")))
        #expect(written.summary == .init(targets: 1, routes: 2, probes: 2))
        #expect(written.routes.map(\.name) == ["fake", "direct"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path) == ["proxyvet-plan.json"])
        // The same check without --plan reaches the proxy: the count can tell.
        let check = try CommandRun.proxyvet(["check", list, "--proxy", "fake=\(proxy.url)", "--timeout", "3", "--format", "json",
                                             "--output", output.path, "--quiet"], timeout: 60)
        #expect(check.status == 1, "\(check.stderr)")
        #expect(proxy.connections > 0)
    }

    @Test("check --pac is pac: in a config, and --client-ip picks the site: the plan shows that site's answers")
    func checkPACAndClientAddress() throws {
        let folder = try TestFiles.temporaryFolder()
        let list = folder.appendingPathComponent("urls.txt")
        try Data("https://x.teams.microsoft.com/\n".utf8).write(to: list)
        let branch = try CommandRun.proxyvet(["check", list.path, "--pac", Self.fixture, "--client-ip", "10.20.4.5", "--plan"], timeout: 30)
        #expect(branch.status == 0, "\(branch.stderr)")
        #expect(branch.stdout.contains("Device routing: pac \(Self.fixture), myIpAddress() = 10.20.4.5."), "\(branch.stdout)")
        #expect(branch.stdout.contains("https://x.teams.microsoft.com/  yes       DIRECT → direct  direct"), "\(branch.stdout)")
        let other = try CommandRun.proxyvet(["check", list.path, "--pac", Self.fixture, "--plan", "--format", "json",
                                             "--output", folder.appendingPathComponent("out").path, "--quiet"], timeout: 30)
        #expect(other.status == 0)
        #expect(other.stdout.isEmpty)
        let report = try JSONDecoder().decode(PlanReport.self, from: Data(contentsOf: folder.appendingPathComponent("out/proxyvet-plan.json")))
        #expect(report.devices == .init(source: "pac", pac: Self.fixture, clientAddress: "127.0.0.1"))
        #expect(report.endpoints.first?.answer == "PROXY edge.corp.test:3128; PROXY edge2.corp.test:3128")
        #expect(report.routes.map(\.name) == ["edge.corp.test:3128", "edge2.corp.test:3128"])
    }

    @Test("help documents route, --pac, --client-ip and --plan")
    func help() throws {
        func folded(_ arguments: [String]) throws -> String {
            let run = try CommandRun.proxyvet(arguments, timeout: 30)
            #expect(run.status == 0)
            return run.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        let top = try folded(["--help"])
        #expect(top.contains("route Show where devices send each endpoint of the allow lists (PAC, Windows setting, default route or proxy variables), per site, without probing."), "\(top)")
        let route = try folded(["route", "--help"])
        #expect(route.contains("A PAC is evaluated once per --client-ip (what its myIpAddress() returns), one column a site, and answers as pactester does for the same PAC, URL and client address."), "\(route)")
        #expect(route.contains("--format <format> Output format: text (an aligned table), json or md. (default: text)"), "\(route)")
        let check = try folded(["check", "--help"])
        for text in ["--pac <file|url> The PAC devices use, a file or an http(s) URL: the same as pac: in a config (not both).",
                     "--client-ip <addr> What the PAC's myIpAddress() returns: the client's IPv4 address at a site (default 127.0.0.1). route: repeatable, one column a site; check: one, the site the check runs for.",
                     "--plan Print the targets × routes that would be probed, with the PAC's answers, and send nothing (with --format json also write proxyvet-plan.json)."] {
            #expect(check.contains(text), "\(check)")
        }
    }
}
