import Foundation
import Testing
@testable import ProxyVetKit

/// A broken or hostile proxy yields a classified verdict within the timeout, never a hang or a crash.
@Suite("Hostile proxies")
struct HostileProxyTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let behaviour: FakeProxy.Behaviour
        let url: String
        let expected: Verdict
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "garbage instead of HTTP", behaviour: .reply("HELLO THIS IS NOT HTTP\r\n\r\n"), url: "https://a.example.test/", expected: .protocolError),
        Case(name: "HTTP/0.9 style reply to a plain request", behaviour: .reply("hello\n"), url: "http://a.example.test/", expected: .protocolError),
        Case(name: "close without an answer", behaviour: .reply(""), url: "https://a.example.test/", expected: .dropped),
        Case(name: "connection reset", behaviour: .reset, url: "https://a.example.test/", expected: .dropped),
        Case(name: "accept then silence", behaviour: .silence, url: "https://a.example.test/", expected: .timeout),
        Case(name: "CONNECT 200 then close", behaviour: .connectThen(""), url: "https://a.example.test/", expected: .dropped),
        Case(name: "CONNECT 200 then non-TLS bytes", behaviour: .connectThen("SSH-2.0-OpenSSH_9.2 not tls at all\r\n"), url: "https://a.example.test/", expected: .protocolError),
        Case(name: "407 without Proxy-Authenticate", behaviour: .reply("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"), url: "https://a.example.test/", expected: .authRequired),
        Case(name: "403 on CONNECT", behaviour: .reply("HTTP/1.1 403 Forbidden\r\nServer: squid/5.7\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\nContent-Length: 0\r\n\r\n"), url: "https://a.example.test/", expected: .blocked),
        Case(name: "302 on CONNECT", behaviour: .reply("HTTP/1.1 302 Found\r\nLocation: http://block.example.test/\r\nContent-Length: 0\r\n\r\n"), url: "https://a.example.test/", expected: .blockPage),
        Case(name: "one byte per second", behaviour: .trickle, url: "http://a.example.test/", expected: .timeout),
        Case(name: "endless headers", behaviour: .endless(head: "HTTP/1.1 200 OK\r\n", chunk: "X-Filler: \(String(repeating: "a", count: 200))\r\n"),
             url: "http://a.example.test/", expected: .protocolError),
        Case(name: "one enormous header", behaviour: .endless(head: "HTTP/1.1 200 OK\r\nX-Huge: ", chunk: String(repeating: "b", count: 4096)),
             url: "http://a.example.test/", expected: .protocolError),
        Case(name: "endless body: read what is needed, then stop", behaviour: .endless(head: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n", chunk: String(repeating: "<p>x</p>", count: 512)),
             url: "http://a.example.test/", expected: .allowed),
        Case(name: "endless answer to CONNECT", behaviour: .endless(head: "HTTP/1.1 403 Forbidden\r\nServer: squid\r\n", chunk: "X-More: yes\r\n"),
             url: "https://a.example.test/", expected: .protocolError),
        Case(name: "redirect to itself (not followed)", behaviour: .reply("HTTP/1.1 302 Found\r\nLocation: http://a.example.test/\r\nContent-Length: 0\r\n\r\n"),
             url: "http://a.example.test/", expected: .allowed),
        Case(name: "proxy redirect loop on CONNECT", behaviour: .reply("HTTP/1.1 302 Found\r\nLocation: https://a.example.test/\r\nContent-Length: 0\r\n\r\n"),
             url: "https://a.example.test/", expected: .blockPage),
    ]

    @Test("classified within the timeout", arguments: cases)
    func classified(_ testCase: Case) throws {
        let proxy = try FakeProxy(testCase.behaviour)
        defer { proxy.stop() }
        var settings = ProbeSettings()
        settings.timeout = 2
        settings.connectTimeout = 1
        let route = try Route.parse(name: "hostile", url: proxy.url)
        let started = Date()
        let evidence = ProbeEngine(settings: settings).run([ProbeJob(route: route, url: testCase.url)])
        let elapsed = Date().timeIntervalSince(started)
        let host = URLComponents(string: testCase.url)?.host ?? ""
        let classification = Classifier.classify(try #require(evidence.first), context: ProbeContext(
            scheme: testCase.url.hasPrefix("https") ? "https" : "http", host: host, port: testCase.url.hasPrefix("https") ? 443 : 80, viaProxy: true))
        #expect(classification.verdict == testCase.expected, "\(classification.reason) — curl \(evidence[0].curlCode) \(evidence[0].curlMessage)")
        // The watchdog guarantees an end; libcurl's own timeout should end it first.
        #expect(elapsed < settings.timeout + 2)
    }

    @Test("a proxy port with nothing listening is proxy_unreachable")
    func nothingListening() throws {
        let proxy = try FakeProxy(.reset)
        let url = proxy.url
        proxy.stop()
        let evidence = ProbeEngine(settings: ProbeSettings()).run([ProbeJob(route: try Route.parse(name: "gone", url: url), url: "https://a.example.test/")])
        let verdict = Classifier.classify(evidence[0], context: ProbeContext(scheme: "https", host: "a.example.test", port: 443, viaProxy: true)).verdict
        #expect(verdict == .proxyUnreachable)
    }

    @Test("the per-proxy cap holds while many probes wait")
    func perProxyCap() throws {
        let proxy = try FakeProxy(.reply("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
        defer { proxy.stop() }
        var settings = ProbeSettings()
        settings.perProxy = 3
        settings.concurrency = 10
        let route = try Route.parse(name: "p", url: proxy.url)
        let engine = ProbeEngine(settings: settings)
        let evidence = engine.run((0..<40).map { ProbeJob(route: route, url: "https://h\($0).example.test/") })
        #expect(evidence.count == 40)
        #expect(evidence.allSatisfy { $0.connectStatus == 403 },
                "\(Set(evidence.filter { $0.connectStatus != 403 }.map { "curl \($0.curlCode) CONNECT \($0.connectStatus): \($0.curlMessage) after \($0.timings.total) s" }))")
        #expect(engine.peakInFlight[route.proxyKey] == 3)
    }
}

