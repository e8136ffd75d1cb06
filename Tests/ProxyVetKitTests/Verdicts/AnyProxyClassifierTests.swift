import Foundation
import Testing
@testable import ProxyVetKit

/// The evidence paths that hold for any proxy: SOCKS replies, an https proxy's own certificate, timeouts inside TLS,
/// a verified TLS session that makes even a "blocked" page the origin's, and confidence on every verdict.
@Suite("Classifier on any proxy")
struct AnyProxyClassifierTests {
    struct Row: Sendable, CustomStringConvertible {
        let name: String
        let evidence: ProbeEvidence
        var scheme = "https"
        var kind = ProxyKind.http
        let verdict: Verdict
        let confidence: Confidence
        var description: String { name }
    }

    static let established = ClassifierTests.established
    static let leaf = ClassifierTests.leaf
    static func socks(_ reply: Int, _ message: String, credentials: Bool = false) -> ProbeEvidence {
        ProbeEvidence(curlCode: 97, curlMessage: message, connected: true, sentCredentials: credentials, proxyReply: reply)
    }
    static let blockedLookingPage = ResponseHead(status: 403, statusLine: "HTTP/1.1 403 Forbidden",
                                                 headers: [.init(name: "server", value: "nginx"), .init(name: "content-type", value: "text/html")])

    // Messages as libcurl 7.88 words them against Dante 1.4.2 and stunnel (Scripts/lab/README.md, Product: dante / stunnel).
    static let rows: [Row] = [
        Row(name: "SOCKS reply 2: not allowed by ruleset", evidence: socks(23, "Can't complete SOCKS5 connection to x.socks-blocked.proxyvet-lab.test. (2)"), kind: .socks5h, verdict: .blocked, confidence: .high),
        Row(name: "SOCKS reply 4: host unreachable (may be DNS)", evidence: socks(21, "Can't complete SOCKS5 connection to nxdomain.proxyvet-lab.test. (4)"), kind: .socks5h, verdict: .upstreamUnreachable, confidence: .medium),
        Row(name: "SOCKS reply 5: connection refused", evidence: socks(19, "Can't complete SOCKS5 connection to down.proxyvet-lab.test. (5)"), kind: .socks5h, verdict: .upstreamUnreachable, confidence: .high),
        Row(name: "SOCKS: no acceptable method", evidence: socks(12, "No authentication method was acceptable."), kind: .socks5h, verdict: .authRequired, confidence: .high),
        Row(name: "SOCKS: user rejected", evidence: socks(33, "User was rejected by the SOCKS5 server (1 1).", credentials: true), kind: .socks5h, verdict: .authFailed, confidence: .high),
        Row(name: "SOCKS proxy resets during its handshake", evidence: socks(15, "Failed to receive SOCKS5 connect request ack."), kind: .socks5h, verdict: .dropped, confidence: .high),
        Row(name: "https proxy whose certificate does not verify", evidence: ProbeEvidence(curlCode: 60, curlMessage: "SSL certificate problem: unable to get local issuer certificate", proxyVerifyResult: 20),
            kind: .https, verdict: .proxyUnreachable, confidence: .high),
        Row(name: "https proxy: even a CONNECT 200 cannot make it trusted", evidence: ProbeEvidence(connectStatus: 200, connectResponses: [established], responses: [ClassifierTests.origin], verifyResult: 0, certificate: leaf, proxyVerifyResult: 19),
            kind: .https, verdict: .proxyUnreachable, confidence: .high),
        Row(name: "tarpit behind an https proxy times out", evidence: ProbeEvidence(curlCode: 35, curlMessage: "SSL connection timeout", connectStatus: 200, connectResponses: [established], proxyVerifyResult: 0),
            kind: .https, verdict: .timeout, confidence: .high),
        Row(name: "TLS verified: the origin's own 403 page is allowed", evidence: ProbeEvidence(connectStatus: 200, httpStatus: 403, connectResponses: [established], responses: [blockedLookingPage],
                                                                                               bodySnippet: "<title>Access denied</title> This site is blocked", verifyResult: 0, certificate: leaf), verdict: .allowed, confidence: .high),
        Row(name: "second look without a chain keeps the certificate finding", evidence: ProbeEvidence(curlCode: 28, curlMessage: "Operation timed out", connectStatus: 200, connectResponses: [established],
                                                                                                        verifyResult: 20, verifyMessage: "SSL certificate problem: unable to get local issuer certificate"), verdict: .tlsIntercepted, confidence: .high),
        Row(name: "second look reset: an expired certificate stays tls_failed", evidence: ProbeEvidence(curlCode: 35, curlMessage: "OpenSSL SSL_connect: SSL_ERROR_SYSCALL", connectStatus: 200, connectResponses: [established],
                                                                                                         verifyResult: 10, verifyMessage: "SSL certificate problem: certificate has expired"), verdict: .tlsFailed, confidence: .high),
        Row(name: "second look that completed is never allowed", evidence: ProbeEvidence(connectStatus: 200, httpStatus: 200, connectResponses: [established], responses: [ClassifierTests.origin],
                                                                                          verifyResult: 1, verifyMessage: "OpenSSL SSL_connect: SSL_ERROR_SYSCALL"), verdict: .tlsFailed, confidence: .high),
        Row(name: "plain http through a proxy with nothing to prove it is unproven", evidence: ProbeEvidence(httpStatus: 200, responses: [ClassifierTests.origin]), scheme: "http", verdict: .allowed, confidence: .low),
        Row(name: "Privoxy's refusal by its reason phrase, no Server header", evidence: ProbeEvidence(httpStatus: 403, responses: [
            ResponseHead(status: 403, statusLine: "HTTP/1.1 403 Request blocked by Privoxy", headers: [.init(name: "content-length", value: "8328"), .init(name: "content-type", value: "text/html")])],
                                                                                                     bodySnippet: "<title>Request blocked (Privoxy@proxyvet-lab-privoxy)</title>"), scheme: "http", verdict: .blocked, confidence: .high),
    ]

