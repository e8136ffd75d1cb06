import Foundation
import Testing
@testable import ProxyVetKit

@Suite("Classifier")
struct ClassifierTests {
    static func head(_ status: Int, _ headers: [(String, String)] = []) -> ResponseHead {
        ResponseHead(status: status, statusLine: "HTTP/1.1 \(status) X", headers: headers.map { .init(name: $0.0, value: $0.1) })
    }

    static let squidDenied = head(403, [("server", "squid/5.7"), ("x-squid-error", "ERR_ACCESS_DENIED 0")])
    static let established = head(200)
    static let origin = head(200, [("server", "proxyvet-lab-origin")])
    static let leaf = CertificateEvidence(subject: "CN = a.example.test", issuer: "O = Lab, CN = Lab Origin CA", subjectAltNames: ["a.example.test"], chainIssuers: ["CN = Lab Origin CA"])
    static let bumped = CertificateEvidence(subject: "CN = a.example.test", issuer: "CN = Corp Inspection CA, O = Corp", subjectAltNames: ["a.example.test"], chainIssuers: [])

    struct Row: Sendable, CustomStringConvertible {
        let name: String
        let evidence: ProbeEvidence
        var scheme = "https"
        var policyProbe = false
        let verdict: Verdict
        var description: String { name }
    }

    static let rows: [Row] = [
        Row(name: "tunnel and verified TLS", evidence: ProbeEvidence(connectStatus: 200, httpStatus: 200, connectResponses: [established], responses: [origin], verifyResult: 0, certificate: leaf), verdict: .allowed),
        Row(name: "origin's own 404 is not a failure", evidence: ProbeEvidence(connectStatus: 200, httpStatus: 404, connectResponses: [established], responses: [head(404)], verifyResult: 0, certificate: leaf), verdict: .allowed),
        Row(name: "CONNECT 403", evidence: ProbeEvidence(curlCode: 56, connectStatus: 403, httpStatus: 403, connectResponses: [squidDenied]), verdict: .blocked),
        Row(name: "CONNECT 407 without credentials", evidence: ProbeEvidence(curlCode: 56, connectStatus: 407, connectResponses: [head(407, [("proxy-authenticate", "Basic realm=\"x\"")])]), verdict: .authRequired),
        Row(name: "CONNECT 407 with credentials", evidence: ProbeEvidence(curlCode: 56, connectStatus: 407, connectResponses: [head(407, [("proxy-authenticate", "Basic realm=\"x\"")]), head(407, [("proxy-authenticate", "Basic realm=\"x\"")])], sentCredentials: true), verdict: .authFailed),
        Row(name: "CONNECT 302 to a block page", evidence: ProbeEvidence(curlCode: 56, connectStatus: 302, connectResponses: [head(302, [("location", "http://block/")])]), verdict: .blockPage),
        Row(name: "CONNECT 503 ERR_CONNECT_FAIL", evidence: ProbeEvidence(curlCode: 56, connectStatus: 503, connectResponses: [head(503, [("x-squid-error", "ERR_CONNECT_FAIL 111")])]), verdict: .upstreamUnreachable),
        Row(name: "CONNECT 503 ERR_DNS_FAIL", evidence: ProbeEvidence(curlCode: 56, connectStatus: 503, connectResponses: [head(503, [("x-squid-error", "ERR_DNS_FAIL 0")])]), verdict: .dnsFailure),
        Row(name: "DNS failure on a policy probe is allowed by policy", evidence: ProbeEvidence(curlCode: 56, connectStatus: 503, connectResponses: [head(503, [("x-squid-error", "ERR_DNS_FAIL 0")])]), policyProbe: true, verdict: .allowed),
        Row(name: "intercepted: untrusted issuer", evidence: ProbeEvidence(connectStatus: 200, httpStatus: 200, connectResponses: [established], responses: [origin], verifyResult: 20, certificate: bumped), verdict: .tlsIntercepted),
        Row(name: "intercepted and denied inside TLS", evidence: ProbeEvidence(connectStatus: 200, httpStatus: 403, connectResponses: [established], responses: [squidDenied], verifyResult: 19, certificate: bumped), verdict: .blocked),
        Row(name: "expired certificate", evidence: ProbeEvidence(connectStatus: 200, connectResponses: [established], responses: [origin], verifyResult: 10, certificate: leaf), verdict: .tlsFailed),
        Row(name: "certificate for another name", evidence: ProbeEvidence(connectStatus: 200, connectResponses: [established], responses: [origin], verifyResult: 0, certificate: CertificateEvidence(subject: "CN = other.test", issuer: "CN = Lab Origin CA", subjectAltNames: ["other.test"], chainIssuers: [])), verdict: .tlsFailed),
        Row(name: "plain http: proxy-generated 403", evidence: ProbeEvidence(httpStatus: 403, responses: [squidDenied]), scheme: "http", verdict: .blocked),
        Row(name: "plain http: origin 403 passes", evidence: ProbeEvidence(httpStatus: 403, responses: [head(403, [("server", "nginx")])]), scheme: "http", verdict: .allowed),
        Row(name: "plain http: proxy 302", evidence: ProbeEvidence(httpStatus: 302, responses: [head(302, [("x-squid-error", "ERR_ACCESS_DENIED 0"), ("location", "http://block/")])]), scheme: "http", verdict: .blockPage),
        Row(name: "plain http: 407", evidence: ProbeEvidence(httpStatus: 407, responses: [head(407)]), scheme: "http", verdict: .authRequired),
        Row(name: "plain http: 502 read error naming DNS", evidence: ProbeEvidence(httpStatus: 502, responses: [head(502, [("x-squid-error", "ERR_READ_ERROR 0")])], bodySnippet: "Unable to determine IP address from host name"), scheme: "http", verdict: .dnsFailure),
        Row(name: "proxy refuses connections", evidence: ProbeEvidence(curlCode: 7, curlMessage: "Failed to connect", connected: false), verdict: .proxyUnreachable),
        Row(name: "proxy name unresolvable", evidence: ProbeEvidence(curlCode: 5, connected: false), verdict: .proxyUnreachable),
        Row(name: "timeout after tunnel", evidence: ProbeEvidence(curlCode: 28, connectStatus: 200, connectResponses: [established]), verdict: .timeout),
        Row(name: "reset after tunnel", evidence: ProbeEvidence(curlCode: 35, curlMessage: "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to a:443", connectStatus: 200, connectResponses: [established]), verdict: .dropped),
        Row(name: "handshake alert", evidence: ProbeEvidence(curlCode: 35, curlMessage: "error:0A000410:SSL routines::sslv3 alert handshake failure", connectStatus: 200, connectResponses: [established]), verdict: .tlsFailed),
        Row(name: "empty reply", evidence: ProbeEvidence(curlCode: 52, curlMessage: "Empty reply from server"), verdict: .dropped),
    ]

