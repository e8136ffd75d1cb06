import Foundation
import Testing
@testable import ProxyVetKit

/// The TLS version check without a network: the TLS 1.2 probe's evidence → accepted / refused / untested, which pairs
/// get a TLS 1.2 probe, and the `tls12_refused` conflict on synthetic results. The lab proves the same on a real TLS 1.3-only ssl-bump Squid (TLSVersionTests).
@Suite("TLS versions")
struct TLSVersionProbeTests {
    // MARK: The TLS 1.2 probe's outcome

    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let evidence: ProbeEvidence
        let tunnel: Bool
        let outcome: TLSVersionProbe.Outcome
        let detail: String
        var description: String { name }
    }

    static let alert = "OpenSSL/3.0.19: error:0A00042E:SSL routines::tlsv1 alert protocol version"

    static let cases: [Case] = [
        Case(name: "handshake completed through a tunnel",
             evidence: ProbeEvidence(connectStatus: 200, tlsVersion: "TLSv1.2", tlsCipher: "ECDHE-RSA-AES256-GCM-SHA384"), tunnel: true,
             outcome: .accepted, detail: "a client offering only TLS 1.2 completed the handshake (TLSv1.2, ECDHE-RSA-AES256-GCM-SHA384)"),
        Case(name: "alert protocol version after CONNECT 200 (a TLS 1.3-only bump port)",
             evidence: ProbeEvidence(curlCode: 35, curlMessage: alert, connectStatus: 200), tunnel: true,
             outcome: .refused, detail: "a client offering only TLS 1.2 was refused with TLS alert \"protocol version\" (\(alert))"),
        Case(name: "connection closed during the handshake",
             evidence: ProbeEvidence(curlCode: 35, curlMessage: "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to x:443", connectStatus: 200), tunnel: true,
             outcome: .refused, detail: "a client offering only TLS 1.2 was refused during the handshake (OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to x:443)"),
        Case(name: "direct: connected, then the alert",
             evidence: ProbeEvidence(curlCode: 35, curlMessage: alert, connected: true), tunnel: false,
             outcome: .refused, detail: "a client offering only TLS 1.2 was refused with TLS alert \"protocol version\" (\(alert))"),
        Case(name: "the proxy refused the CONNECT",
             evidence: ProbeEvidence(curlCode: 56, curlMessage: "CONNECT tunnel failed, response 403", connectStatus: 403), tunnel: true,
             outcome: .untested, detail: "the TLS 1.2 probe did not reach a TLS handshake with the target (CONNECT answered 403): CONNECT tunnel failed, response 403"),
        Case(name: "the proxy could not be reached",
             evidence: ProbeEvidence(curlCode: 7, curlMessage: "Failed to connect to 192.0.2.9 port 3128", connected: false), tunnel: true,
             outcome: .untested, detail: "the TLS 1.2 probe did not reach a TLS handshake with the target: Failed to connect to 192.0.2.9 port 3128"),
        Case(name: "no answer to the ClientHello in time",
             evidence: ProbeEvidence(curlCode: 28, curlMessage: "Operation timed out", connectStatus: 200), tunnel: true,
             outcome: .untested, detail: "the TLS 1.2 probe did not reach a TLS handshake with the target (CONNECT answered 200): Operation timed out"),
        Case(name: "SOCKS refused the connection",
             evidence: ProbeEvidence(curlCode: 97, curlMessage: "SOCKS5 reply 2", connected: true, proxyReply: 23), tunnel: false,
             outcome: .untested, detail: "the TLS 1.2 probe did not reach a TLS handshake with the target: SOCKS5 reply 2"),
    ]

    @Test("the TLS 1.2 probe's evidence gives accepted, refused or untested", arguments: cases)
    func outcome(_ testCase: Case) {
        let probe = TLSVersionProbe(offered: .v1_2, evidence: testCase.evidence, tunnel: testCase.tunnel)
        #expect(probe.outcome == testCase.outcome)
        #expect(probe.detail == testCase.detail)
        #expect(probe.version == testCase.evidence.tlsVersion)
        #expect(probe.alert == (testCase.detail.contains("protocol version") ? "protocol version" : nil))
    }

    // MARK: Which pairs get a TLS 1.2 probe

    static func target(_ host: String, minTLS: TLSVersion? = .v1_2, scheme: String = "https") -> ProbeTarget {
        var target = ProbeTarget(url: "\(scheme)://\(host)/", scheme: scheme, host: host, port: scheme == "https" ? 443 : 80,
                                 requiredBy: [], required: true, policy: [], policyProbe: false)
        target.minTLS = minTLS
        target.minTLSBy = minTLS == nil ? [] : ["Microsoft Managed Desktop"]
        return target
    }

    @Test("every handshaking target on a route that intercepts, a sample elsewhere, none without minTLS 1.2 or a handshake")
    func selection() {
        let edge = ProxyActionTests.edge, inspect = ProxyActionTests.inspect
        let tls13 = ProbeEvidence(connectStatus: 200, tlsVersion: "TLSv1.3")
        var pairs: [TLSVersionCheck.Pair] = []
        for host in ["a", "b", "c", "d", "e"].map({ "\($0).corp.test" }) {
            pairs.append(.init(route: edge, target: Self.target(host), evidence: tls13, intercepted: false))
            pairs.append(.init(route: inspect, target: Self.target(host), evidence: tls13, intercepted: host != "a.corp.test"))
        }
        pairs.append(.init(route: inspect, target: Self.target("blocked.corp.test"), evidence: ProbeEvidence(connectStatus: 403), intercepted: false))
        pairs.append(.init(route: inspect, target: Self.target("plain.corp.test", scheme: "http"), evidence: ProbeEvidence(), intercepted: false))
        pairs.append(.init(route: inspect, target: Self.target("modern.corp.test", minTLS: .v1_3), evidence: tls13, intercepted: true))
        pairs.append(.init(route: edge, target: Self.target("nolist.corp.test", minTLS: nil), evidence: tls13, intercepted: false))
        let chosen = TLSVersionCheck.selection(pairs).map { "\(pairs[$0].route.name) \(pairs[$0].target.host)" }
        #expect(chosen == ["edge a.corp.test", "inspect a.corp.test", "edge b.corp.test", "inspect b.corp.test", "edge c.corp.test",
                           "inspect c.corp.test", "inspect d.corp.test", "inspect e.corp.test"])
        #expect(TLSVersionCheck.samplePerRoute == 3)
    }

    // MARK: The conflict

    static let target = target("portal.manage.microsoft.com")

    static func result(_ route: Route, intercepted: Bool, tls12: TLSVersionProbe.Outcome?, negotiated: String = "TLSv1.3") -> ProbeResult {
        let via = [ResponseHead.Header(name: "via", value: "1.1 \(route.aliases.first ?? route.name) (squid/5.7)")]
        let evidence = ProbeEvidence(connectStatus: 200, connectResponses: [ResponseHead(status: 200, statusLine: "HTTP/1.1 200 Connection established", headers: [])],
                                     responses: [ResponseHead(status: 200, statusLine: "HTTP/1.1 200 OK", headers: intercepted ? via : [])],
                                     tlsVersion: negotiated, tlsCipher: "TLS_AES_256_GCM_SHA384")
        var result = CheckRunner.result(route: route, target: Self.target, evidence: evidence)
        result.verdict = intercepted ? .tlsIntercepted : .allowed
        result.evidence.intercepted = intercepted
        result.tls12 = tls12.map { outcome in
            outcome == .accepted
                ? TLSVersionProbe(offered: .v1_2, evidence: ProbeEvidence(connectStatus: 200, tlsVersion: "TLSv1.2", tlsCipher: "ECDHE-RSA-AES256-GCM-SHA384"), tunnel: true)
                : TLSVersionProbe(offered: .v1_2, evidence: ProbeEvidence(curlCode: 35, curlMessage: alert, connectStatus: 200), tunnel: true)
        }
        return result
    }

    static func analyze(_ results: [ProbeResult], routes: [Route]) -> [Conflict] {
        let topology = Topology(routes: routes)
        return ConflictAnalyzer(topology: topology, routing: nil, results: Attributor.attributed(results, topology: topology))
            .analyze(targets: [Self.target]).filter { $0.kind == .tls12Refused }
    }

    @Test("an inspecting Squid that refuses TLS 1.2: an error naming it, with tls-min-version=1.2 on its bump port")
    func inspectingSquid() throws {
        let edge = ProxyActionTests.edge, inspect = ProxyActionTests.inspect
        let found = Self.analyze([Self.result(edge, intercepted: false, tls12: .accepted), Self.result(inspect, intercepted: true, tls12: .refused)],
                                 routes: [edge, inspect])
        #expect(found.count == 1)
        let conflict = try #require(found.first)
        #expect(conflict.severity == .error && conflict.hop.name == "inspect" && conflict.hop.product == "squid" && conflict.routes == ["inspect"])
        #expect(conflict.explanation == "inspect, the inspecting proxy that terminates TLS for portal.manage.microsoft.com, accepts only TLS 1.3: "
            + "a client offering only TLS 1.2 is refused (TLS alert \"protocol version\"). Microsoft Managed Desktop requires TLS 1.2 (minTLS).")
        #expect(conflict.evidence == "inspect: the main probe negotiated TLSv1.3, TLS_AES_256_GCM_SHA384; TLS 1.2 probe: "
            + "a client offering only TLS 1.2 was refused with TLS alert \"protocol version\" (\(Self.alert))")
        #expect(conflict.remediation == """
            On inspect (Squid), let the ssl-bump port accept TLS 1.2 clients: set tls-min-version=1.2 (or remove tls-min-version) on the port line with ssl-bump, then reconfigure:
              http_port 3128 ssl-bump ... tls-min-version=1.2   # the rest of the line as it is
              squid -k reconfigure
            """)
    }

    @Test("nothing when TLS 1.2 is accepted, untested, not probed, or the main probe negotiated TLS 1.2 itself")
    func noFinding() {
        let edge = ProxyActionTests.edge, inspect = ProxyActionTests.inspect
        for results in [[Self.result(inspect, intercepted: true, tls12: .accepted)],
                        [Self.result(inspect, intercepted: true, tls12: nil)],
                        [Self.result(inspect, intercepted: true, tls12: .refused, negotiated: "TLSv1.2")],
                        [Self.result(edge, intercepted: false, tls12: .accepted)]] {
            #expect(Self.analyze(results, routes: [edge, inspect]).isEmpty)
        }
        var untested = Self.result(inspect, intercepted: true, tls12: nil)
        untested.tls12 = TLSVersionProbe(offered: .v1_2, outcome: .untested, detail: "x")
        #expect(Self.analyze([untested], routes: [inspect]).isEmpty)
    }

    @Test("a tunnelling proxy that refuses TLS 1.2 where another route reaches the origin with it; the origin when none does")
    func tunnelAndOrigin() throws {
        let edge = ProxyActionTests.edge, edge2 = ProxyActionTests.edge2
        let filtering = Self.analyze([Self.result(edge, intercepted: false, tls12: .accepted), Self.result(edge2, intercepted: false, tls12: .refused)],
                                     routes: [edge, edge2])
        let conflict = try #require(filtering.first)
        #expect(filtering.count == 1 && conflict.hop.name == "edge2" && conflict.severity == .error)
        #expect(conflict.explanation == "edge2, a proxy that passes the tunnel on, refuses a client offering only TLS 1.2 to portal.manage.microsoft.com "
            + "(TLS alert \"protocol version\") while TLS 1.3 works and the origin accepts TLS 1.2 through another route. Microsoft Managed Desktop requires TLS 1.2 (minTLS).")
        #expect(conflict.remediation.hasPrefix("On edge2, stop refusing TLS 1.2 ClientHellos to portal.manage.microsoft.com port 443"))
        let origin = Self.analyze([Self.result(edge, intercepted: false, tls12: .refused), Self.result(edge2, intercepted: false, tls12: .refused)],
                                  routes: [edge, edge2])
        #expect(origin.count == 1, "one conflict for the origin, with both routes")
        #expect(origin.first?.hop.name == "origin" && origin.first?.severity == .warning && origin.first?.routes == ["edge", "edge2"])
        #expect(origin.first?.explanation == "The origin portal.manage.microsoft.com itself refuses a client offering only TLS 1.2 (TLS alert \"protocol version\"; "
            + "no route's TLS 1.2 probe got through to it) while TLS 1.3 works. Microsoft Managed Desktop requires TLS 1.2 (minTLS).")
    }

    @Test("direct egress that refuses TLS 1.2 names the firewall; other products' fixes are in words")
    func directAndWords() throws {
        let edge = ProxyActionTests.edge
        var direct = Self.result(.direct, intercepted: false, tls12: .refused)
        direct.evidence.connectStatus = nil
        let found = Self.analyze([Self.result(edge, intercepted: false, tls12: .accepted), direct], routes: [edge, .direct])
        let conflict = try #require(found.first)
        #expect(found.count == 1 && conflict.hop.name == "direct" && conflict.hop.proxy == nil && conflict.routes == ["direct"])
        #expect(conflict.explanation.hasPrefix("Direct egress (a firewall that filters TLS versions) refuses a client offering only TLS 1.2 to portal.manage.microsoft.com (TLS alert \"protocol version\")"))
        let result = Self.result(ProxyActionTests.inspect, intercepted: true, tls12: .refused)
        #expect(Remediation.acceptTLS(.v1_2, target: result, hop: Conflict.HopRef(name: "fw", proxy: nil, product: "unknown"), inspecting: true)
            == "On fw, set the minimum TLS version of the inspection (decryption) profile's client side to TLS 1.2 for portal.manage.microsoft.com, "
            + "or exempt portal.manage.microsoft.com from inspection: devices that offer at most TLS 1.2 are refused today.")
        #expect(Remediation.acceptTLS(.v1_2, target: result, hop: Conflict.HopRef(name: "fw", proxy: nil, product: "unknown"), inspecting: false)
            == "On fw, stop refusing TLS 1.2 ClientHellos to portal.manage.microsoft.com port 443 (a TLS version rule in its policy): "
            + "devices that offer at most TLS 1.2 are refused today.")
    }
}
