import Foundation
import Testing
@testable import ProxyVetKit

/// Fixtures written from the reference tables (no test reads anything outside the repository).
enum AllowListFixtures {
    static func path(_ name: String) -> String {
        TestFiles.repositoryRoot.appendingPathComponent("Tests/ProxyVetKitTests/Fixtures/AllowLists/\(name)").path
    }
}

@Suite("Microsoft 365 web-service JSON")
struct M365ImporterTests {
    @Test("endpoint sets keep ID, category, ExpressRoute, required and notes")
    func sample() throws {
        // Ten sets of the Worldwide table (web-service version 2022072800), written as the web service returns them.
        let list = try AllowListLoader.load(file: AllowListFixtures.path("m365-worldwide-sample.json"))
        #expect(list.format == .m365JSON)
        #expect(list.services.count == 10)
        #expect(list.services.flatMap(\.endpoints).count == 18)
        #expect(list.services.reduce(0) { $0 + ($1.addresses?.ranges.count ?? 0) } == 141)
        let exchange = try #require(list.services.first { $0.endpointSet?.id == 1 })
        #expect(exchange.name == "Exchange Online, endpoint set 1")
        #expect(exchange.endpointSet == EndpointSet(id: 1, serviceArea: "Exchange", category: "Optimize", expressRoute: true, required: true))
        #expect(exchange.endpoints.map(\.host) == ["outlook.office.com", "outlook.office365.com"])
        #expect(exchange.endpoints[0].ports == [443, 80])
        let imap = try #require(list.services.first { $0.endpointSet?.id == 5 })
        #expect(imap.notes == "Exchange Online IMAP4 migration")
        #expect(imap.endpoints.allSatisfy { !$0.required })
        let media = try #require(list.services.first { $0.endpointSet?.id == 11 })
        #expect(media.endpoints.isEmpty)
        #expect(media.addresses?.udpPorts.map(\.description) == ["3478", "3479", "3480", "3481"])
    }

    @Test("what a proxy cannot probe is skipped with a counted reason, never dropped")
    func skipped() throws {
        let list = try AllowListLoader.load(file: AllowListFixtures.path("m365-worldwide-sample.json"))
        let plan = TargetPlanner().plan([list])
        let byKind = Dictionary(grouping: plan.skipped, by: { $0.kind })
        #expect(byKind[.addressRange]?.count == 141)
        #expect(byKind[.tenantPlaceholder]?.count == 6)
        // smtp.office365.com 587, *.outlook.office.com and outlook.office365.com 143 and 993, *.mail.protection.outlook.com 25.
        #expect(byKind[.nonHTTPPort]?.count == 6)
        #expect(plan.skipped.allSatisfy { $0.kind != nil })
        let smtp = try #require(plan.skipped.first { $0.entry == "smtp.office365.com" })
        #expect(smtp.reason == "TCP 587 (SMTP submission) is not HTTP: not probeable through an HTTP proxy; allow it on the firewall for direct egress")
        let media = try #require(plan.skipped.first { $0.entry == "13.107.64.0/18" })
        #expect(media.reason.contains("UDP 3478, 3479, 3480, 3481"))
        #expect(plan.targets.map(\.url).contains("https://proxyvet-probecdn.onenote.net/"))
        let withTenant = TargetPlanner(tenant: "contoso").plan([list])
        #expect(withTenant.targets.contains { $0.url == "https://contoso-my.sharepoint.com/" })
        #expect(!withTenant.skipped.contains { $0.kind == .tenantPlaceholder })
    }

    @Test("UDP-only URLs and port ranges are reported")
    func udpAndRanges() throws {
        let json = """
        [
         {"id": 165, "serviceArea": "Common", "urls": ["time.windows.com"], "udpPorts": "123", "expressRoute": false, "category": "Default", "required": true},
         {"id": 900, "serviceArea": "Skype", "urls": ["*.media.example.test"], "tcpPorts": "443,50000-59999", "expressRoute": false, "category": "Allow", "required": false}
        ]
        """
        let file = try TestFiles.write(json, name: "sets.json")
        let list = try AllowListLoader.load(file: file)
        let plan = TargetPlanner().plan([list])
        #expect(plan.skipped.map(\.kind) == [.udp, .portRange])
        #expect(plan.skipped[0].reason == "UDP 123: an HTTP proxy carries TCP only; allow it on the firewall for direct egress")
        #expect(plan.targets.map(\.url) == ["https://proxyvet-probe.media.example.test/"])
    }

    struct BadCase: Sendable, CustomStringConvertible {
        let json: String
        let expected: String
        var description: String { expected }
    }

