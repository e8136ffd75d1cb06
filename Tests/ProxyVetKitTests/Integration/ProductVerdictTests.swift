import Foundation
import Testing
@testable import ProxyVetKit

/// Verdicts through real products beyond Squid (Scripts/lab/products): Privoxy, mitmproxy, a content filter that serves
/// its block page with status 200, Dante SOCKS5, stunnel as an https:// proxy, Squid with NTLM and with Negotiate
/// (an MIT KDC on loopback), and origins whose own answers look like blocks. Each product's measured answers are in
/// Scripts/lab/README.md ("Product:" sections).
@Suite("Real products in the loopback lab", .enabled(if: Lab.available, "needs the lab: run Scripts/test"))
struct ProductVerdictTests {
    static let productRoutes = ["edge", "privoxy", "mitm", "filter", "socks", "socks-auth", "socks-auth-none", "socks-auth-wrong",
                                "secure", "secure-noca", "secure-inspect", "ntlm", "ntlm-none", "kerberos", "kerberos-none", "apache", "dead", "inspect", "orphan", "branch"]
    static let urls = [
        "https://allowed.proxyvet-lab.test/", "http://allowed.proxyvet-lab.test/",
        "https://x.blocked.proxyvet-lab.test/", "http://x.blocked.proxyvet-lab.test/",
        "https://x.privoxy-blocked.proxyvet-lab.test/", "http://x.privoxy-blocked.proxyvet-lab.test/",
        "https://x.filtered.proxyvet-lab.test/", "http://x.filtered.proxyvet-lab.test/",
        "https://x.socks-blocked.proxyvet-lab.test/", "http://x.socks-blocked.proxyvet-lab.test/",
        "https://x.apache-blocked.proxyvet-lab.test/", "http://x.apache-blocked.proxyvet-lab.test/", "http://down.proxyvet-lab.test/",
        "https://origin-403.proxyvet-lab.test/", "http://origin-403.proxyvet-lab.test/",
        "https://origin-503.proxyvet-lab.test/", "http://origin-503.proxyvet-lab.test/",
        "https://origin-blockedpage.proxyvet-lab.test/", "http://origin-blockedpage.proxyvet-lab.test/",
        "https://down.proxyvet-lab.test/", "https://nxdomain.proxyvet-lab.test/", "https://hang.proxyvet-lab.test/",
        "https://expired.proxyvet-lab.test/", "https://reset.proxyvet-lab.test/",
    ]

    /// The lab's Kerberos realm and ticket for the Negotiate route; Scripts/test exports both before the run.
    static func useLabKerberos(_ lab: Lab) {
        for (name, value) in [("KRB5_CONFIG", "\(lab.dir)/kerberos/krb5.conf"), ("KRB5CCNAME", "\(lab.dir)/kerberos/ccache")]
        where ProcessInfo.processInfo.environment[name] == nil {
            setenv(name, value, 1)
        }
    }

    static func list(_ urls: [String], id: String = "products", wildcards: [String] = []) -> AllowList {
        AllowList(id: id, name: id, file: id, policies: [], services: [Service(name: id, endpoints: urls.map { url in
            let components = URLComponents(string: url)!
            return Endpoint(host: components.host!, ports: [components.port ?? (components.scheme == "http" ? 80 : 443)], scheme: components.scheme)
        } + wildcards.map { Endpoint(host: $0, ports: [443]) })], contentHash: "")
    }

    /// One run through every product route, as a user would configure it (the lab's generated config).
    static let report: CheckReport? = {
        guard let lab = Lab.current, let routes = try? lab.routes().filter({ productRoutes.contains($0.name) }) else { return nil }
        useLabKerberos(lab)
        var settings = lab.settings()
        settings.perProxy = 16
        return try? CheckRunner(lists: [list(urls, wildcards: ["*.policy.proxyvet-lab.test"])], routes: routes, settings: settings).run()
    }()

    static func result(_ route: String, _ url: String) throws -> ProbeResult {
        try report.result(route, url, run: "the product run")
    }

    struct Expectation: Sendable, CustomStringConvertible {
        let route: String
        let url: String
        let verdict: Verdict
        var confidence: Confidence? = nil
        var description: String { "\(route) \(url) → \(verdict.rawValue)" }
    }