    @Test("verdict table", arguments: rows)
    func verdict(_ row: Row) {
        let context = ProbeContext(scheme: row.scheme, host: "a.example.test", port: row.scheme == "https" ? 443 : 80, viaProxy: true, policyProbe: row.policyProbe)
        let result = Classifier.classify(row.evidence, context: context)
        #expect(result.verdict == row.verdict, "\(result.reason)")
        #expect(!result.reason.isEmpty)
    }

    @Test("interception names the issuer")
    func issuerNamed() {
        let evidence = ProbeEvidence(connectStatus: 200, connectResponses: [Self.established], responses: [Self.origin], verifyResult: 20, certificate: Self.bumped)
        let result = Classifier.classify(evidence, context: ProbeContext(scheme: "https", host: "a.example.test", port: 443, viaProxy: true))
        #expect(result.issuer == "Corp Inspection CA")
        #expect(result.reason.contains("Corp Inspection CA"))
        #expect(result.intercepted)
    }

    @Test("an auth challenge answered with good credentials is still recorded")
    func challengeRecorded() {
        let evidence = ProbeEvidence(connectStatus: 200, connectResponses: [Self.head(407, [("proxy-authenticate", "Basic realm=\"x\"")]), Self.established],
                                     responses: [Self.origin], verifyResult: 0, certificate: Self.leaf, sentCredentials: true)
        let result = Classifier.classify(evidence, context: ProbeContext(scheme: "https", host: "a.example.test", port: 443, viaProxy: true))
        #expect(result.verdict == .allowed)
        #expect(result.authChallenged)
        #expect(result.authSchemes == ["Basic"])
    }

    @Test("CONNECT refused on an odd port says so")
    func portReason() {
        let evidence = ProbeEvidence(curlCode: 56, connectStatus: 403, connectResponses: [Self.squidDenied])
        let result = Classifier.classify(evidence, context: ProbeContext(scheme: "https", host: "a.example.test", port: 8443, viaProxy: true))
        #expect(result.verdict == .blocked)
        #expect(result.reason.contains("port 8443"))
        #expect(result.proxyError == "ERR_ACCESS_DENIED")
    }

    @Test("common names", arguments: [("C = US, O = X, CN = Name", "Name"), ("CN=Lab CA,O=Lab", "Lab CA"), ("O = NoCN", "O = NoCN")])
    func commonName(_ pair: (String, String)) {
        #expect(Classifier.commonName(pair.0) == pair.1)
    }
}