    static let bad: [BadCase] = [
        BadCase(json: "[\n {\"id\": 1, \"urls\": [\"a.test\"], \"tcpPorts\": \"443\", \"category\": \"Fast\", \"required\": true}\n]",
                expected: "sets.json:2: endpoint set 1: category must be Optimize, Allow or Default, not \"Fast\""),
        BadCase(json: "[\n {\"id\": 1, \"urls\": [\"a.test\"], \"tcpPorts\": \"443\", \"category\": \"Allow\", \"required\": true},\n {\"id\": 2, \"url\": [\"b.test\"]}\n]",
                expected: "sets.json:3: unknown key \"url\" in an endpoint set"),
        BadCase(json: "[\n {\"id\": 7, \"urls\": [\"a.test\"], \"tcpPorts\": \"443,https\", \"category\": \"Allow\", \"required\": true}\n]",
                expected: "sets.json:2: endpoint set 7: unknown port \"https\" in tcpPorts"),
        BadCase(json: "{\"id\": 1}", expected: "sets.json:1: expected the web service's array of endpoint sets"),
        BadCase(json: "[{\"id\": 1,]", expected: "sets.json: not valid JSON"),
    ]

    @Test("bad JSON names the file, the record's line and the problem", arguments: bad)
    func badJSON(_ testCase: BadCase) throws {
        let file = try TestFiles.write(testCase.json, name: "sets.json")
        do {
            _ = try AllowListLoader.load(files: [file])
            Issue.record("expected an error")
        } catch let error as InputErrors {
            let message = error.description.replacingOccurrences(of: file, with: "sets.json")
            #expect(message.hasPrefix(testCase.expected), "\(message)")
        }
    }
}

@Suite("CSV allow lists")
struct CSVImporterTests {
    static let messy = """
    # exported from a spreadsheet
    Service,Host,Port,Protocol,Tags,Required,Notes
    Intune,Manage.microsoft.com,443,,noProxyAuth,,
    Intune,manage.microsoft.com,80,tcp,,,
    Intune,"\\*.manage.microsoft.com",443,,noInspection,yes,"wildcard, any depth"
    Intune,https://portal.manage.microsoft.com/,,,,,
    Windows,\\*.msftncsi.com/ncsi.txt,80,,,optional,
    Windows,time.windows.com,123,udp,,,
    Teams,scsquery-ss-,443,,,,
    Teams,us.trafficmanager.net,443,,,,
    Teams,13.107.64.0/18,3478-3481,udp,,,
    Teams,\\*.lync.com,,,,,
    Teams,\\*.lync.com,,,,,
    """

    @Test("rows become endpoints: one per host, ports merged, every correction counted")
    func messyRows() throws {
        let file = try TestFiles.write(Self.messy, name: "export.csv")
        let list = try AllowListLoader.load(file: file)
        #expect(list.format == .csv)
        #expect(list.services.map(\.name) == ["Intune", "Windows", "Teams"])
        let intune = list.services[0].endpoints
        #expect(intune.map(\.host) == ["manage.microsoft.com", "*.manage.microsoft.com", "portal.manage.microsoft.com"])
        #expect(intune[0].ports == [443, 80])
        #expect(intune[0].tags == [.noProxyAuth])
        #expect(intune[1].notes == "wildcard, any depth")
        #expect(intune[2].scheme == "https")
        let windows = list.services[1].endpoints
        #expect(windows[0].path == "/ncsi.txt" && windows[0].ports == [80] && !windows[0].required)
        #expect(windows[1].ports.isEmpty && windows[1].udpPorts == [PortRange(123)])
        let teams = list.services[2]
        #expect(teams.endpoints.map(\.host) == ["scsquery-ss-us.trafficmanager.net", "*.lync.com"])
        #expect(teams.addresses?.ranges == ["13.107.64.0/18"])
        #expect(teams.addresses?.udpPorts == [PortRange(3478, 3481)])
        let counts = Dictionary(grouping: list.corrections, by: \.kind).mapValues(\.count)
        #expect(counts == [.lowercased: 1, .unescaped: 4, .schemeInHost: 1, .pathInHost: 1, .joinedSplitEntry: 1, .duplicateInService: 1])
        let plan = TargetPlanner().plan([list])
        #expect(plan.skipped.map(\.kind) == [.udp, .addressRange])
        #expect(plan.targets.map(\.url).contains("http://proxyvet-probe.msftncsi.com/ncsi.txt"))
    }

