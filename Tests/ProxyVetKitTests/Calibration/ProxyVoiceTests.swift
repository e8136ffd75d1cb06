import Foundation
import Testing
@testable import ProxyVetKit

/// Voices and corroboration, on answers recorded from the lab's real proxies (Scripts/lab/README.md has the captures).
@Suite("Proxy voice and corroboration")
struct ProxyVoiceTests {
    static func head(_ statusLine: String, _ names: [String], server: String? = nil, extra: [(String, String)] = []) -> ResponseHead {
        let status = Int(statusLine.split(separator: " ")[1]) ?? 0
        var headers = names.map { ResponseHead.Header(name: $0, value: "x") }
        if let server, let index = headers.firstIndex(where: { $0.name == "server" }) { headers[index].value = server }
        for (name, value) in extra {
            if let index = headers.firstIndex(where: { $0.name == name }) { headers[index].value = value } else { headers.append(.init(name: name, value: value)) }
        }
        return ResponseHead(status: status, statusLine: statusLine, headers: headers)
    }

    static let squidPageNames = ["server", "mime-version", "date", "content-type", "content-length", "x-squid-error", "vary",
                                 "content-language", "x-cache", "x-cache-lookup", "via", "connection"]
    /// Squid 5.7 (edge) answering GET http://<random>.invalid/: its allow list refuses the name.
    static let squidDenied = head("HTTP/1.1 403 Forbidden", squidPageNames, server: "squid/5.7", extra: [("x-squid-error", "ERR_ACCESS_DENIED 0")])
    static let squidBody = "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><html><head><meta type=\"copyright\"><meta http-equiv=\"Content-Type\"><title>ERROR: The requested URL could not be retrieved</title><style type=\"text/css\"></style></head><body id=ERR_ACCESS_DENIED><div id=\"titles\"><h1>ERROR</h1><h2>The requested URL could not be retrieved</h2></div><hr>"
    /// The origin's 200 relayed by edge: the origin's headers in its order, then Squid's.
    static let originRelayed = head("HTTP/1.1 200 OK", ["server", "date", "content-type", "content-length", "x-cache", "x-cache-lookup", "via", "connection"],
                                    server: "proxyvet-lab-origin")
    /// The same origin inside TLS that verified to it.
    static let originOverTLS = head("HTTP/1.1 200 OK", ["server", "date", "content-type", "content-length", "connection"], server: "proxyvet-lab-origin")
    /// The lab's content filter (mitmproxy with a block addon) answering a filtered name: 200 with an empty reason phrase.
    static let filterBlock = head("HTTP/1.1 200 ", ["date", "content-type", "content-length", "cache-control", "pragma", "x-frame-options", "connection"])
    static let filterBody = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Content blocked</title>\n</head>\n<body>\n<h1>Content blocked</h1>\n<p>Access to this page has been blocked by your organisation's web content policy.</p>"

    static func voice(_ samples: [(ResponseHead, String)], route: String = "edge") -> ProxyVoice {
        ProxyVoice(route: route, status: .calibrated, note: "", samples: samples.map {
            VoiceSample(request: "GET http://<random>.invalid/ through the proxy", hop: "hop that resolves names", phase: "response",
                        fingerprint: AnswerFingerprint(head: $0.0, body: $0.1))
        }, requests: 4)
    }

    @Test("a proxy's other pages match its voice; the origin's answer relayed by it does not")
    func voiceMatching() throws {
        let edge = Self.voice([(Self.squidDenied, Self.squidBody)])
        let unreachable = Self.head("HTTP/1.1 503 Service Unavailable", Self.squidPageNames, server: "squid/5.7", extra: [("x-squid-error", "ERR_CONNECT_FAIL 111")])
        let match = try #require(edge.match(AnswerFingerprint(head: unreachable, body: Self.squidBody.replacingOccurrences(of: "ERR_ACCESS_DENIED", with: "ERR_CONNECT_FAIL"))))
        #expect(match.traits.count >= 3, "\(match.traits)")
        #expect(edge.match(AnswerFingerprint(head: Self.originRelayed, body: "proxyvet lab origin: allowed.proxyvet-lab.test")) == nil)
        #expect(edge.match(AnswerFingerprint(head: Self.filterBlock, body: Self.filterBody)) == nil)
    }

