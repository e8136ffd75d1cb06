import Foundation
import Testing
@testable import ProxyVetKit

/// `proxyvet allowlist ...` and `check` as a user runs them (the built binary).
@Suite("allowlist command")
struct AllowListCommandTests {
    static func bundled(_ name: String) -> String { TestFiles.repositoryRoot.appendingPathComponent("AllowLists/\(name)").path }

    @Test("validate: exit 0 for the bundled lists")
    func validateGood() throws {
        let run = try CommandRun.proxyvet(["allowlist", "validate", Self.bundled("intune.yaml"), Self.bundled("microsoft-365.yaml"),
                                           AllowListFixtures.path("mmd-2018.csv")], timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("intune.yaml: valid: 28 services, 231 endpoints (45 wildcards), 178 IP ranges, 170 probe targets (30 policy probes), 180 skipped, 0 corrections"))
        #expect(run.stdout.split(separator: "\n").count == 3)
    }

    @Test("validate: exit 2 and file:line messages for each bad list, the good one still confirmed")
    func validateBad() throws {
        let bad = try TestFiles.write("version: 1\nname: x\nservices:\n  - name: s\n    endpoints:\n      - host: a.test\n        udpPorts: [99999]\n", name: "bad.yaml")
        let badCSV = try TestFiles.write("host,port\nok.test,443\nx.test,http\n", name: "bad.csv")
        let run = try CommandRun.proxyvet(["allowlist", "validate", Self.bundled("windows-autopatch.yaml"), bad, badCSV], timeout: 60)
        #expect(run.status == 2)
        #expect(run.stdout.contains("windows-autopatch.yaml: valid"))
        #expect(run.stderr.contains("proxyvet: \(bad):7: port 99999 is out of range (1 to 65535)"))
        #expect(run.stderr.contains("proxyvet: \(badCSV):3: unknown port \"http\""))
    }

    @Test("diff: exit 1 with differences, JSON on request; exit 0 for the same list")
    func diff() throws {
        let run = try CommandRun.proxyvet(["allowlist", "diff", "--json", "--ignore-services",
                                           AllowListFixtures.path("mmd-2018.csv"), AllowListFixtures.path("mmd-current.csv")], timeout: 60)
        #expect(run.status == 1, "\(run.stderr)")
        let diff = try JSONDecoder().decode(AllowListDiff.self, from: Data(run.stdout.utf8))
        #expect(diff.added.count == 11 && diff.removed.count == 10 && diff.changed.isEmpty)
        let same = try CommandRun.proxyvet(["allowlist", "diff", Self.bundled("intune.yaml"), Self.bundled("intune.yaml")], timeout: 60)
        #expect(same.status == 0)
        #expect(same.stdout.contains("No differences (138 endpoints unchanged)."))
    }

    @Test("show: counts, corrections, skipped reasons and the names probed for wildcards")
    func show() throws {
        let run = try CommandRun.proxyvet(["allowlist", "show", AllowListFixtures.path("mmd-current.csv"), "--tenant", "contoso"], timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("15 services, 362 endpoints (89 wildcards), 0 IP ranges, 342 probe targets (83 policy probes), 0 skipped, 182 corrections"))
        #expect(run.stdout.contains("    2 entries split across lines joined"))
        #expect(run.stdout.contains("*.*.storage.live.com (OneDrive for Business): proxyvet-probe.proxyvet-probe.storage.live.com [policy probe"))
        #expect(run.stdout.contains("joinedSplitEntry: scsquery-ss- | us.trafficmanager.net -> scsquery-ss-us.trafficmanager.net"))
        let json = try CommandRun.proxyvet(["allowlist", "show", "--json", Self.bundled("microsoft-365.yaml")], timeout: 60)
        let summaries = try JSONDecoder().decode([AllowListSummary].self, from: Data(json.stdout.utf8))
        #expect(summaries.first?.skippedByKind == ["addressRange": 259, "tenantPlaceholder": 6, "nonHTTPPort": 8])
    }

    @Test("convert writes YAML that loads back; --fetch reads the web-service JSON from a loopback server")
    func convertAndFetch() throws {
        let json = try String(contentsOfFile: AllowListFixtures.path("m365-worldwide-sample.json"), encoding: .utf8)
        let server = try FakeProxy(.reply("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\nConnection: close\r\n\r\n\(json)"))
        defer { server.stop() }
        let folder = try TestFiles.temporaryFolder()
        let output = folder.appendingPathComponent("m365.yaml").path
        let url = "\(server.url)/endpoints/worldwide?clientrequestid=b10c5ed1-bad1-445f-b386-b919946339a7"
        let run = try CommandRun.proxyvet(["allowlist", "convert", "--fetch", url, "--output", output], timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let converted = try AllowListLoader.load(file: output)
        #expect(converted.services.count == 10)
        #expect(converted.source?.url == url)
        #expect(converted.services.first?.endpointSet?.category == "Optimize")
        let fileImport = try AllowListLoader.load(file: AllowListFixtures.path("m365-worldwide-sample.json"))
        #expect(converted.services.map(\.name) == fileImport.services.map(\.name))

        let missing = try FakeProxy(.reply("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
        defer { missing.stop() }
        let failed = try CommandRun.proxyvet(["allowlist", "show", "--fetch", "\(missing.url)/endpoints/worldwide"], timeout: 60)
        #expect(failed.status == 2)
        #expect(failed.stderr.contains("\(missing.url)/endpoints/worldwide: cannot fetch: HTTP status 404"))
    }

    @Test("check reports which lists were probed: name, version, content hash")
    func checkRecordsLists() throws {
        let origin = try FakeProxy(.reply("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"))
        defer { origin.stop() }
        let list = try TestFiles.write("""
        version: 1
        name: Loopback list
        source: { title: "test", version: "2022072800", date: "2022-07-29" }
        services:
          - name: Origin
            endpoints:
              - host: 127.0.0.1
                ports: [\(origin.port)]
                scheme: http
              - host: time.test
                ports: []
                udpPorts: [123]
        """, name: "loopback.yaml")
        let folder = try TestFiles.temporaryFolder()
        let run = try CommandRun.proxyvet(["check", list, "--direct", "--format", "json", "--output", folder.path, "--quiet", "--timeout", "5"], timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let data = try Data(contentsOf: folder.appendingPathComponent("proxyvet-report.json"))
        let report = try JSONDecoder().decode(CheckReport.self, from: data)
        let expectedHash = try AllowListLoader.load(file: list).contentHash
        #expect(report.lists.map(\.name) == ["Loopback list"])
        #expect(report.lists.first?.source?.version == "2022072800")
        #expect(report.lists.first?.contentHash == expectedHash)
        #expect(report.skipped.map(\.kind) == [.udp])
    }
}
