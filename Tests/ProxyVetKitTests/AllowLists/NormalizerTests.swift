import Foundation
import Testing
@testable import ProxyVetKit

@Suite("Normalisation of published entries")
struct NormalizerTests {
    struct CleanCase: Sendable, CustomStringConvertible {
        let input: String
        let host: String
        let scheme: String?
        let path: String?
        let corrections: [Correction.Kind]
        var description: String { input }
    }

    static let cleanCases: [CleanCase] = [
        CleanCase(input: "Manage.microsoft.com", host: "manage.microsoft.com", scheme: nil, path: nil, corrections: [.lowercased]),
        CleanCase(input: "\\*.office.com", host: "*.office.com", scheme: nil, path: nil, corrections: [.unescaped]),
        CleanCase(input: "\\\\*.onenote.com", host: "*.onenote.com", scheme: nil, path: nil, corrections: [.unescaped]),
        CleanCase(input: "\\ *.svc.ms", host: "*.svc.ms", scheme: nil, path: nil, corrections: [.whitespace, .unescaped]),
        CleanCase(input: "&lt;tenant>.onmicrosoft.com", host: "<tenant>.onmicrosoft.com", scheme: nil, path: nil, corrections: [.unescaped]),
        CleanCase(input: "\\<tenant\\>-my.sharepoint.com", host: "<tenant>-my.sharepoint.com", scheme: nil, path: nil, corrections: [.unescaped]),
        CleanCase(input: "https://posarprodcssservice.accesscontrol.windows.net", host: "posarprodcssservice.accesscontrol.windows.net",
                  scheme: "https", path: nil, corrections: [.schemeInHost]),
        CleanCase(input: "\\*.msftncsi.com/ncsi.txt", host: "*.msftncsi.com", scheme: nil, path: "/ncsi.txt", corrections: [.unescaped, .pathInHost]),
        CleanCase(input: "token.cp.microsoft.com/", host: "token.cp.microsoft.com", scheme: nil, path: nil, corrections: [.trailingSlash]),
        CleanCase(input: "*.*.storage.live.com", host: "*.*.storage.live.com", scheme: nil, path: nil, corrections: []),
        CleanCase(input: "\\*cdn.onenote.net", host: "*cdn.onenote.net", scheme: nil, path: nil, corrections: [.unescaped]),
    ]

    @Test("host cells are cleaned and every change is named", arguments: cleanCases)
    func clean(_ testCase: CleanCase) throws {
        let cleaned = try Normalizer.clean(testCase.input).get()
        #expect(cleaned.host == testCase.host)
        #expect(cleaned.scheme == testCase.scheme)
        #expect(cleaned.path == testCase.path)
        #expect(cleaned.corrections == testCase.corrections)
    }

    @Test("what cannot become a host name is refused with the reason")
    func refused() {
        #expect(throws: InputError.self) { try Normalizer.clean("ftp://files.example.test/").get() }
        #expect(throws: InputError.self) { try Normalizer.clean("bad_host!.example.test").get() }
        #expect(throws: InputError.self) { try Normalizer.clean("a.example.test:99999").get() }
    }

    @Test("entries split across lines of a cell are joined; empty ones dropped; both recorded")
    func splitEntries() {
        let raw = ["groupsapi-", "rod.outlookgroups.ms", " ", "scsquery-ss- ", "us.trafficmanager.net", "pipe.skype.com"]
            .map { Normalizer.RawEntry(text: $0, service: "Teams", line: 3) }
        var corrections: [Correction] = []
        let joined = Normalizer.joinSplitEntries(raw, corrections: &corrections)
        #expect(joined.map(\.text) == ["groupsapi-rod.outlookgroups.ms", "scsquery-ss-us.trafficmanager.net", "pipe.skype.com"])
        #expect(corrections.map(\.kind) == [.joinedSplitEntry, .emptyEntry, .joinedSplitEntry])
    }

    @Test("IP ranges are told from host names", arguments: [
        ("13.107.6.152/31", true), ("2603:1006::/40", true), ("2620:1ec:a92::152/128", true), ("104.47.0.0/17", true),
        ("40.92.0.0/33", false), ("graph.microsoft.com", false), ("cafe.de:443", false), ("256.1.1.1/8", false),
    ])
    func addressRanges(_ row: (String, Bool)) {
        #expect(Normalizer.isAddressRange(row.0) == row.1)
    }

    @Test("port lists take single ports and ranges", arguments: [
        ("443, 80", ["443", "80"]), ("3478-3481", ["3478-3481"]), ("80;443", ["80", "443"]),
    ])
    func portLists(_ row: (String, [String])) throws {
        #expect(try PortRange.parseList(row.0).get().map(\.description) == row.1)
    }

    @Test("bad port lists name the bad element")
    func badPorts() {
        guard case let .failure(error) = PortRange.parseList("443, https") else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.element == "https")
        #expect(PortRange.parse("3481-3478") == nil)
        #expect(PortRange.parse("0") == nil)
    }
}
