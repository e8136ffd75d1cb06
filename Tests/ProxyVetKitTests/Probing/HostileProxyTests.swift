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
        #expect(evidence.allSatisfy { $0.connectStatus == 403 })
        #expect(engine.peakInFlight[route.proxyKey] == 3)
    }
}
