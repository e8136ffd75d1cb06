import Foundation
import Testing
@testable import ProxyVetKit

/// PAC answers, loading PAC scripts from files and loopback servers, and evaluating them with libpacparser.
///
/// One serialized suite, on purpose: libpacparser has one process-global JavaScript context, and an evaluation that
/// never returns (`while(true){}`) keeps it for the rest of the process: every later evaluation fails fast. Serialized
/// tests run in declaration order; the endless loop itself runs in a separate proxyvet process; a bounded busy loop covers the
/// timeout, the fail-fast and the recovery without leaving anything stuck.
///
/// Network safety: the scripts here never call dnsResolve, isResolvable or isInNet on names, myIpAddress returns the
/// client address PACScript is given (127.0.0.1 unless told), and the only fetches go to a server on 127.0.0.1.
@Suite("PAC", .serialized)
struct PACTests {
    // MARK: Answers

    @Test("PAC answers parse into alternatives, in order", arguments: [
        ("PROXY a:8080; PROXY b:8080; DIRECT", [PACAlternative.proxy(host: "a", port: 8080), .proxy(host: "b", port: 8080), .direct]),
        ("DIRECT", [.direct]),
        ("HTTPS gw:8443", [.https(host: "gw", port: 8443)]),
        ("SOCKS5 s:1080", [.socks(host: "s", port: 1080)]),
        ("SOCKS s; SOCKS4 t:1081", [.socks(host: "s", port: 1080), .socks(host: "t", port: 1081)]),
        ("proxy Edge.Corp.Example:3128;direct", [.proxy(host: "edge.corp.example", port: 3128), .direct]),
        ("  Proxy   a:8080 ;; ;\tDIRECT ;  ", [.proxy(host: "a", port: 8080), .direct]),
        ("PROXY a", [.proxy(host: "a", port: 80)]),
        ("HTTPS gw", [.https(host: "gw", port: 443)]),
        ("HTTP h:81", [.proxy(host: "h", port: 81)]),
        ("PROXY 10.0.0.1:3128", [.proxy(host: "10.0.0.1", port: 3128)]),
        ("PROXY [2001:db8::1]:3128; PROXY [2001:db8::2]", [.proxy(host: "2001:db8::1", port: 3128), .proxy(host: "2001:db8::2", port: 80)]),
    ])
    func parsesAnswers(_ row: (String, [PACAlternative])) throws {
        let answer = try PACAnswer.parse(row.0)
        #expect(answer.alternatives == row.1)
        #expect(answer.text == row.0.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("alternatives print as canonical PAC text and map to proxy URLs", arguments: [
        (PACAlternative.proxy(host: "a", port: 8080), "PROXY a:8080", "http://a:8080"),
        (.https(host: "gw", port: 443), "HTTPS gw:443", "https://gw:443"),
        (.socks(host: "s", port: 1080), "SOCKS s:1080", "socks5h://s:1080"),
        (.proxy(host: "2001:db8::1", port: 3128), "PROXY [2001:db8::1]:3128", "http://[2001:db8::1]:3128"),
        (.direct, "DIRECT", nil),
    ] as [(PACAlternative, String, String?)])
    func describesAlternatives(_ row: (PACAlternative, String, String?)) {
        #expect(row.0.description == row.1)
        #expect(row.0.proxyURL == row.2)
    }

    @Test("bad PAC answers name the bad part", arguments: [
        ("FOO bar", #"PAC answer "FOO bar": unknown PAC keyword "FOO" (expected PROXY, HTTPS, SOCKS, SOCKS4, SOCKS5 or DIRECT)"#),
        ("PROXY", #"PAC answer "PROXY": missing host after PROXY"#),
        ("PROXY a:99999", #"PAC answer "PROXY a:99999": port 99999 is out of range (1-65535)"#),
        ("PROXY a:0", #"PAC answer "PROXY a:0": port 0 is out of range (1-65535)"#),
        ("PROXY a:x", #"PAC answer "PROXY a:x": port "x" is not a number"#),
        ("PROXY a:", #"PAC answer "PROXY a:": missing port after "a:""#),
        ("PROXY :8080", #"PAC answer "PROXY :8080": missing host before ":8080""#),
        ("", #"PAC answer "": empty answer (expected e.g. "PROXY proxy.example:8080; DIRECT")"#),
        (" ; ;", #"PAC answer "; ;": empty answer (expected e.g. "PROXY proxy.example:8080; DIRECT")"#),
        ("PROXY a:8080; PROXY", #"PAC answer "PROXY a:8080; PROXY", alternative 2 ("PROXY"): missing host after PROXY"#),
        ("DIRECT a:1", #"PAC answer "DIRECT a:1": DIRECT takes no host ("a:1")"#),
        ("PROXY a:1 b:2", #"PAC answer "PROXY a:1 b:2": unexpected "b:2" after "PROXY a:1""#),
        ("PROXY http://a:8080", #"PAC answer "PROXY http://a:8080": "http://a:8080" is a URL; a PAC answer names host:port (e.g. PROXY proxy.example:8080)"#),
        ("PROXY 2001:db8::1", #"PAC answer "PROXY 2001:db8::1": bad host "2001:db8::1" (write an IPv6 address in brackets: [2001:db8::1]:8080)"#),
        ("PROXY a/b:80", #"PAC answer "PROXY a/b:80": bad host "a/b""#),
    ])
    func rejectsBadAnswers(_ row: (String, String)) {
        #expect(throws: InputError(row.1)) { try PACAnswer.parse(row.0) }
    }

    // MARK: Loading

    /// The routing PAC of the brief: an inspecting proxy for managed hosts, direct for some, two edge proxies for the rest.
    static let routingPAC = """
        function FindProxyForURL(url, host) {
            if (dnsDomainIs(host, ".manage.example.test")) return "PROXY inspect.lab:3130";
            if (shExpMatch(host, "*.direct.example.test")) return "DIRECT";
            return "PROXY edge.lab:3128; PROXY edge2.lab:3137";
        }
        """

    @Test("a PAC file routes each URL as written")
    func evaluatesFile() throws {
        let file = try TestFiles.write(Self.routingPAC, name: "proxy.pac")
        let script = try PACScript.load(file)
        #expect(script.source == file)
        #expect(script.text == Self.routingPAC)
        let answers = try script.evaluate([
            (url: "https://api.manage.example.test/v1/devices", host: "api.manage.example.test"),
            (url: "http://www.direct.example.test/", host: "www.direct.example.test"),
            (url: "https://updates.example.test/feed", host: "updates.example.test"),
            (url: "https://manage.example.test/", host: "manage.example.test"),
        ])
        #expect(answers.map(\.text) == [
            "PROXY inspect.lab:3130", "DIRECT", "PROXY edge.lab:3128; PROXY edge2.lab:3137", "PROXY edge.lab:3128; PROXY edge2.lab:3137",
        ])
        #expect(answers[0].alternatives == [.proxy(host: "inspect.lab", port: 3130)])
        #expect(answers[2].alternatives == [.proxy(host: "edge.lab", port: 3128), .proxy(host: "edge2.lab", port: 3137)])
        // Evaluating again gives the same answers: each evaluation starts from a fresh JavaScript context.
        #expect(try script.evaluate([(url: "http://www.direct.example.test/", host: "www.direct.example.test")]).map(\.alternatives) == [[.direct]])
        #expect(try script.evaluate([]).isEmpty)
    }

    @Test("myIpAddress is pinned to 127.0.0.1 and the URL reaches the script unchanged")
    func pinsMyIPAddress() throws {
        let script = PACScript(source: "inline.pac", text: """
            function FindProxyForURL(url, host) {
                if (url.substring(0, 6) == "https:") return "PROXY " + myIpAddress() + ":3128";
                if (host == "quote.example.test") return url.indexOf("%27") > 0 && url.indexOf("%5C") > 0 ? "DIRECT" : "PROXY bad:1";
                return "SOCKS5 " + host + ":1080";
            }
            """)
        let answers = try script.evaluate([
            (url: "https://a.example.test/", host: "a.example.test"),
            (url: "http://b.example.test/", host: "b.example.test"),
            (url: "http://quote.example.test/it's\\here", host: "quote.example.test"),
        ])
        #expect(answers.map(\.alternatives) == [[.proxy(host: "127.0.0.1", port: 3128)], [.socks(host: "b.example.test", port: 1080)], [.direct]])
    }

    @Test("unreadable, empty and binary PAC files are input errors naming the file", arguments: [
        ("", "the PAC file is empty"),
        ("  \n\t\n", "the PAC file is empty"),
        ("function FindProxyForURL(u, h) {\u{0} return \"DIRECT\"; }", "the PAC file is not text (not UTF-8, or it holds NUL bytes)"),
        ("<!DOCTYPE html><html><body>Sign in</body></html>", "the PAC file is an HTML page, not a PAC script (a login or error page?)"),
    ])
    func rejectsBadFiles(_ row: (String, String)) throws {
        let file = try TestFiles.write(row.0, name: "proxy.pac")
        #expect(throws: InputError(file: file, row.1)) { try PACScript.load(file) }
    }

    @Test("a missing PAC file and a folder are reported as such")
    func rejectsMissingFile() throws {
        let folder = try TestFiles.temporaryFolder()
        let missing = folder.appendingPathComponent("nope.pac").path
        #expect(throws: InputError(file: missing, "cannot read the PAC file: no such file")) { try PACScript.load(missing) }
        #expect(throws: InputError(file: folder.path, "cannot read the PAC file: it is a folder")) { try PACScript.load(folder.path) }
    }

    @Test("a PAC file larger than 1 MiB is refused")
    func rejectsLargeFile() throws {
        let file = try TestFiles.write("// " + String(repeating: "x", count: PACScript.sizeLimit), name: "big.pac")
        #expect(throws: InputError(file: file, "the PAC file is too large (over 1 MiB)")) { try PACScript.load(file) }
    }

    @Test("a PAC is fetched over HTTP from a loopback server")
    func fetchesOverHTTP() throws {
        let server = try FakeProxy(.reply(Self.httpResponse(status: "200 OK", body: Self.routingPAC)))
        defer { server.stop() }
        let source = server.url + "/wpad.dat"
        let script = try PACScript.load(source)
        #expect(script.source == source)
        #expect(script.text == Self.routingPAC)
        let answers = try script.evaluate([(url: "https://x.direct.example.test/", host: "x.direct.example.test")])
        #expect(answers.map(\.alternatives) == [[.direct]])
    }

    @Test("fetch failures name the URL and the HTTP status", arguments: [
        ("404 Not Found", "text/plain", "", "cannot fetch the PAC file: HTTP status 404"),
        ("302 Found", "text/plain", "Location: http://127.0.0.1:1/other.pac\r\n",
         "cannot fetch the PAC file: HTTP status 302 (redirects are not followed; use the final URL http://127.0.0.1:1/other.pac)"),
        ("200 OK", "text/html; charset=utf-8", "", "the server sent an HTML page, not a PAC script (a login or error page?)"),
    ])
    func reportsFetchFailures(_ row: (String, String, String, String)) throws {
        let server = try FakeProxy(.reply(Self.httpResponse(status: row.0, contentType: row.1, extraHeaders: row.2, body: "<p>no</p>")))
        defer { server.stop() }
        let source = server.url + "/proxy.pac"
        #expect(throws: InputError(file: source, row.3)) { try PACScript.load(source) }
    }

    @Test("a PAC announced larger than 1 MiB is refused before it is read")
    func rejectsLargeDownload() throws {
        let server = try FakeProxy(.reply("HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\nfunction"))
        defer { server.stop() }
        #expect(throws: InputError(file: server.url, "the PAC file is too large (over 1 MiB)")) { try PACScript.load(server.url) }
    }

    @Test("a PAC server that is not listening is a fetch error")
    func reportsRefusedConnection() throws {
        let server = try FakeProxy(.reset)
        let source = server.url + "/proxy.pac"
        server.stop()
        do {
            _ = try PACScript.load(source)
            Issue.record("expected an error")
        } catch let error as InputError {
            #expect(error.file == source)
            #expect(error.message.hasPrefix("cannot fetch the PAC file: "), "\(error.message)")
        }
    }

    // MARK: Script errors

    @Test("a PAC syntax error names the file, the line and the JavaScript error")
    func reportsSyntaxError() throws {
        // The missing brace is noticed at the end of the file, line 3.
        let file = try TestFiles.write("function FindProxyForURL(url, host) {\n    return \"DIRECT\"\n", name: "broken.pac")
        let script = try PACScript.load(file)
        #expect(throws: InputError(file: file, line: 3, "the PAC file does not parse: SyntaxError: missing } after function body")) {
            try script.evaluate([(url: "http://a.example.test/", host: "a.example.test")])
        }
    }

    @Test("script failures name the URL", arguments: [
        ("function FindProxyForURL(u, h) { throw new Error(\"boom\"); }", "FindProxyForURL failed for http://a.example.test/: boom", 1),
        ("function FindProxyForURL(u, h) { return no.such; }", "FindProxyForURL failed for http://a.example.test/: ReferenceError: no is not defined", 1),
        ("function FindProxyForURL(u, h) { throw \"str\"; }", "FindProxyForURL failed for http://a.example.test/: uncaught exception: str", nil),
        ("function FindProxyForURL(u, h) { }", "FindProxyForURL returned nothing for http://a.example.test/ (every path must return a string such as \"PROXY proxy.example:8080; DIRECT\")", nil),
        ("function FindProxyForURL(u, h) { return null; }", "FindProxyForURL returned nothing for http://a.example.test/ (every path must return a string such as \"PROXY proxy.example:8080; DIRECT\")", nil),
        ("function FindProxyForURL(u, h) { return \"FOO bar\"; }", #"FindProxyForURL gave a bad answer for http://a.example.test/: PAC answer "FOO bar": unknown PAC keyword "FOO" (expected PROXY, HTTPS, SOCKS, SOCKS4, SOCKS5 or DIRECT)"#, nil),
        ("function findProxy(u, h) { return \"DIRECT\"; }", "the PAC file does not define FindProxyForURL(url, host)", nil),
        ("var a = b.c;\nfunction FindProxyForURL(u, h) { return \"DIRECT\"; }", "the PAC file does not parse: ReferenceError: b is not defined", 1),
    ] as [(String, String, Int?)])
    func reportsScriptFailures(_ row: (String, String, Int?)) throws {
        let script = PACScript(source: "proxy.pac", text: row.0)
        #expect(throws: InputError(file: "proxy.pac", line: row.2, row.1)) {
            try script.evaluate([(url: "http://a.example.test/", host: "a.example.test")])
        }
    }

    @Test("hosts that could break out of libpacparser's call are refused", arguments: ["a'b", "a b", "", "a\"); x(\""])
    func refusesUnsafeHosts(_ host: String) {
        let script = PACScript(source: "proxy.pac", text: "function FindProxyForURL(u, h) { return \"DIRECT\"; }")
        #expect(throws: InputError.self) { try script.evaluate([(url: "http://a.example.test/", host: host)]) }
    }

    @Test("evaluations from many threads at once are serialized and all answer")
    func evaluatesConcurrently() throws {
        let script = PACScript(source: "proxy.pac", text: Self.routingPAC)
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let host = index.isMultiple(of: 2) ? "h\(index).direct.example.test" : "h\(index).manage.example.test"
            let answer = try? script.evaluate([(url: "https://\(host)/", host: host)], timeout: 10)
            results.set(index, answer?.first?.text)
        }
        #expect(results.values == (0..<8).map { $0.isMultiple(of: 2) ? "DIRECT" : "PROXY inspect.lab:3130" })
    }

    @Test("the evaluation timeout must be positive")
    func rejectsBadTimeout() {
        let script = PACScript(source: "proxy.pac", text: Self.routingPAC)
        #expect(throws: InputError("the PAC evaluation timeout must be a positive number of seconds")) {
            try script.evaluate([], timeout: 0)
        }
    }

    @Test("the budget is per call: a large PAC whose every call takes a while still answers many URLs, each distinct URL once")
    func perCallBudget() throws {
        // 40 calls of about 40 ms each: 1.6 s in all, well past a 0.5 s budget for the batch, well inside it per call.
        let script = PACScript(source: "large.pac", text: """
            var calls = 0;
            function FindProxyForURL(url, host) {
                calls++;
                var end = new Date().getTime() + 40;
                while (new Date().getTime() < end) {}
                return "PROXY 127.0.0.1:" + (3000 + calls);
            }
            """)
        let requests = (0..<40).map { (url: "https://h\($0).example.test/", host: "h\($0).example.test") }
        let answers = try script.evaluate(requests + requests, timeout: 0.5)
        #expect(answers.count == 80)
        // Evaluated once per distinct URL: the repeated half gets the first answers, not calls 41 to 80.
        #expect(answers[40...].map(\.text) == answers[..<40].map(\.text))
        #expect(answers[39].text == "PROXY 127.0.0.1:3040")
    }

    // MARK: Timeouts (keep these last: see the suite comment)

    @Test("a slow PAC times out, blocks PAC evaluation while it runs, and the engine recovers when it ends")
    func slowScriptTimesOutAndRecovers() throws {
        let slow = PACScript(source: "slow.pac", text: """
            function FindProxyForURL(url, host) {
                var end = new Date().getTime() + 3000;
                while (new Date().getTime() < end) {}
                return "DIRECT";
            }
            """)
        let good = PACScript(source: "good.pac", text: "function FindProxyForURL(u, h) { return \"DIRECT\"; }")
        let request = [(url: "http://a.example.test/", host: "a.example.test")]
        let started = Date()
        #expect(throws: InputError(file: "slow.pac", "FindProxyForURL for http://a.example.test/ did not finish within 1 s (an endless loop?)")) {
            try slow.evaluate(request, timeout: 1)
        }
        #expect(Date().timeIntervalSince(started) < 2)
        let again = Date()
        #expect(throws: InputError(file: "good.pac", "cannot evaluate the PAC file: an earlier PAC evaluation (slow.pac) did not finish "
            + "and still holds libpacparser, which cannot be stopped; fix that PAC file and run again")) {
            try good.evaluate(request)
        }
        #expect(Date().timeIntervalSince(again) < 0.5)
        // The slow script ends after 3 s and releases the engine.
        var recovered = false
        for _ in 0..<50 where !recovered {
            Thread.sleep(forTimeInterval: 0.1)
            recovered = (try? good.evaluate(request)) != nil
        }
        #expect(recovered)
        #expect(try good.evaluate(request).map(\.alternatives) == [[.direct]])
    }

    /// The endless loop runs in a `proxyvet` process of its own: in this process it would hold libpacparser for
    /// every later PAC test of any suite. The command must end on its own with a clear error and exit code 2.
    @Test("an endless loop in a PAC ends the check with a clear error in bounded time")
    func endlessLoopTimesOut() throws {
        let folder = try TestFiles.temporaryFolder()
        let pac = folder.appendingPathComponent("loop.pac")
        try Data("function FindProxyForURL(u,h){ while(true){} }".utf8).write(to: pac)
        let config = folder.appendingPathComponent("proxies.yaml")
        try Data("version: 1\nproxies:\n  edge: { url: \"http://127.0.0.1:9\" }\npac: loop.pac\n".utf8).write(to: config)
        let list = folder.appendingPathComponent("urls.txt")
        try Data("https://a.example.test/\n".utf8).write(to: list)
        let started = Date()
        let run = try CommandRun.proxyvet(["check", list.path, "--config", config.path, "--output", folder.appendingPathComponent("out").path], timeout: 30)
        #expect(run.status == 2)
        #expect(run.stderr.contains("FindProxyForURL for https://a.example.test/ did not finish within 5 s (an endless loop?)"), "\(run.stderr)")
        #expect(Date().timeIntervalSince(started) < 20)
    }

    // MARK: Helpers

    /// Answers collected from several threads.
    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var answers: [Int: String] = [:]
        func set(_ index: Int, _ text: String?) { lock.withLock { answers[index] = text } }
        var values: [String?] { lock.withLock { (0..<8).map { answers[$0] } } }
    }

    /// An HTTP/1.1 response with a fixed body, for FakeProxy to serve.

    static func httpResponse(status: String, contentType: String = "application/x-ns-proxy-autoconfig", extraHeaders: String = "",
                             body: String) -> String {
        "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\n\(extraHeaders)"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    }
}
