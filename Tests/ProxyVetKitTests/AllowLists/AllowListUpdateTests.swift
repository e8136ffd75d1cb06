import Foundation
import Testing
@testable import ProxyVetKit

/// A loopback stand-in for `endpoints.office.com`: serves recorded answers (Fixtures/AllowLists, see its README) by
/// path and notes every request line, so a test can say which methods were called and with which ClientRequestId.
final class RecordedWebService: @unchecked Sendable {
    /// What the server answers: full HTTP responses for the version method, the default endpoints answer and the
    /// `ServiceAreas=MEM` answer.
    struct Answers {
        var version: String
        var endpoints: String
        var intune = RecordedWebService.json(file: "m365-webservice-endpoints-mem.json")
    }

    private final class Log: @unchecked Sendable {
        let lock = NSLock()
        var lines: [String] = []
    }

    private let log = Log()
    private let server: FakeProxy

    init(_ answers: Answers) throws {
        let log = self.log
        server = try FakeProxy(.respond { request in
            let line = String(request.prefix { !$0.isNewline })
            log.lock.withLock { log.lines.append(line) }
            var target = line.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            // Asked as a proxy (absolute form): the path is what follows the host.
            if let scheme = target.range(of: "://") { target = String(target[scheme.upperBound...].drop { $0 != "/" }) }
            if target.hasPrefix("/version/Worldwide?") { return answers.version }
            if target.hasPrefix("/endpoints/Worldwide?ServiceAreas=MEM&") { return answers.intune }
            if target.hasPrefix("/endpoints/Worldwide?") { return answers.endpoints }
            return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        })
    }

    /// The recorded service at one version: its version answer and its endpoint sets.
    convenience init(version: String) throws {
        try self.init(Answers(version: Self.json(file: "m365-webservice-version-\(version).json"),
                              endpoints: Self.json(file: "m365-webservice-endpoints-\(version).json")))
    }

    deinit { server.stop() }

    var url: String { server.url }

    /// The request lines served so far (`GET /version/Worldwide?ClientRequestId=… HTTP/1.1`).
    var requests: [String] { log.lock.withLock { log.lines } }

    /// A 200 answer carrying a fixture's JSON.
    static func json(file: String) -> String {
        ok(body: (try? String(contentsOfFile: AllowListFixtures.path(file), encoding: .utf8)) ?? "", type: "application/json; charset=utf-8")
    }