/// Many probes through the engine leave no easy handle behind. Scripts/sanitize runs the long version
/// (PROXYVET_LONG=1: 10,000 probes) under AddressSanitizer, whose leak checker also sees slists and buffers.
@Suite("Engine resources")
struct EngineResourceTests {
    static let probes = ProcessInfo.processInfo.environment["PROXYVET_LONG"] == "1" ? 10_000 : 500

    @Test("every transfer is freed after a run, including refused tunnels and aborted endless bodies")
    func noHandleLeft() throws {
        let refusing = try FakeProxy(.reply("HTTP/1.1 403 Forbidden\r\nServer: squid\r\nContent-Length: 0\r\n\r\n"))
        let endless = try FakeProxy(.endless(head: "HTTP/1.1 200 OK\r\n\r\n", chunk: String(repeating: "x", count: 1024)), holdSeconds: 3)
        defer { refusing.stop(); endless.stop() }
        var settings = ProbeSettings()
        settings.timeout = 3
        settings.perProxy = 32
        let routes = [try Route.parse(name: "refusing", url: refusing.url), try Route.parse(name: "endless", url: endless.url)]
        let jobs = (0..<Self.probes).map { index in
            ProbeJob(route: routes[index % 10 == 0 ? 1 : 0], url: index % 10 == 0 ? "http://b\(index).example.test/" : "https://a\(index).example.test/")
        }
        let engine = ProbeEngine(settings: settings)
        let evidence = engine.run(jobs)
        #expect(evidence.count == jobs.count)
        #expect(evidence.enumerated().allSatisfy { index, item in index % 10 == 0 ? item.curlCode == 0 : item.connectStatus == 403 })
        #expect(engine.liveTransfers.value == 0)
    }
}