    @Test("verdict and confidence", arguments: rows)
    func verdict(_ row: Row) {
        let context = ProbeContext(scheme: row.scheme, host: "a.example.test", port: row.scheme == "https" ? 443 : 80, viaProxy: row.kind != .direct,
                                   proxyIsHTTPS: row.kind == .https, proxyIsSOCKS: row.kind == .socks5h)
        let result = Classifier.classify(row.evidence, context: context)
        #expect(result.verdict == row.verdict, "\(result.reason)")
        #expect(result.confidence == row.confidence, "\(result.reason)")
    }

    @Test("credentials libcurl could not use were not sent: auth_required saying so, not auth_failed")
    func nothingSent() {
        let bearer = ResponseHead(status: 407, statusLine: "HTTP/1.1 407 Proxy Authentication Required", headers: [.init(name: "proxy-authenticate", value: "Bearer realm=\"corp\"")])
        let once = Classifier.classify(ProbeEvidence(curlCode: 56, connectStatus: 407, connectResponses: [bearer], sentCredentials: true),
                                       context: ProbeContext(scheme: "https", host: "a.example.test", port: 443, viaProxy: true))
        #expect(once.verdict == .authRequired && once.reason.contains("nothing was sent"), "\(once.reason)")
        let basic = ResponseHead(status: 407, statusLine: "HTTP/1.1 407 Proxy Authentication Required", headers: [.init(name: "proxy-authenticate", value: "Basic realm=\"corp\"")])
        let twice = Classifier.classify(ProbeEvidence(curlCode: 56, connectStatus: 407, connectResponses: [basic, basic], sentCredentials: true),
                                        context: ProbeContext(scheme: "https", host: "a.example.test", port: 443, viaProxy: true))
        #expect(twice.verdict == .authFailed && twice.reason.contains("after they were sent"), "\(twice.reason)")
    }

    @Test("auth_required names the schemes and whether a device answers them silently")
    func authSchemes() {
        let evidence = ProbeEvidence(curlCode: 56, connectStatus: 407, connectResponses: [
            ResponseHead(status: 407, statusLine: "HTTP/1.1 407 Proxy Authentication Required", headers: [.init(name: "proxy-authenticate", value: "NTLM"), .init(name: "proxy-authenticate", value: "Negotiate")])])
        let result = Classifier.classify(evidence, context: ProbeContext(scheme: "https", host: "a.example.test", port: 443, viaProxy: true))
        #expect(result.verdict == .authRequired)
        #expect(result.authSchemes == ["NTLM", "Negotiate"])
        #expect(result.reason.contains("domain-joined device answers NTLM/Negotiate"), "\(result.reason)")
    }
}

/// The symptom the signatures exist for: a product's block page over plain http, through a proxy, used to be taken for
/// the origin's answer ("allowed (origin answered 503)"). Samples: Fixtures/BlockPages (each cites its public source).
@Suite("Commercial block pages through the classifier")
struct CommercialBlockPageTests {
    static let context = ProbeContext(scheme: "http", host: "www.example.test", port: 80, viaProxy: true)

    @Test("a product's block, portal or error page is never allowed, and its verdict is the signature's meaning", arguments: ProductSignatureTests.bundledIDs)
    func neverAllowed(_ id: String) throws {
        let signature = try #require(SignatureSet.bundled.signatures.first { $0.id == id })
        let sample = try BlockPageSample.load("\(id).http")
        for head in sample.heads {
            let result = Classifier.classify(ProbeEvidence(httpStatus: head.status, responses: [head], bodySnippet: sample.body), context: Self.context)
            #expect(result.verdict == signature.meaning, "\(id) \(head.status): \(result.reason)")
            #expect(result.product == signature.product && result.confidence == .high, "\(id): \(result.reason)")
            #expect(result.reason.contains(signature.product), "\(result.reason)")
        }
    }

    /// The origin samples except Squid's own error page, which is there to show that no signature needs to cover Squid.
    static let originPages = BlockPageSample.originSamples.filter { $0 != "origin/squid-403.http" }

    @Test("an origin's own 403, 503 or page saying blocked, through a proxy that passed it on, is allowed", arguments: originPages)
    func originAllowed(_ name: String) throws {
        let sample = try BlockPageSample.load(name)
        for head in sample.heads {
            let result = Classifier.classify(ProbeEvidence(httpStatus: head.status, responses: [head], bodySnippet: sample.body), context: Self.context)
            #expect(result.verdict == .allowed, "\(name) \(head.status): \(result.reason)")
        }
    }
}