    static let expectations: [Expectation] = [
        // Privoxy in front of edge: its own block (403 "Request blocked by Privoxy", no Server header) and edge's behind it.
        Expectation(route: "privoxy", url: "http://x.privoxy-blocked.proxyvet-lab.test/", verdict: .blocked, confidence: .high),
        Expectation(route: "privoxy", url: "https://x.privoxy-blocked.proxyvet-lab.test/", verdict: .blocked, confidence: .high),
        Expectation(route: "privoxy", url: "http://x.blocked.proxyvet-lab.test/", verdict: .blocked, confidence: .high),
        Expectation(route: "privoxy", url: "https://x.blocked.proxyvet-lab.test/", verdict: .blocked, confidence: .high),
        Expectation(route: "privoxy", url: "https://allowed.proxyvet-lab.test/", verdict: .allowed, confidence: .high),
        Expectation(route: "privoxy", url: "http://allowed.proxyvet-lab.test/", verdict: .allowed, confidence: .high),
        // mitmproxy in upstream mode re-signs first: without its CA the interception is what a device sees (the
        // parent's refusal comes back inside mitmproxy's TLS, past the failed verification).
        Expectation(route: "mitm", url: "https://x.blocked.proxyvet-lab.test/", verdict: .tlsIntercepted),
        Expectation(route: "mitm", url: "http://x.blocked.proxyvet-lab.test/", verdict: .blocked),
        Expectation(route: "mitm", url: "https://allowed.proxyvet-lab.test/", verdict: .tlsIntercepted),
        Expectation(route: "mitm", url: "http://allowed.proxyvet-lab.test/", verdict: .allowed, confidence: .high),
        // A content filter's block page with status 200 and an empty reason phrase is not the origin's answer.
        Expectation(route: "filter", url: "http://x.filtered.proxyvet-lab.test/", verdict: .blockPage),
        Expectation(route: "filter", url: "https://x.filtered.proxyvet-lab.test/", verdict: .tlsIntercepted),
        Expectation(route: "filter", url: "http://allowed.proxyvet-lab.test/", verdict: .allowed, confidence: .high),
        // Dante SOCKS5: a rule refusal is reply 2, "connection not allowed by ruleset".
        Expectation(route: "socks", url: "https://x.socks-blocked.proxyvet-lab.test/", verdict: .blocked, confidence: .high),
        Expectation(route: "socks", url: "http://x.socks-blocked.proxyvet-lab.test/", verdict: .blocked, confidence: .high),
        Expectation(route: "socks", url: "https://allowed.proxyvet-lab.test/", verdict: .allowed, confidence: .high),
        Expectation(route: "socks", url: "https://down.proxyvet-lab.test/", verdict: .upstreamUnreachable),
        Expectation(route: "socks", url: "https://hang.proxyvet-lab.test/", verdict: .timeout),
        Expectation(route: "socks-auth", url: "https://allowed.proxyvet-lab.test/", verdict: .allowed),
        Expectation(route: "socks-auth-none", url: "https://allowed.proxyvet-lab.test/", verdict: .authRequired),
        Expectation(route: "socks-auth-wrong", url: "https://allowed.proxyvet-lab.test/", verdict: .authFailed),
        // stunnel as an https:// proxy: with its CA the path works; without it nothing may pass, and a tarpit is a timeout.
        Expectation(route: "secure", url: "https://allowed.proxyvet-lab.test/", verdict: .allowed, confidence: .high),
        Expectation(route: "secure", url: "https://x.blocked.proxyvet-lab.test/", verdict: .blocked),
        Expectation(route: "secure", url: "https://hang.proxyvet-lab.test/", verdict: .timeout),
        Expectation(route: "secure-noca", url: "https://allowed.proxyvet-lab.test/", verdict: .proxyUnreachable),
        // Behind an https proxy libcurl reports a failed target certificate as a TLS error: the chain still tells.
        // The target's chain is read inside the handshake through the proxy's TLS: OpenSSL's own verify result.
        Expectation(route: "secure", url: "https://expired.proxyvet-lab.test/", verdict: .tlsFailed, confidence: .high),
        Expectation(route: "secure", url: "https://reset.proxyvet-lab.test/", verdict: .dropped),
        Expectation(route: "secure-inspect", url: "https://allowed.proxyvet-lab.test/", verdict: .tlsIntercepted),
        Expectation(route: "secure-inspect", url: "https://x.blocked.proxyvet-lab.test/", verdict: .tlsIntercepted),
        Expectation(route: "secure-noca", url: "http://allowed.proxyvet-lab.test/", verdict: .proxyUnreachable),
        // Apache httpd as a forward proxy: its refusal names Apache as Server, like any Apache origin would; calibration
        // learnt how this Apache writes its own pages, and its relayed answers carry the origin's Server.
        Expectation(route: "apache", url: "http://x.apache-blocked.proxyvet-lab.test/", verdict: .blocked),
        Expectation(route: "apache", url: "https://x.apache-blocked.proxyvet-lab.test/", verdict: .blocked, confidence: .high),
        Expectation(route: "apache", url: "http://down.proxyvet-lab.test/", verdict: .upstreamUnreachable),
        Expectation(route: "apache", url: "http://allowed.proxyvet-lab.test/", verdict: .allowed, confidence: .high),
        // NTLM and Negotiate (Kerberos) authentication.
        Expectation(route: "ntlm", url: "https://allowed.proxyvet-lab.test/", verdict: .allowed),
        Expectation(route: "ntlm", url: "http://allowed.proxyvet-lab.test/", verdict: .allowed),
        Expectation(route: "ntlm-none", url: "https://allowed.proxyvet-lab.test/", verdict: .authRequired),
        Expectation(route: "kerberos", url: "https://allowed.proxyvet-lab.test/", verdict: .allowed),
        Expectation(route: "kerberos", url: "http://allowed.proxyvet-lab.test/", verdict: .allowed),
        Expectation(route: "kerberos-none", url: "https://allowed.proxyvet-lab.test/", verdict: .authRequired),
    ]

