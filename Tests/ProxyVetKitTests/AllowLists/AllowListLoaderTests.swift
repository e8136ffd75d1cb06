import Foundation
import Testing
@testable import ProxyVetKit

@Suite("Allow lists")
struct AllowListLoaderTests {
    static let good = """
    version: 1
    name: Test list
    source: { url: "https://example.test/doc", date: "2024-01-02" }
    policies:
      - tag: noInspection
        patterns: ["*.manage.example.test"]
    services:
      - name: Svc
        endpoints:
          - host: a.example.test
          - host: "*.manage.example.test"
          - host: b.example.test
            ports: [80, 443, 8443]
            required: false
            tags: [noProxyAuth]
          - host: "*.cdn.example.test"
            samples: [x.cdn.example.test]
    """

    @Test("the project format loads with defaults and list policies")
    func loads() throws {
        let file = try TestFiles.write(Self.good, name: "good.yaml")
        let list = try AllowListLoader.load(file: file)
        #expect(list.name == "Test list")
        #expect(list.id == "test-list")
        #expect(list.source?.date == "2024-01-02")
        #expect(list.services[0].endpoints.count == 4)
        #expect(list.services[0].endpoints[0].ports == [443])
        #expect(list.services[0].endpoints[0].required)
        #expect(list.services[0].endpoints[2].ports == [80, 443, 8443])
        #expect(list.contentHash.count == 64)
    }

    struct BadCase: Sendable, CustomStringConvertible {
        let text: String
        let expected: String
        var description: String { expected }
    }

    static let bad: [BadCase] = [
        BadCase(text: "version: 1\nname: x\nservices:\n  - name: s\n    endpoints:\n      - host: a.test\n        ports: [https]\n", expected: "bad.yaml:7: unknown port \"https\" (ports are numbers from 1 to 65535)"),
        BadCase(text: "version: 1\nname: x\nservices:\n  - name: s\n    endpoints:\n      - host: a.test\n        port: 443\n", expected: "bad.yaml:7: unknown key \"port\" in an endpoint"),
        BadCase(text: "version: 1\nname: x\nservices:\n  - name: s\n    endpoints:\n      - host: a.test\n        ports: [70000]\n", expected: "bad.yaml:7: port 70000 is out of range"),
        BadCase(text: "version: 2\nname: x\nservices: []\n", expected: "bad.yaml:1: unsupported allow-list format version 2"),
        BadCase(text: "version: 1\nname: x\nservices:\n  - name: s\n    endpoints:\n      - host: https://a.test/\n", expected: "bad.yaml:6: \"https://a.test/\" is a URL, not a host name"),
        BadCase(text: "version: 1\nname: x\nservices:\n  - name: s\n    endpoints:\n      - host: a.test\n        tags: [noMagic]\n", expected: "bad.yaml:7: unknown tag \"noMagic\""),
        BadCase(text: "version: 1\nname: x\nservices:\n  - name: s\n    endpoints:\n      - host: a.test\n        samples: [b.test]\n", expected: "bad.yaml:7: samples are only for wildcard hosts"),
        BadCase(text: "version: 1\nname: [unclosed\n", expected: "bad.yaml:3: not valid YAML"),
        BadCase(text: "version: 1\nname: x\nservices:\n  - name: s\n    endpoints: []\n", expected: "bad.yaml:5: service \"s\" has no endpoints"),
        BadCase(text: "version: 1\nservices:\n  - name: s\n    endpoints:\n      - host: a.test\n", expected: "bad.yaml:1: the allow list is missing \"name\""),
    ]

    @Test("bad YAML lists name the file, line and problem", arguments: bad)
    func badYAML(_ testCase: BadCase) throws {
        let file = try TestFiles.write(testCase.text, name: "bad.yaml")
        do {
            _ = try AllowListLoader.load(file: file)
            Issue.record("expected an error")
        } catch let error as InputError {
            let message = error.description.replacingOccurrences(of: file, with: "bad.yaml")
            #expect(message.hasPrefix(testCase.expected), "\(message)")
        }
    }

    @Test("a plain list takes URLs exactly and host names with defaults")
    func plain() throws {
        let file = try TestFiles.write("# comment\nhttps://a.test:8443/path?q=1\nhttp://b.test/\nc.test\nd.test:8080  # trailing\n\n", name: "urls.txt")
        let list = try AllowListLoader.load(file: file)
        let endpoints = list.services[0].endpoints
        #expect(endpoints.count == 4)
        #expect(endpoints[0].scheme == "https" && endpoints[0].ports == [8443] && endpoints[0].path == "/path?q=1")
        #expect(endpoints[1].scheme == "http" && endpoints[1].ports == [80])
        #expect(endpoints[2].host == "c.test" && endpoints[2].ports == [443] && endpoints[2].scheme == nil)
        #expect(endpoints[3].ports == [8080])
    }