    @Test("a proxy that does not name itself is still recognised by how it speaks")
    func anonymousVoice() {
        // A product with no Server header: two pages of its own share the header names, their order and the skeleton.
        let names = ["content-type", "cache-control", "pragma", "x-frame-options", "connection"]
        let own = Self.head("HTTP/1.1 404 Not Found", names)
        let page = "<html><head><meta charset=utf-8><title>Corp gateway</title><style></style></head><body><div><h1>Not found</h1>"
        let voice = Self.voice([(own, page)], route: "gateway")
        let refusal = Self.head("HTTP/1.1 403 Forbidden", names)
        let classification = Classifier.classify(ProbeEvidence(httpStatus: 403, responses: [refusal], bodySnippet: page.replacingOccurrences(of: "Not found", with: "Denied")),
                                                 context: ProbeContext(scheme: "http", host: "a.example.test", port: 80, viaProxy: true, voices: [voice]))
        #expect(classification.verdict == .blocked, "\(classification.reason)")
        #expect(classification.answeredBy?.contains("gateway") == true)
        // The origin's own 403 through the same proxy is not that voice: allowed, and the reason says it is unproven.
        let origin = Self.head("HTTP/1.1 403 Forbidden", ["server", "date", "content-type", "content-length"], server: "nginx")
        let passed = Classifier.classify(ProbeEvidence(httpStatus: 403, responses: [origin], bodySnippet: "<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center><hr><center>nginx</center>"),
                                         context: ProbeContext(scheme: "http", host: "a.example.test", port: 80, viaProxy: true, voices: [voice]))
        #expect(passed.verdict == .allowed, "\(passed.reason)")
        #expect(passed.originUnproven && passed.confidence == .low)
    }

    static func entry(route: String, url: String, head: ResponseHead, body: String = "", unproven: Bool, proven: Bool) -> Corroboration.Entry {
        let components = URLComponents(string: url)!
        let result = ProbeResult(route: route, url: url, host: components.host!, port: components.scheme == "http" ? 80 : 443, services: [], requiredBy: [],
                                 required: true, policy: [], policyProbe: false, verdict: .allowed, reason: "first look", phase: .tunnelUp, confidence: unproven ? .low : .high,
                                 policyViolations: [], evidence: ReportedEvidence(ProbeEvidence(), Classifier.classify(ProbeEvidence(), context: ProbeContext(scheme: "http", host: "h", port: 80, viaProxy: true))),
                                 timings: ProbeTimings())
        return Corroboration.Entry(result: result, evidence: ProbeEvidence(httpStatus: head.status, responses: [head], bodySnippet: body),
                                   unproven: unproven, provenOrigin: proven)
    }

    @Test("plain http: the origin's voice over verified TLS proves the relayed answer and unmasks a 200 block page")
    func corroboration() throws {
        let chains = ["edge": ["edge"], "filter": ["filter", "edge"], "inspect": ["inspect"]]
        let results = Corroboration.apply([
            Self.entry(route: "edge", url: "https://x.filtered.proxyvet-lab.test/", head: Self.originOverTLS, unproven: false, proven: true),
            Self.entry(route: "edge", url: "http://x.filtered.proxyvet-lab.test/", head: Self.originRelayed, unproven: true, proven: false),
            Self.entry(route: "filter", url: "http://x.filtered.proxyvet-lab.test/", head: Self.filterBlock, body: Self.filterBody, unproven: true, proven: false),
        ], hops: { chains[$0] ?? [$0] })
        let relayed = try #require(results.first { $0.route == "edge" && $0.url.hasPrefix("http:") })
        #expect(relayed.verdict == .allowed && relayed.confidence == .high, "\(relayed.reason)")
        let filtered = try #require(results.first { $0.route == "filter" })
        #expect(filtered.verdict == .blockPage && filtered.confidence == .medium, "\(filtered.reason)")
        #expect(filtered.reason.contains("not the origin's"))
    }

    @Test("plain http with no reference stays allowed with low confidence; independent routes that agree raise it")
    func corroborationWithoutTLS() throws {
        let chains = ["edge": ["edge"], "inspect": ["inspect"], "branch": ["branch", "edge"]]
        let entries = [
            Self.entry(route: "edge", url: "http://only-http.example.test/", head: Self.originRelayed, unproven: true, proven: false),
            Self.entry(route: "inspect", url: "http://only-http.example.test/", head: Self.originRelayed, unproven: true, proven: false),
            Self.entry(route: "branch", url: "http://lonely.example.test/", head: Self.originRelayed, unproven: true, proven: false),
        ]
        let results = Corroboration.apply(entries, hops: { chains[$0] ?? [$0] })
        #expect(results[0].confidence == .medium && results[1].confidence == .medium, "\(results[0].reason)")
        #expect(results[2].verdict == .allowed && results[2].confidence == .low)
    }

    @Test("where most routes agree on a URL, the odd answer says what the others got")
    func oddOneOut() {
        func result(_ route: String, _ verdict: Verdict) -> ProbeResult {
            var entry = Self.entry(route: route, url: "https://a.example.test/", head: Self.originOverTLS, unproven: false, proven: true).result
            entry.verdict = verdict
            return entry
        }
        var results = [result("edge", .allowed), result("edge2", .blocked), result("branch", .allowed)]
        Corroboration.markOddOnes(&results)
        #expect(results[1].comparison?.contains("2 of 3 routes got allowed (branch, edge)") == true)
        #expect(results[0].comparison == nil && results[2].comparison == nil)
    }
}