    /// A 200 answer with this body.
    static func ok(body: String, type: String) -> String {
        "HTTP/1.1 200 OK\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    }

    /// A recorded `.http` fixture (comment lines, status line, headers, blank line, body) as a response on the wire.
    static func http(file: String) -> String {
        let text = (try? String(contentsOfFile: AllowListFixtures.path(file), encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).drop { $0.hasPrefix("#") }
        let head = lines.prefix { !$0.isEmpty }
        let body = lines.dropFirst(head.count + 1).joined(separator: "\n")
        return head.joined(separator: "\r\n") + "\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
    }
}

/// `proxyvet allowlist update` against recorded answers of the Microsoft 365 web service.
@Suite("allowlist update")
struct AllowListUpdateTests {
    /// A list file's bytes, inode and modification time: a rewrite (a rename over it) changes the inode.
    struct FileState: Equatable {
        var bytes: Data
        var inode: Int
        var modified: Date

        init(_ path: String) throws {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            inode = (attributes[.systemFileNumber] as? NSNumber)?.intValue ?? -1
            modified = attributes[.modificationDate] as? Date ?? .distantPast
        }
    }

    /// A fresh lists folder and a state folder for the machine's ClientRequestId.
    static func folders() throws -> (lists: String, state: String) {
        let root = try TestFiles.temporaryFolder()
        return (root.appendingPathComponent("lists").path, root.appendingPathComponent("state").path)
    }

    static func update(_ service: RecordedWebService, lists: String, state: String, _ extra: [String] = []) throws -> CommandRun {
        try CommandRun.proxyvet(["allowlist", "update", "--service-url", service.url, "--lists", lists] + extra, timeout: 60,
                                environment: ["XDG_STATE_HOME": state])
    }

    /// The library's update, in process, with a fixed ClientRequestId.
    static func run(_ service: RecordedWebService, lists: String, dryRun: Bool = false, force: Bool = false) throws -> M365WebService.Update {
        let web = M365WebService(base: service.url, clientRequestID: "b10c5ed1-bad1-445f-b386-b919946339a7", fetcher: HTTPFetcher(timeout: 10))
        return try M365WebService.Update.run(web, lists: lists, dryRun: dryRun, force: force,
                                             now: Date(timeIntervalSince1970: 1_764_633_600))
    }

    @Test("first update writes both lists; a second with the same version asks only the version and rewrites nothing")
    func firstThenSame() throws {
        let (lists, state) = try Self.folders()
        let service = try RecordedWebService(version: "2021052800")
        let first = try Self.update(service, lists: lists, state: state)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.isEmpty)
        let m365 = lists + "/microsoft-365.yaml", intune = lists + "/intune.yaml"
        #expect(first.stdout.hasPrefix("Microsoft 365 IP Address and URL web service, Worldwide instance: version 2021052800 (no version recorded before).\n"))
        #expect(first.stdout.contains("\n\(intune): written (new): 16 endpoint sets, 80 endpoints.\n"))
        #expect(first.stdout.contains("\n\(m365): written (new): 12 endpoint sets, 60 endpoints.\n"))
        let list = try AllowListLoader.load(file: m365)
        #expect(list.source == ListSource(title: "Microsoft 365 IP Address and URL web service, Worldwide instance",
                                          url: "\(service.url)/endpoints/Worldwide", date: "2021-05-28",
                                          retrieved: list.source?.retrieved, version: "2021052800"))
        #expect(list.services.compactMap(\.endpointSet?.id) == [1, 5, 8, 9, 31, 37, 39, 11, 12, 46, 56, 59])
        #expect(try AllowListLoader.load(file: intune).source?.url == "\(service.url)/endpoints/Worldwide?ServiceAreas=MEM")