    @Test("a parent that is down is not a DNS failure, and never lets a policy probe pass")
    func parentDown() throws {
        let report = try #require(Self.report)
        let orphan = try Self.result("orphan", "https://allowed.proxyvet-lab.test/")
        #expect(orphan.verdict == .upstreamUnreachable, "\(orphan.reason)")
        #expect(orphan.reason.contains("parent dead"), "\(orphan.reason)")
        let policy = try #require(report.results.first { $0.route == "orphan" && $0.policyProbe })
        #expect(policy.verdict == .upstreamUnreachable && !policy.evidence.allowedByPolicyOnly, "\(policy.reason)")
        #expect(report.results.first { $0.route == "edge" && $0.policyProbe }?.verdict == .allowed)
        // A name that does not resolve at edge stays a DNS failure through branch: edge, probed on its own, says the same.
        #expect(try Self.result("branch", "https://nxdomain.proxyvet-lab.test/").verdict == .dnsFailure)
    }

    @Test("verdicts through real products", arguments: expectations)
    func verdict(_ expectation: Expectation) throws {
        let result = try Self.result(expectation.route, expectation.url)
        #expect(result.verdict == expectation.verdict, "\(result.reason) — curl \(result.evidence.curlCode) \(result.evidence.curlMessage)")
        if let confidence = expectation.confidence { #expect(result.confidence == confidence, "\(result.reason)") }
    }

    @Test("origins whose own answers look like blocks are allowed wherever a proxy let them pass",
          arguments: ["edge", "privoxy", "mitm", "filter", "socks", "secure", "ntlm", "kerberos", "apache"])
    func lookAlikes(_ route: String) throws {
        for host in ["origin-403", "origin-503", "origin-blockedpage"] {
            for scheme in ["http", "https"] where !(route == "mitm" && scheme == "https") {
                let result = try Self.result(route, "\(scheme)://\(host).proxyvet-lab.test/")
                #expect(result.verdict == .allowed, "\(route) \(scheme)://\(host): \(result.reason)")
                #expect(result.confidence != .low, "\(route) \(scheme)://\(host): \(result.reason)")
            }
        }
    }

    @Test("nothing is allowed where a product refused, and nothing is allowed through an https proxy that cannot be verified")
    func neverAllowedWhenRefused() throws {
        let report = try #require(Self.report)
        let refusedByRoute = ["privoxy": ["privoxy-blocked", "x.blocked"], "mitm": ["x.blocked"], "filter": ["x.filtered"],
                              "socks": ["socks-blocked"], "secure": ["x.blocked"], "edge": ["x.blocked"], "apache": ["apache-blocked"]]
        for (route, markers) in refusedByRoute {
            for result in report.results where result.route == route && markers.contains(where: result.url.contains) {
                #expect(result.verdict != .allowed, "\(route) \(result.url): \(result.reason)")
            }
        }
        for route in ["secure-noca", "dead"] {
            #expect(report.results.filter { $0.route == route }.allSatisfy { $0.verdict == .proxyUnreachable })
        }
    }

    @Test("the product that refused is named from its signature or voice")
    func namedProducts() throws {
        let privoxy = try Self.result("privoxy", "http://x.privoxy-blocked.proxyvet-lab.test/")
        #expect(privoxy.evidence.product?.contains("Privoxy") == true, "\(privoxy.reason)")
        let mitm = try Self.result("mitm", "http://x.blocked.proxyvet-lab.test/")
        #expect(mitm.evidence.answeredBy != nil, "\(mitm.reason)")
        let socks = try Self.result("socks", "https://x.socks-blocked.proxyvet-lab.test/")
        #expect(socks.reason.contains("reply 2"), "\(socks.reason)")
        let noca = try Self.result("secure-noca", "https://allowed.proxyvet-lab.test/")
        #expect(noca.reason.contains("certificate") && noca.evidence.proxyVerifyResult != 0, "\(noca.reason)")
        let ntlm = try Self.result("ntlm-none", "https://allowed.proxyvet-lab.test/")
        #expect(ntlm.evidence.authSchemes == ["NTLM"], "\(ntlm.reason)")
        let kerberos = try Self.result("kerberos-none", "https://allowed.proxyvet-lab.test/")
        #expect(kerberos.evidence.authSchemes == ["Negotiate"], "\(kerberos.reason)")
    }

    @Test("behind an https proxy the certificate, verify result and TLS version are the target's, not the proxy's")
    func targetSessionBehindHTTPSProxy() throws {
        let lab = try #require(Lab.current)
        let allowed = try Self.result("secure", "https://allowed.proxyvet-lab.test/")
        #expect(allowed.evidence.certificate?.subject.contains("allowed.proxyvet-lab.test") == true, "\(allowed.evidence.certificate?.subject ?? "-")")
        #expect(allowed.evidence.certificate?.issuer.contains("Origin CA") == true)
        #expect(allowed.evidence.tlsVersion?.hasPrefix("TLSv1.") == true && allowed.evidence.verifyResult == 0)
        let expired = try Self.result("secure", "https://expired.proxyvet-lab.test/")
        #expect(expired.evidence.verifyResult == 10, "X509_V_ERR_CERT_HAS_EXPIRED, read in the failed handshake")
        #expect(expired.evidence.certificate?.subject.contains("expired.proxyvet-lab.test") == true)
        // Re-signed behind the https proxy: the inspection CA is named from the same, failed handshake.
        let inspected = try Self.result("secure-inspect", "https://allowed.proxyvet-lab.test/")
        #expect(inspected.evidence.certificate?.issuer.contains(lab.inspectionCAName) == true)
        #expect(inspected.confidence == .high)
    }

    @Test("calibration records each proxy's voice, or says why there is none")
    func calibration() throws {
        let report = try #require(Self.report)
        let voices = Dictionary(uniqueKeysWithValues: (report.calibration ?? []).map { ($0.route, $0) })
        #expect(voices.count == Self.productRoutes.count)
        for route in ["edge", "privoxy", "mitm", "secure", "ntlm", "kerberos", "apache"] {
            #expect(voices[route]?.status == .calibrated, "\(route): \(voices[route]?.note ?? "none")")
            #expect(voices[route]?.samples.isEmpty == false)
        }
        // mitmproxy's own voice: the 502 it writes inside its TLS when the parent refuses a CONNECT.
        #expect(voices["mitm"]?.samples.contains { $0.hop == "intercepting hop" && $0.fingerprint.server?.hasPrefix("mitmproxy") == true } == true)
        // Without credentials the NTLM Squid demands authentication for names, but refuses port 1 before that: both are its voice.
        #expect(voices["ntlm-none"]?.samples.contains { $0.fingerprint.status == 407 } == true)
        #expect(voices["ntlm-none"]?.samples.contains { $0.fingerprint.status == 403 } == true)
        #expect(voices["socks"]?.status == .notNeeded)
        #expect(voices["secure-noca"]?.note.contains("certificate did not verify") == true, "\(voices["secure-noca"]?.note ?? "")")
        #expect(voices["dead"]?.status == .noAnswer)
        #expect(voices.values.allSatisfy { $0.requests <= 4 })
    }
}

/// Connection-level state never crosses routes: NTLM authenticates a connection and an https proxy's trust is per route.
@Suite("Route isolation at full concurrency", .enabled(if: Lab.available, "needs the lab: run Scripts/test"))
struct RouteIsolationTests {
    @Test("an NTLM route with and without credentials, an https proxy with and without its CA, 32 names each")
    func isolation() throws {
        let lab = try #require(Lab.current)
        let routes = try lab.routes().filter { ["ntlm", "ntlm-none", "secure", "secure-noca"].contains($0.name) }
        #expect(routes.count == 4)
        let urls = (0..<16).flatMap { ["https://i\($0).isolation.proxyvet-lab.test/", "http://i\($0).isolation.proxyvet-lab.test/"] }
        var settings = lab.settings()
        settings.concurrency = 64
        settings.perProxy = 32
        let report = try CheckRunner(lists: [ProductVerdictTests.list(urls, id: "isolation")], routes: routes, settings: settings).run()
        func verdicts(_ route: String) -> Set<Verdict> { Set(report.results.filter { $0.route == route }.map(\.verdict)) }
        #expect(report.results.count == 4 * urls.count)
        #expect(verdicts("ntlm") == [.allowed])
        #expect(verdicts("ntlm-none") == [.authRequired])
        #expect(verdicts("secure") == [.allowed])
        #expect(verdicts("secure-noca") == [.proxyUnreachable])
    }
}