    @Test("bad rows are all reported with their lines")
    func badRows() throws {
        let text = "host,port,protocol,tags\na.test,https,,\nb.test,443,sctp,\nc.test,443,,noMagic\n"
        let file = try TestFiles.write(text, name: "bad.csv")
        do {
            _ = try AllowListLoader.load(files: [file])
            Issue.record("expected errors")
        } catch let error as InputErrors {
            let lines = error.errors.map { $0.description.replacingOccurrences(of: file, with: "bad.csv") }
            #expect(lines == [
                "bad.csv:2: unknown port \"https\" (ports are numbers from 1 to 65535, or ranges such as 3478-3481)",
                "bad.csv:3: unknown protocol \"sctp\" (tcp or udp)",
                "bad.csv:4: unknown tag \"noMagic\" (known: noInspection, noProxyAuth)",
            ])
        }
    }

    @Test("an unknown column or a missing host column is refused on line 1")
    func header() throws {
        let unknown = try TestFiles.write("host,colour\na.test,red\n", name: "h.csv")
        #expect(throws: InputError.self) { try AllowListLoader.load(file: unknown) }
        let missing = try TestFiles.write("service,port\nx,443\n", name: "h.csv")
        do {
            _ = try AllowListLoader.load(file: missing)
            Issue.record("expected an error")
        } catch let error as InputError {
            #expect(error.line == 1 && error.message == "the header row needs a \"host\" or \"url\" column")
        }
    }

    @Test("the MMD tables as published (2018 and current) import with their corrections counted")
    func mmdTables() throws {
        let current = try AllowListLoader.load(file: AllowListFixtures.path("mmd-current.csv"))
        let old = try AllowListLoader.load(file: AllowListFixtures.path("mmd-2018.csv"))
        // 433 and 435 cell items (counted from the source tables), 15 and 14 distinct service names.
        #expect(current.services.count == 15)
        #expect(old.services.count == 14)
        #expect(current.services.flatMap(\.endpoints).count == 362)
        #expect(old.services.flatMap(\.endpoints).count == 365)
        let counts = Dictionary(grouping: current.corrections, by: \.kind).mapValues(\.count)
        #expect(counts[.joinedSplitEntry] == 2)
        #expect(counts[.schemeInHost] == 1)
        #expect(counts[.lowercased] == 5)
        #expect(current.services.flatMap(\.endpoints).contains { $0.host == "scsquery-ss-us.trafficmanager.net" })
        let oldStore = try #require(old.services.first { $0.name == "Microsoft Store for Business" })
        #expect(oldStore.endpoints.contains { $0.host == "*.msftncsi.com" && $0.path == "/ncsi.txt" })
        // Hosts are the same as in the hand-transcribed bundled list, except the split name it reads as groupsapi-prod.
        let bundled = try AllowListLoader.load(file: TestFiles.repositoryRoot.appendingPathComponent("AllowLists/managed-desktop.yaml").path)
        let diff = AllowListDiff.compare(bundled, current, services: false)
        #expect(diff.added.map(\.host) == ["groupsapi-rod.outlookgroups.ms"])
        #expect(diff.removed.map(\.host) == ["groupsapi-prod.outlookgroups.ms"])
    }
}

@Suite("YAML writer")
struct AllowListWriterTests {
    @Test("converted lists load back to the same services and endpoints", arguments: ["m365-worldwide-sample.json", "mmd-2018.csv"])
    func roundTrip(_ name: String) throws {
        let imported = try AllowListLoader.load(file: AllowListFixtures.path(name))
        let file = try TestFiles.write(AllowListWriter.yaml(imported), name: "converted.yaml")
        let reloaded = try AllowListLoader.load(file: file)
        func strip(_ services: [Service]) -> [Service] {
            services.map { service in
                var copy = service
                copy.addresses?.line = nil
                copy.endpoints = service.endpoints.map { var endpoint = $0; endpoint.line = nil; return endpoint }
                return copy
            }
        }
        #expect(strip(reloaded.services) == strip(imported.services))
        #expect(TargetPlanner().plan([reloaded]).skipped.count == TargetPlanner().plan([imported]).skipped.count)
    }

    @Test("strings that YAML would read as something else are quoted", arguments: [
        ("plain.host.test", "plain.host.test"), ("*.x.test", "\"*.x.test\""), ("true", "\"true\""), ("2022-07-29", "\"2022-07-29\""),
        ("a \"q\" b", "\"a \\\"q\\\" b\""), ("<tenant>.x", "\"<tenant>.x\""),
    ])
    func quoting(_ row: (String, String)) {
        #expect(AllowListWriter.quote(row.0) == row.1)
    }
}