        // One ClientRequestId per machine: kept in the state folder and sent on every call.
        let id = try String(contentsOfFile: state + "/proxyvet/m365-client-request-id", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(M365WebService.ClientRequestID.isValid(id))
        #expect(service.requests == ["GET /version/Worldwide?ClientRequestId=\(id) HTTP/1.1",
                                     "GET /endpoints/Worldwide?ClientRequestId=\(id) HTTP/1.1",
                                     "GET /endpoints/Worldwide?ServiceAreas=MEM&ClientRequestId=\(id) HTTP/1.1"])

        let before = try (FileState(m365), FileState(intune))
        let second = try Self.update(service, lists: lists, state: state)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout == "Microsoft 365 IP Address and URL web service, Worldwide instance: version 2021052800, as \(m365) records. Nothing was rewritten.\n")
        #expect(try (FileState(m365), FileState(intune)) == before)
        #expect(service.requests.dropFirst(3) == ["GET /version/Worldwide?ClientRequestId=\(id) HTTP/1.1"])
    }

    @Test("a newer version rewrites both lists and the printed diff names the changed endpoints")
    func newerVersion() throws {
        let (lists, state) = try Self.folders()
        let old = try RecordedWebService(version: "2021052800")
        #expect(try Self.update(old, lists: lists, state: state).status == 0)
        let m365 = lists + "/microsoft-365.yaml", intune = lists + "/intune.yaml"
        let before = try (FileState(m365), FileState(intune))

        let new = try RecordedWebService(version: "2022072800")
        let run = try Self.update(new, lists: lists, state: state)
        #expect(run.status == 0, "\(run.stderr)")
        let out = run.stdout
        #expect(out.hasPrefix("Microsoft 365 IP Address and URL web service, Worldwide instance: version 2021052800 -> 2022072800.\n"))
        #expect(out.contains("\n\(m365): written: 12 endpoint sets, 59 endpoints.\n"))
        #expect(out.contains("  4 added, 4 removed, 1 changed, 53 unchanged; IP ranges 2 added, 10 removed\n"))
        for line in ["  + *.auth.microsoft.com  (TCP 80, 443; required; in Microsoft 365 Common and Office Online, endpoint set 56)",
                     "  + *.gr.global.aa-rt.sharepoint.com  (TCP 80, 443; required; in SharePoint Online and OneDrive for Business, endpoint set 39)",
                     "  + <tenant>-admin.sharepoint.com  (TCP 80, 443; required; in SharePoint Online and OneDrive for Business, endpoint set 39)",
                     "  - cdn.sharepointonline.com  (TCP 80, 443; required; in SharePoint Online and OneDrive for Business, endpoint set 37)",
                     "  - static.sharepointonline.com  (TCP 80, 443; required; in SharePoint Online and OneDrive for Business, endpoint set 37)",
                     // Set 8 dropped it: the wildcard is left only in set 5, optional and on the IMAP ports.
                     "  ~ *.outlook.office.com: ports 80, 143, 443, 993 -> 143, 993; required true -> false; services Exchange Online, endpoint set 5, Exchange Online, endpoint set 8 -> Exchange Online, endpoint set 5",
                     "    + 2603:1061:1300::/40", "    - 2603:1096::/38"] {
            #expect(out.contains(line + "\n"), "missing: \(line)")
        }
        // The Intune sets did not change, but the list records the new version.
        #expect(out.contains("\n\(intune): written: 16 endpoint sets, 80 endpoints.\n  old: "))
        #expect(out.contains("  No differences (79 endpoints unchanged).\n"))
        let after = try (FileState(m365), FileState(intune))
        #expect(after.0.inode != before.0.inode && after.1.inode != before.1.inode)
        #expect(try AllowListLoader.load(file: m365).source?.version == "2022072800")
        #expect(try AllowListLoader.load(file: intune).source?.version == "2022072800")
    }

    @Test("a 503 HTML page gives one clear error naming the URL, exit 3, and leaves the lists untouched",
          arguments: ["version", "endpoints"])
    func serviceUnavailable(_ failing: String) throws {
        let (lists, state) = try Self.folders()
        #expect(try Self.update(RecordedWebService(version: "2021052800"), lists: lists, state: state).status == 0)
        let m365 = lists + "/microsoft-365.yaml", intune = lists + "/intune.yaml"
        let before = try (FileState(m365), FileState(intune))
        let page = RecordedWebService.http(file: "m365-webservice-503.http")
        let newer = RecordedWebService.json(file: "m365-webservice-version-2022072800.json")
        let service = try RecordedWebService(.init(version: failing == "version" ? page : newer, endpoints: page))
        let run = try Self.update(service, lists: lists, state: state)
        #expect(run.status == 3)
        #expect(run.stdout.isEmpty)
        let id = try String(contentsOfFile: state + "/proxyvet/m365-client-request-id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let url = failing == "version" ? "\(service.url)/version/Worldwide?ClientRequestId=\(id)" : "\(service.url)/endpoints/Worldwide?ClientRequestId=\(id)"
        #expect(run.stderr == "proxyvet: \(url): HTTP status 503: an HTML page (title \"Service Unavailable\"), not the web service's JSON; nothing was rewritten.\n")
        #expect(try (FileState(m365), FileState(intune)) == before)
    }

    @Test("the MEM sets become the Intune list: category and required kept, notes kept, and policy tags where the notes state them")
    func intuneFromMEM() throws {
        let (lists, _) = try Self.folders()
        let service = try RecordedWebService(version: "2022072800")
        let update = try Self.run(service, lists: lists)
        #expect(update.files.map(\.action) == [.written, .written])
        let list = try AllowListLoader.load(file: lists + "/intune.yaml")
        #expect(list.id == "intune" && list.name == "Microsoft Intune network endpoints")
        #expect(list.services.compactMap(\.endpointSet?.id) == [163, 172, 170, 190, 189, 192, 179, 171, 181, 187, 188, 164, 165, 169, 173, 182])
        #expect(list.services.allSatisfy { $0.endpointSet?.serviceArea == "MEM" })
        let core = try #require(list.services.first)
        #expect(core.name == "MEM, endpoint set 163")
        #expect(core.endpointSet == EndpointSet(id: 163, serviceArea: "MEM", category: "Allow", expressRoute: false, required: true))
        #expect(core.endpoints.map(\.host) == ["*.manage.microsoft.com", "manage.microsoft.com", "*.dm.microsoft.com", "enterpriseenrollment.manage.microsoft.com"])
        #expect(core.addresses?.ranges.count == 90)
        // What the importer corrected is written as a comment at the top of the file.
        let text = try String(contentsOfFile: lists + "/intune.yaml", encoding: .utf8)
        #expect(text.contains("\n# Corrections made while importing (2):\n#   line 77: lowercased: EnterpriseEnrollment.manage.microsoft.com -> enterpriseenrollment.manage.microsoft.com\n"))
        #expect(core.notes?.hasPrefix("For some tasks, Intune requires unauthenticated proxy server access") == true)

        let source = M365WebService.notesPolicySource + "163"
        #expect(list.policies == [
            PolicyRule(tag: .noProxyAuth, patterns: ["manage.microsoft.com", "*.azureedge.net", "graph.microsoft.com"], source: source,
                       quote: "For some tasks, Intune requires unauthenticated proxy server access to manage.microsoft.com, *.azureedge.net, and graph.microsoft.com."),
            PolicyRule(tag: .noInspection, patterns: ["*.manage.microsoft.com", "*.dm.microsoft.com"], source: source,
                       quote: "SSL traffic inspection isn't supported for '*.manage.microsoft.com', '*.dm.microsoft.com', or the Device Health Attestation (DHA) endpoints listed in the compliance section."),
        ])
        // Notes that state no policy stay notes.
        #expect(list.services.first { $0.endpointSet?.id == 172 }?.notes == "To use Delivery Optimization, you must allow Byte Range requests.")
        #expect(list.services.first { $0.endpointSet?.id == 179 }?.notes == "Starting March 2025, azureedge.net domains will migrate to manage.microsoft.com")

        let plan = TargetPlanner().plan([list])
        func policy(_ host: String) -> [PolicyTag] { plan.targets.first { $0.host == host }?.policy ?? [] }
        #expect(policy("manage.microsoft.com") == [.noProxyAuth])
        #expect(policy("proxyvet-probe.manage.microsoft.com") == [.noInspection])
        #expect(policy("intunecdnpeasd.azureedge.net") == [.noProxyAuth])
        #expect(policy("go.microsoft.com") == [])
        #expect(plan.skipped.first { $0.entry == "time.windows.com" }?.kind == .udp)

        // The Microsoft 365 list has no MEM set, and the Common sets of the MEM answer are not in the Intune list.
        let m365 = try AllowListLoader.load(file: lists + "/microsoft-365.yaml")
        #expect(!m365.services.contains { $0.endpointSet?.serviceArea == "MEM" })
        #expect(!list.services.contains { $0.endpointSet?.serviceArea == "Common" })
    }

    @Test("an instance without MEM sets leaves the Intune list as it is; MEM sets found in the default answer are taken from there")
    func withoutMEM() throws {
        let (lists, _) = try Self.folders()
        try FileManager.default.createDirectory(atPath: lists, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TestFiles.repositoryRoot.appendingPathComponent("AllowLists/intune.yaml").path, toPath: lists + "/intune.yaml")
        let before = try FileState(lists + "/intune.yaml")
        let version = RecordedWebService.json(file: "m365-webservice-version-2022072800.json")
        let m365 = RecordedWebService.json(file: "m365-webservice-endpoints-2022072800.json")
        let none = try RecordedWebService(.init(version: version, endpoints: m365, intune: m365))
        let update = try Self.run(none, lists: lists)
        #expect(update.files.map(\.action) == [.written, .notPublished])
        #expect(update.text().contains("\n\(lists)/intune.yaml: left as it is: the Worldwide instance publishes no endpoint sets of service area MEM (Intune).\n"))
        #expect(try FileState(lists + "/intune.yaml") == before)

        let mem = RecordedWebService.json(file: "m365-webservice-endpoints-mem.json")
        let other = try Self.folders().lists
        let inDefault = try RecordedWebService(.init(version: version, endpoints: mem, intune: m365))
        #expect(try Self.run(inDefault, lists: other).files.map(\.endpointSets) == [3, 16])
        #expect(try AllowListLoader.load(file: other + "/intune.yaml").services.allSatisfy { $0.endpointSet?.serviceArea == "MEM" })
    }

    @Test("an update keeps the hand-written policies of the bundled Intune list and says so; the bundled Microsoft 365 list's version is honoured")
    func bundledLists() throws {
        let (lists, _) = try Self.folders()
        try FileManager.default.createDirectory(atPath: lists, withIntermediateDirectories: true)
        for name in ["microsoft-365.yaml", "intune.yaml"] {
            try FileManager.default.copyItem(atPath: TestFiles.repositoryRoot.appendingPathComponent("AllowLists/\(name)").path, toPath: lists + "/" + name)
        }
        let before = try FileState(lists + "/intune.yaml")
        // The bundled list was transcribed from the table of version 2022072800: nothing to do at that version.
        let service = try RecordedWebService(version: "2022072800")
        let same = try Self.run(service, lists: lists)
        #expect(!same.fetched && same.files.isEmpty)
        #expect(service.requests.count == 1)

        let forced = try Self.run(service, lists: lists, dryRun: true, force: true)
        #expect(forced.files.map(\.action) == [.wouldWrite, .wouldWrite])
        #expect(forced.text().hasSuffix("\nDry run: nothing was written.\n"))
        #expect(forced.remarks == ["Kept from the previous intune list (not from the web service): noProxyAuth (section Access for managed devices); noInspection (section Access for managed devices, and the device health attestation section it links to)."])
        #expect(try FileState(lists + "/intune.yaml") == before)

        let written = try Self.run(service, lists: lists, force: true)
        let intune = try AllowListLoader.load(file: lists + "/intune.yaml")
        #expect(written.files.map(\.action) == [.written, .written])
        #expect(intune.policies.map(\.tag) == [.noProxyAuth, .noInspection, .noProxyAuth, .noInspection])
        #expect(intune.policies.first?.quote == "For some tasks, Intune requires unauthenticated proxy server access to manage.microsoft.com, *.azureedge.net, and graph.microsoft.com.")
    }

    @Test("keys the web service adds are ignored and reported; an answer the importer cannot read is the service's error")
    func addedKeysAndBadSets() throws {
        let (lists, _) = try Self.folders()
        let text = try String(contentsOfFile: AllowListFixtures.path("m365-webservice-endpoints-2022072800.json"), encoding: .utf8)
        let added = text.replacingOccurrences(of: "\"id\": 1,", with: "\"id\": 1,\n  \"effectiveDate\": \"20220801\",")
        let version = RecordedWebService.json(file: "m365-webservice-version-2022072800.json")
        let service = try RecordedWebService(.init(version: version, endpoints: RecordedWebService.ok(body: added, type: "application/json")))
        let update = try Self.run(service, lists: lists)
        #expect(update.remarks == ["The answers hold keys this version of ProxyVet does not know; they were ignored: effectiveDate."])
        #expect(try AllowListLoader.load(file: lists + "/microsoft-365.yaml").services.count == 12)

        let broken = text.replacingOccurrences(of: "\"tcpPorts\": \"143,993\"", with: "\"tcpPorts\": \"imap\"")
        let bad = try RecordedWebService(.init(version: version, endpoints: RecordedWebService.ok(body: broken, type: "application/json")))
        #expect(broken != text)
        let other = try Self.folders().lists
        #expect(throws: WebServiceError(url: "\(bad.url)/endpoints/Worldwide?ClientRequestId=b10c5ed1-bad1-445f-b386-b919946339a7",
                                        problem: "an endpoint set cannot be read: line 45: endpoint set 5: unknown port \"imap\" in tcpPorts")) {
            try Self.run(bad, lists: other)
        }
        #expect(!FileManager.default.fileExists(atPath: other))
    }

    @Test("--fetch-proxy: every request goes through the proxy, for a service name only the proxy resolves")
    func throughProxy() throws {
        let (lists, state) = try Self.folders()
        let proxy = try RecordedWebService(version: "2022072800")
        let run = try CommandRun.proxyvet(["allowlist", "update", "--service-url", "http://endpoints.proxyvet.invalid", "--fetch-proxy", proxy.url,
                                           "--lists", lists], timeout: 60, environment: ["XDG_STATE_HOME": state])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(proxy.requests.map { $0.components(separatedBy: "ClientRequestId=")[0] }
            == ["GET http://endpoints.proxyvet.invalid/version/Worldwide?", "GET http://endpoints.proxyvet.invalid/endpoints/Worldwide?",
                "GET http://endpoints.proxyvet.invalid/endpoints/Worldwide?ServiceAreas=MEM&"])
        #expect(try AllowListLoader.load(file: lists + "/microsoft-365.yaml").source?.url == "http://endpoints.proxyvet.invalid/endpoints/Worldwide")
    }

    @Test("names the service supplies are escaped in the printed diff")
    func escapedDiff() throws {
        let (lists, _) = try Self.folders()
        _ = try Self.run(RecordedWebService(version: "2021052800"), lists: lists)
        let text = try String(contentsOfFile: AllowListFixtures.path("m365-webservice-endpoints-2022072800.json"), encoding: .utf8)
        let hostile = text.replacingOccurrences(of: "\"SharePoint Online and OneDrive for Business\"", with: "\"SharePoint\\u001b[2J\"")
        let version = RecordedWebService.json(file: "m365-webservice-version-2022072800.json")
        let service = try RecordedWebService(.init(version: version, endpoints: RecordedWebService.ok(body: hostile, type: "application/json")))
        let printed = try Self.run(service, lists: lists).text()
        #expect(printed.contains("  + *.gr.global.aa-rt.sharepoint.com  (TCP 80, 443; required; in SharePoint [2J, endpoint set 39)\n"))
        #expect(!printed.contains("\u{1B}"))
    }

    @Test("what came back, in a few words", arguments: [
        (200, "text/html", "<html><head><title>Sign in &amp; continue</title></head></html>", "an HTML page (title \"Sign in & continue\")"),
        (200, nil, "\n  <!DOCTYPE html><p>no title</p>", "an HTML page without a title"),
        (200, "text/html", "<title>\u{1B}[31mred\nline</title>", "an HTML page (title \" [31mred line\")"),
        (200, "application/json", "", "an empty answer"),
        (200, "application/json", "{\"instance\": \"World", "19 bytes of application/json starting \"{\\\"instance\\\": \\\"World\""),
        (200, nil, "plain\ttext", "10 bytes of data without a content type starting \"plain text\""),
    ] as [(Int, String?, String, String)])
    func whatCameBack(_ status: Int, _ type: String?, _ body: String, _ expected: String) {
        #expect(M365WebService.whatCameBack(HTTPFetcher.Answer(status: status, contentType: type, body: Data(body.utf8))) == expected)
    }

    @Test("answers that are not the version method's JSON are errors naming the URL", arguments: [
        (RecordedWebService.ok(body: "{\"instance\": \"Worldwide\", \"latest\": 2022072800}", type: "application/json"),
         "JSON, but not the version method's answer ({\"instance\": \"Worldwide\", \"latest\": \"YYYYMMDDNN\"}): 47 bytes of application/json starting \"{\\\"instance\\\": \\\"Worldwide\\\", \\\"latest\\\": 2022…\""),
        (RecordedWebService.ok(body: "{\"instance\": \"China\", \"latest\": \"2022072800\"}", type: "application/json"),
         "the answer is for instance \"China\", not Worldwide"),
        (RecordedWebService.ok(body: "{\"instance\": \"Worldwide\", \"latest\": \"20220728\"}", type: "application/json"),
         "the latest version is \"20220728\", not ten digits (YYYYMMDDNN)"),
        (RecordedWebService.ok(body: "{\"instance\": \"Worldwide\", \"latest\": ", type: "application/json"),
         "not valid JSON: 36 bytes of application/json starting \"{\\\"instance\\\": \\\"Worldwide\\\", \\\"latest\\\": \""),
        (RecordedWebService.ok(body: "<html><title>Proxy login</title></html>", type: "text/html"),
         "an HTML page (title \"Proxy login\"), not the web service's JSON"),
        ("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
         "HTTP status 429: an empty answer, not the web service's JSON (too many requests: the endpoints method is rate limited; Microsoft asks to wait an hour)"),
    ])
    func badVersionAnswers(_ answer: String, _ problem: String) throws {
        let service = try RecordedWebService(.init(version: answer, endpoints: answer))
        let web = M365WebService(base: service.url + "/", clientRequestID: "b10c5ed1-bad1-445f-b386-b919946339a7", fetcher: HTTPFetcher(timeout: 10))
        #expect(throws: WebServiceError(url: "\(service.url)/version/Worldwide?ClientRequestId=b10c5ed1-bad1-445f-b386-b919946339a7", problem: problem)) {
            try web.latestVersion()
        }
    }

    @Test("no answer at all is the service's error too (exit 3), never bad input")
    func noAnswer() throws {
        let (lists, state) = try Self.folders()
        let closed = try FakeProxy(.reset)
        let url = closed.url
        closed.stop()
        let run = try CommandRun.proxyvet(["allowlist", "update", "--service-url", url, "--lists", lists, "--fetch-timeout", "5"], timeout: 60,
                                          environment: ["XDG_STATE_HOME": state])
        #expect(run.status == 3)
        #expect(run.stderr.hasPrefix("proxyvet: \(url)/version/Worldwide?ClientRequestId="))
        #expect(run.stderr.contains(": no answer from the web service (cannot fetch: "))
        #expect(run.stderr.hasSuffix("; nothing was rewritten.\n"))
        #expect(!FileManager.default.fileExists(atPath: lists))
    }

    @Test("policy tags stated by notes", arguments: [
        ("SSL traffic inspection isn't supported for '*.manage.microsoft.com'.", [PolicyTag.noInspection]),
        ("SSL Inspection isn't supported on endpoints required for Microsoft Store API.", [.noInspection]),
        ("Exclude these endpoints from TLS inspection.", [.noInspection]),
        ("Do not decrypt this traffic.", [.noInspection]),
        ("For some tasks, Intune requires unauthenticated proxy server access to manage.microsoft.com.", [.noProxyAuth]),
        ("Proxy authentication is not supported.", [.noProxyAuth]),
        ("Bypass proxy authentication and TLS inspection for these endpoints.", [.noInspection, .noProxyAuth]),
        ("Microsoft Stream - unauthenticated", []),
        ("Outlook for Android and iOS: Authentication", []),
        ("Connection to the speech service is required for Office Dictation features. If connectivity is not allowed, Dictation will be disabled.", []),
        ("The proxy must support TLS inspection.", []),
    ] as [(String, [PolicyTag])])
    func notesToTags(_ sentence: String, _ tags: [PolicyTag]) {
        #expect(M365WebService.policyTags(in: sentence) == tags)
    }

    @Test("a note's sentences and the hosts each names")
    func sentencesAndHosts() {
        let notes = "For some tasks, Intune requires unauthenticated proxy access to manage.microsoft.com, *.azureedge.net. SSL inspection isn't supported for '*.dm.microsoft.com'!  Done"
        #expect(M365WebService.sentences(notes) == ["For some tasks, Intune requires unauthenticated proxy access to manage.microsoft.com, *.azureedge.net.",
                                                    "SSL inspection isn't supported for '*.dm.microsoft.com'!", "Done"])
        #expect(M365WebService.hosts(in: "access to manage.microsoft.com, *.azureedge.net, e.g. Graph.Microsoft.com.") == ["manage.microsoft.com", "*.azureedge.net", "graph.microsoft.com"])
        // A note naming no host covers every URL of its set.
        var service = Service(name: "S", notes: "TLS inspection is not supported.", endpoints: [Endpoint(host: "a.test"), Endpoint(host: "*.b.test")])
        service.endpointSet = EndpointSet(id: 7)
        #expect(M365WebService.policies(fromNotesOf: service) == [PolicyRule(tag: .noInspection, patterns: ["a.test", "*.b.test"],
                                                                            source: "web service notes, endpoint set 7", quote: "TLS inspection is not supported.")])
    }

    @Test("one ClientRequestId per machine: created once in the state folder, then reused; a bad file is replaced")
    func clientRequestID() throws {
        let folder = try TestFiles.temporaryFolder()
        let file = try #require(M365WebService.ClientRequestID.file(environment: ["XDG_STATE_HOME": folder.path, "HOME": "/nonexistent"]))
        #expect(file.path == folder.path + "/proxyvet/m365-client-request-id")
        #expect(M365WebService.ClientRequestID.file(environment: ["HOME": "/home/probe"])?.path == "/home/probe/.local/state/proxyvet/m365-client-request-id")
        let first = M365WebService.ClientRequestID.machine(file: file)
        #expect(first.note == nil && M365WebService.ClientRequestID.isValid(first.id))
        #expect(M365WebService.ClientRequestID.machine(file: file).id == first.id)
        try Data("not a guid\n".utf8).write(to: file)
        let replaced = M365WebService.ClientRequestID.machine(file: file)
        #expect(replaced.id != first.id && M365WebService.ClientRequestID.isValid(replaced.id))
        let nowhere = M365WebService.ClientRequestID.machine(file: nil)
        #expect(M365WebService.ClientRequestID.isValid(nowhere.id))
        #expect(nowhere.note == "no HOME or XDG_STATE_HOME to keep a ClientRequestId in: a new one was used for this run")
    }

    @Test("usage: instance names, the service URL, help; the default service is the real one (never contacted by a test)")
    func usage() throws {
        #expect(M365WebService.defaultBase == "https://endpoints.office.com")
        #expect(M365WebService.Instance.named("usgovdod") == .usGovDoD && M365WebService.Instance.named("Germany") == nil)
        #expect(M365WebService.Update.paths(in: "L", instance: .usGovGCCHigh).microsoft365.hasSuffix("L/microsoft-365-usgovgcchigh.yaml"))
        let germany = try CommandRun.proxyvet(["allowlist", "update", "--instance", "Germany", "--lists", "/nonexistent"], timeout: 30)
        #expect(germany.status == 64 || germany.status == 2)
        #expect(germany.stderr.contains("--instance takes one of Worldwide, USGovDoD, USGovGCCHigh, China, not Germany."))
        let ftp = try CommandRun.proxyvet(["allowlist", "update", "--service-url", "ftp://127.0.0.1/", "--lists", "/nonexistent"], timeout: 30)
        #expect(ftp.stderr.contains("--service-url takes the service's base URL (http(s)://host[:port]), not ftp://127.0.0.1/."))
        // A previous list that does not load is the user's file to fix: file:line, exit 2, nothing asked.
        let (lists, state) = try Self.folders()
        try FileManager.default.createDirectory(atPath: lists, withIntermediateDirectories: true)
        try Data("version: 1\nname: x\nservices:\n  - name: s\n    endpoints:\n      - host: a.test\n        ports: [99999]\n".utf8)
            .write(to: URL(fileURLWithPath: lists + "/microsoft-365.yaml"))
        let service = try RecordedWebService(version: "2022072800")
        let bad = try Self.update(service, lists: lists, state: state)
        #expect(bad.status == 2)
        #expect(bad.stderr == "proxyvet: \(lists)/microsoft-365.yaml:7: port 99999 is out of range (1 to 65535)\n")
        #expect(service.requests.isEmpty)
        let help = try CommandRun.proxyvet(["allowlist", "update", "--help"], timeout: 30)
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("OVERVIEW: Rebuild microsoft-365.yaml and intune.yaml from the Microsoft 365 IP Address and URL web service when it publishes a new version, and print what changed."))
        #expect(words.contains("Exit codes: 0 the lists are current (rewritten or not), 2 usage error or a previous list that cannot be read, 3 the web service could not be read (no answer, an error status, an HTML page, not its JSON) or the lists could not be written; nothing is rewritten then."))
        #expect(words.contains("--dry-run Fetch and print what would change, but write nothing."))
    }
}