    @Test("a plain list reports every bad line")
    func plainErrors() throws {
        let file = try TestFiles.write("ok.test\nftp://x.test/\nbad host\nx.test:99999\n", name: "urls.txt")
        do {
            _ = try AllowListLoader.load(files: [file])
            Issue.record("expected errors")
        } catch let error as InputErrors {
            let lines = error.errors.map { $0.description.replacingOccurrences(of: file, with: "urls.txt") }
            #expect(lines == [
                "urls.txt:2: unsupported scheme \"ftp\" (https or http)",
                "urls.txt:3: \"bad host\" has spaces: write one URL or host name per line",
                "urls.txt:4: port 99999 is out of range (1 to 65535)",
            ])
        }
    }

    /// The page Microsoft's web service answered once instead of the endpoint JSON (shortened), and other pages.
    static let pages: [(name: String, text: String, title: String?)] = [
        ("endpoints.json", "\u{FEFF}\n  <!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\">\n<html><head><title>Service Unavailable</title></head>\n"
            + "<body><h2>Service Unavailable</h2>\n<hr><p>HTTP Error 503. The service is unavailable.</p>\n</body></html>\n", "Service Unavailable"),
        ("urls.txt", "<html lang=\"en\">\n<head>\n<title>\n  Sign in to\n your account\u{7}</title>\n</head>\n<body>x y z</body>\n</html>\n", "Sign in to your account "),
        ("list.yaml", "<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><body>Blocked</body></html>\n", nil),
        ("list.csv", "<!-- proxy error page -->\n<HTML><BODY>Access denied</BODY></HTML>\n", nil),
    ]

    @Test("an HTML page given as a list is one error that says what the file is", arguments: pages)
    func htmlPage(_ page: (name: String, text: String, title: String?)) throws {
        let file = try TestFiles.write(page.text, name: page.name)
        #expect { try AllowListLoader.load(files: [file]) } throws: { error in
            guard let errors = (error as? InputErrors)?.errors, errors.count == 1 else { return false }
            return errors[0].description == "\(file): this is an HTML page\(page.title.map { " (title \"\($0)\")" } ?? ""), not an allow list: "
                + "the server answered with a web page (an error or sign-in page) instead of the list; fetch it again or save the list "
                + "itself (YAML, JSON, CSV or one URL or host name per line)"
        }
    }

    @Test("a list that mentions HTML after its first line is still read as a list")
    func notHTML() throws {
        let file = try TestFiles.write("# saved from <html> pages\nhttps://a.test/\n", name: "urls.txt")
        #expect(try AllowListLoader.load(file: file).services.first?.endpoints.count == 1)
    }

    @Test("binary and missing files are refused")
    func unreadable() throws {
        let binary = try TestFiles.write("abc\u{0}def", name: "list.bin")
        #expect(throws: InputError.self) { try AllowListLoader.load(file: binary) }
        #expect(throws: InputError.self) { try AllowListLoader.load(file: "/nonexistent/list.yaml") }
        let empty = try TestFiles.write("# nothing\n", name: "empty.txt")
        #expect(throws: InputError.self) { try AllowListLoader.load(file: empty) }
    }

    @Test("the bundled Managed Desktop list loads and carries the Intune policy facts")
    func bundled() throws {
        let path = TestFiles.repositoryRoot.appendingPathComponent("AllowLists/managed-desktop.yaml").path
        let list = try AllowListLoader.load(file: path)
        #expect(list.source?.date != nil)
        #expect(list.services.contains { $0.name == "Microsoft Intune" })
        let plan = TargetPlanner().plan([list])
        let manage = try #require(plan.targets.first { $0.host == "portal.manage.microsoft.com" })
        #expect(manage.policy.contains(.noInspection))
        let graph = try #require(plan.targets.first { $0.host == "graph.microsoft.com" })
        #expect(graph.policy.contains(.noProxyAuth))
        // Every skipped entry is a tenant placeholder, with a reason.
        #expect(!plan.skipped.isEmpty)
        #expect(plan.skipped.allSatisfy { $0.entry.contains("<tenant>") && $0.reason.contains("--tenant") })
        #expect(TargetPlanner(tenant: "contoso").plan([list]).skipped.isEmpty)
    }
}

@Suite("Host patterns")
struct HostPatternTests {
    @Test("matching", arguments: [
        ("*.manage.microsoft.com", "a.manage.microsoft.com", true),
        ("*.manage.microsoft.com", "a.b.manage.microsoft.com", true),
        ("*.manage.microsoft.com", "manage.microsoft.com", false),
        ("*cdn.onenote.net", "xcdn.onenote.net", true),
        ("*cdn.onenote.net", "cdn.onenote.net", false),
        ("*.*.storage.live.com", "a.b.storage.live.com", true),
        ("*.*.storage.live.com", "a.storage.live.com", false),
        ("graph.microsoft.com", "GRAPH.microsoft.com", true),
    ])
    func matches(_ row: (String, String, Bool)) {
        #expect(HostPattern(row.0).matches(row.1) == row.2)
    }
}

@Suite("List hashes")
struct ListHashTests {
    @Test("SHA-256 from libcrypto gives the published test vectors (FIPS 180-2)")
    func vectors() {
        func hex(_ text: String) -> String { AllowListLoader.sha256(Data(text.utf8)).map { String(format: "%02x", $0) }.joined() }
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
