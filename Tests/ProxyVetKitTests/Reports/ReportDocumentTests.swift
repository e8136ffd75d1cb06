import Foundation
import Testing
@testable import ProxyVetKit

/// Schema 3: what results share is stored once, nothing of a result that is not allowed is lost, sizes grow slowly.
@Suite("Report size and shared evidence")
struct ReportDocumentTests {
    static let originCA = "CN = Lab Origin CA, O = Lab"
    static let inspectionCA = "CN = Lab Inspection CA, O = Lab"

    /// A tunnel through `proxy` to `host` whose certificate `issuer` signed (verify result 0 for the origin's CA).
    static func tunnel(_ host: String, proxy: String, issuer: String = originCA, verify: Int = 0, total: Double = 0.4417) -> ProbeEvidence {
        ProbeEvidence(connectStatus: 200, httpStatus: 200,
                      connectResponses: [ResponseHead(status: 200, statusLine: "HTTP/1.1 200 Connection established", headers: [])],
                      responses: [ResponseHead(status: 200, statusLine: "HTTP/1.1 200 OK", headers: [
                          .init(name: "server", value: "lab-origin"), .init(name: "via", value: "1.1 \(proxy) (squid/5.7)")])],
                      verifyResult: verify,
                      certificate: CertificateEvidence(subject: "CN = \(host), O = Lab", issuer: issuer, notBefore: "Dec  1 07:37:57 2026 GMT",
                                                       notAfter: "Jan  1 07:37:57 2027 GMT", subjectAltNames: [host], chainIssuers: [issuer, issuer]),
                      timings: ProbeTimings(connect: 0.1201234, tls: 0.3212345, firstByte: total - 0.0005, total: total),
                      tlsVersion: "TLSv1.3", tlsCipher: "TLS_AES_256_GCM_SHA384")
    }

    /// The proxy's refusal of a CONNECT, as Squid sends it.
    static func refusal(_ proxy: String) -> ProbeEvidence {
        ProbeEvidence(curlCode: 56, curlMessage: "CONNECT tunnel failed, response 403", connectStatus: 403,
                      connectResponses: [ResponseHead(status: 403, statusLine: "HTTP/1.1 403 Forbidden", headers: [
                          .init(name: "server", value: "squid/5.7"), .init(name: "x-squid-error", value: "ERR_ACCESS_DENIED 0"),
                          .init(name: "via", value: "1.1 \(proxy) (squid/5.7)")])],
                      timings: ProbeTimings(total: 0.1109876))
    }

    /// `hosts` endpoints × `routes`, every result allowed with its host's certificate; with `failures`, `inspect`
    /// intercepts every host, `edge` refuses every third, and some results carry an attribution, a PAC answer, a
    /// comparison, a TLS 1.2 probe or a lower confidence.
    static func report(hosts: Int, routes names: [String], failures: Bool = false, conflicts: [Conflict] = []) -> CheckReport {
        let list = AllowList(id: "lab", name: "Lab list", file: "lab.yaml", source: ListSource(date: "2026-01-01"),
                             services: [Service(name: "Intune", endpoints: (0..<hosts).map { Endpoint(host: String(format: "h%05d.lab.test", $0)) })],
                             contentHash: String(repeating: "cd", count: 32))
        let routes = names.enumerated().map { Route(name: $0.element, kind: .http, proxyURL: "http://127.0.0.1:\(3128 + $0.offset)") }
        let plan = TargetPlanner().plan([list])
        var results: [ProbeResult] = []
        for route in routes {
            for (index, target) in plan.targets.enumerated() {
                let proxy = "proxyvet-lab-\(route.name)"
                let total = 0.2 + Double(index % 97) / 1000 + 0.00004
                var evidence = tunnel(target.host, proxy: proxy, total: total)
                if failures && route.name == "inspect" {
                    evidence = tunnel(target.host, proxy: proxy, issuer: inspectionCA, verify: 19, total: total)
                } else if failures && route.name == "edge" && index % 3 == 0 {
                    evidence = refusal(proxy)
                }
                var result = CheckRunner.result(route: route, target: target, evidence: evidence)
                if failures && result.verdict != .allowed {
                    result.decidedBy = HopAttribution(hop: route.name, proxy: route.proxyURL, position: "the proxy", method: "evidence",
                                                      confidence: "high", detail: "a single proxy: its own answer decided (\(result.reason))")
                }
                if failures && index % 5 == 1 {
                    result.pac = PACRouteInfo(answer: "PROXY 127.0.0.1:3128; PROXY 127.0.0.1:3129", position: 1)
                    result.comparison = "the odd one: 2 of 3 routes got blocked"
                    result.confidence = .medium
                }
                if failures && route.name == "inspect" && index % 2 == 0 {
                    result.tls12 = TLSVersionProbe(offered: .v1_2, outcome: .refused, alert: "protocol version",
                                                   detail: "a client offering only TLS 1.2 was refused with TLS alert \"protocol version\"", curlCode: 35)
                }
                results.append(result)
            }
        }
        return CheckReport.build(lists: [list], routes: routes, settings: ProbeSettings(), plan: plan, results: results, conflicts: conflicts,
                                 started: Date(timeIntervalSince1970: 0), finished: Date(timeIntervalSince1970: 9))
    }

    static func json(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("the fixture's evidence gives the verdicts it is built for")
    func fixture() {
        let report = Self.report(hosts: 6, routes: ["edge", "inspect", "branch"], failures: true)
        let verdicts = report.results.map { "\($0.route) \($0.verdict.rawValue)" }
        #expect(verdicts.filter { $0 == "edge blocked" }.count == 2)
        #expect(verdicts.filter { $0 == "inspect tls_intercepted" }.count == 6)
        #expect(verdicts.filter { $0.hasSuffix(" allowed") }.count == 10)
        #expect(report.results.allSatisfy { $0.timings.total == ($0.timings.total * 1000).rounded() / 1000 }, "timings in milliseconds")
    }

    @Test("schema 3: evidence, certificates and chains that results share are stored once and decode to the same values")
    func sharedEvidence() throws {
        let report = Self.report(hosts: 30, routes: ["edge", "inspect", "branch"], failures: true)
        let data = try JSONReport.render(report)
        #expect(try JSONReport.decode(data) == report)
        let object = try Self.json(data)
        #expect(object["schemaVersion"] as? Int == 3)
        let targets = try #require(object["targets"] as? [[String: Any]])
        #expect(targets.count == 30)
        #expect(targets.allSatisfy { ($0["results"] as? [[String: Any]])?.map { $0["route"] as? String } == ["edge", "inspect", "branch"] })
        // Evidence: edge allowed, edge refused, inspect intercepted, branch allowed (each proxy's Via differs).
        #expect((object["evidence"] as? [String: Any])?.count == 4)
        // The origin's certificate of a host is the same on edge and branch; inspect re-signs each host.
        #expect((object["certificates"] as? [String: Any])?.count == 60)
        #expect((object["chains"] as? [String: [String]]).map { Set($0.values) } == [[Self.originCA, Self.originCA], [Self.inspectionCA, Self.inspectionCA]])
        #expect((object["tls12"] as? [String: Any])?.count == 1)
        let reasons = try #require(object["reasons"] as? [String: String])
        #expect(reasons.count < report.results.count / 2, "\(reasons.count) reasons")
        #expect(Set(reasons.values) == Set(report.results.map(\.reason)))
        // Ids resolve: every id a result names is in its table.
        for result in targets.flatMap({ $0["results"] as? [[String: Any]] ?? [] }) {
            for (field, table) in [("reason", "reasons"), ("evidence", "evidence"), ("certificate", "certificates"), ("decidedBy", "attributions"), ("tls12", "tls12")] {
                guard let id = result[field] as? String else { continue }
                #expect((object[table] as? [String: Any])?[id] != nil, "\(field) \(id)")
            }
        }
    }

    @Test("sizes: 10,000 allowed results take under 240 bytes each in JSON and under 40 in HTML")
    func sizes() throws {
        let report = Self.report(hosts: 1000, routes: (1...10).map { "r\($0)" })
        #expect(report.results.count == 10_000 && report.results.allSatisfy { $0.verdict == .allowed && $0.isClean })
        let json = try JSONReport.render(report)
        let html = try HTMLReport.render(report).utf8.count
        #expect(json.count < 10_000 * 240, "\(json.count) bytes of JSON")
        #expect(html < 10_000 * 40, "\(html) bytes of HTML")
        #expect(try JSONReport.decode(json) == report)
    }

    @Test("every result that is not a clean allowed keeps its whole evidence in JSON, and every fact of it is in the HTML")
    func failingEvidenceComplete() throws {
        let report = Self.report(hosts: 30, routes: ["edge", "inspect", "branch"], failures: true)
        let decoded = try JSONReport.decode(try JSONReport.render(report))
        let html = try HTMLReport.render(report)
        let attention = report.results.filter { !$0.isClean }
        #expect(attention.count == 30 + 10 + 4 + 6, "inspect intercepts all, edge refuses a third, a fifth are the odd ones")
        for result in attention {
            #expect(decoded.results.contains(result), "\(result.route) \(result.url)")
            #expect(html.contains(">\(Self.escaped(result.url))<br>"), "\(result.route) \(result.url)")
            for fact in ResultGroup.facts(result) {
                #expect(html.contains(Self.escaped(fact.value)), "\(result.route) \(result.url) \(fact.name)")
            }
            #expect(html.contains(String(format: "%.3f / %.3f / %.3f / %.3f", result.timings.connect, result.timings.tls,
                                         result.timings.firstByte, result.timings.total)))
        }
    }

    @Test("HTML: a matrix of endpoints × routes, then per route one group per way the results went")
    func htmlLayout() throws {
        let report = Self.report(hosts: 6, routes: ["edge", "inspect", "branch"], failures: true)
        let html = try HTMLReport.render(report)
        #expect(html.contains("<h2>Endpoints × routes</h2>"))
        #expect(html.contains("<p class=\"muted\">One cell per result: the verdict's code (legend at the end); <b>!</b> a policy violation, <b>?</b> low confidence; red outline: keeps the run from being ready; grey outline (with device routing): the route a device uses for the endpoint. Every result that is not a clean <span class=\"v good\">allowed</span> has its evidence in its route's section.</p>"))
        #expect(html.contains("<table><tr><th>URL</th><th>Its own evidence</th><th class=\"t\">connect / TLS / first byte / total (s)</th></tr>"))
        #expect(html.contains("<p class=\"muted\">What differs per endpoint (certificate subject, timings) is in the JSON report.</p>"))
        #expect(html.contains("<th>Endpoint</th><th class=\"rn\"><a href=\"#route-0\">edge</a></th><th class=\"rn\"><a href=\"#route-1\">inspect</a></th><th class=\"rn\"><a href=\"#route-2\">branch</a></th></tr>"))
        #expect(html.contains("<tr><td class=\"url\">https://h00000.lab.test/ <span class=\"muted\">required: lab / Intune (h00000.lab.test)</span></td><td class=\"b x\">bl</td><td class=\"b x\">ti</td><td class=\"g\">ok</td></tr>"))
        #expect(html.contains("<tr><td class=\"url\">https://h00001.lab.test/ <span class=\"muted\">required: lab / Intune (h00001.lab.test)</span></td><td class=\"w\">ok</td><td class=\"b x\">ti</td><td class=\"w\">ok</td></tr>"))
        #expect(html.contains("<td><span class=\"v\">tls_intercepted</span></td><td>ti</td><td>"))
        #expect(html.contains("<section id=\"route-0\"><h2>Route edge"))
        #expect(html.contains("<summary><span class=\"v\">blocked</span> ×2 <span class=\"viol\">2 required failing</span> the proxy refused the CONNECT"))
        #expect(html.contains("<dt>CONNECT answer</dt><dd>HTTP/1.1 403 Forbidden — server: squid/5.7; via: 1.1 proxyvet-lab-edge (squid/5.7); x-squid-error: ERR_ACCESS_DENIED 0</dd>"))
        #expect(html.contains("<summary><span class=\"v good\">allowed</span> ×3 the proxy opened the tunnel and TLS verified to the origin"))
        #expect(html.contains("<p class=\"muted\">The endpoints: every other <span class=\"v good\">ok</span> cell of this route's column in the matrix.</p>"))
        #expect(html.contains("<summary><span class=\"v\">tls_intercepted</span> ×3 <span class=\"viol\">3 required failing</span> reasons differ per endpoint, e.g. the certificate for h00000.lab.test"))
        #expect(html.contains("<dt>decided by</dt><dd>inspect (the proxy; evidence, high confidence): a single proxy: its own answer decided (…)</dd>"))
    }

    @Test("hostile names, URLs and evidence stay escaped in the matrix, the groups and the JSON tables")
    func hostileValues() throws {
        let hostile = ReportTests.hostile
        var report = ReportTests.sampleReport()
        report.routes[0].name = hostile
        report.summary.routes[0].route = hostile
        var result = report.results[0]
        result.route = hostile
        result.url = "https://a.test/<script>x</script>"
        result.requiredBy[0].entry = hostile
        result.comparison = hostile
        result.pac = PACRouteInfo(answer: hostile, position: 1)
        result.decidedBy = HopAttribution(hop: hostile, proxy: nil, position: hostile, method: "evidence", confidence: "high", detail: hostile)
        result.tls12 = TLSVersionProbe(offered: .v1_2, outcome: .refused, detail: hostile, curlCode: 35)
        result.evidence.certificate = CertificateEvidence(subject: hostile, issuer: hostile, notBefore: nil, notAfter: hostile,
                                                          subjectAltNames: [hostile], chainIssuers: [hostile])
        report.results = [result]
        report.conflicts = [SyntheticRuns.conflict(.hopBlocks, host: "<script>c</script>", hop: hostile, routes: [hostile])]
        let html = try HTMLReport.render(report)
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &quot;quoted&quot;"))
        #expect(html.contains("https://a.test/&lt;script&gt;x&lt;/script&gt;"))
        let data = try JSONReport.render(report)
        #expect(try JSONReport.decode(data) == report)
        #expect(String(decoding: data, as: UTF8.self).contains("\"curlMessage\":\"<script>alert('x')</script> \\\"quoted\\\" & | `tick` \\n new line \\u0007bell\""))
    }

    @Test("conflicts: a run of one kind and hop is one group; what most of its endpoints share is stored once")
    func conflictGroups() throws {
        var conflicts = (0..<4).map { SyntheticRuns.conflict(.hopIntercepts, host: String(format: "h%05d.lab.test", $0), hop: "inspect") }
        for index in conflicts.indices { conflicts[index].remediation = "ssl_bump splice all" }
        conflicts[3].remediation = "something else"
        conflicts.append(SyntheticRuns.conflict(.hopBlocks, host: "elsewhere.test", hop: "edge"))
        conflicts[4].endpoint.port = 8443
        let report = Self.report(hosts: 4, routes: ["edge", "inspect"], conflicts: conflicts)
        let data = try JSONReport.render(report)
        #expect(try JSONReport.decode(data) == report)
        let groups = try #require(try Self.json(data)["conflicts"] as? [[String: Any]])
        #expect(groups.count == 2)
        #expect(groups[0]["remediation"] as? String == "ssl_bump splice all")
        let endpoints = try #require(groups[0]["endpoints"] as? [[String: Any]])
        #expect(endpoints.map { $0["remediation"] as? String } == [nil, nil, nil, "something else"])
        #expect(endpoints.allSatisfy { $0["host"] == nil && $0["port"] == nil && $0["routes"] == nil }, "host and port come from the target")
        let other = try #require((groups[1]["endpoints"] as? [[String: Any]])?.first)
        #expect(other["host"] as? String == "elsewhere.test" && other["port"] as? Int == 8443, "a URL that is no target keeps them")
    }

    @Test("defaults are left out and read back: high confidence, no readiness, no violations, phases not reached")
    func defaults() throws {
        var report = Self.report(hosts: 3, routes: ["edge"])
        report.results[0].confidence = .low
        report.results[1].decidesReadiness = false
        report.results[1].policyViolations = [.noInspection]
        report.results[2].timings = ProbeTimings(total: 0.25)
        let data = try JSONReport.render(report)
        #expect(try JSONReport.decode(data) == report)
        let results = try #require((try Self.json(data)["targets"] as? [[String: Any]])?.compactMap { ($0["results"] as? [[String: Any]])?.first })
        #expect(results.map { $0["confidence"] as? String } == ["low", nil, nil])
        #expect(results.map { $0["decidesReadiness"] as? Bool } == [nil, false, nil], "stated only where it differs from the rule")
        #expect(results.map { ($0["policyViolations"] as? [String])?.count } == [nil, 1, nil])
        #expect(results[2]["timings"] as? [String: Double] == ["total": 0.25])
        #expect(results.allSatisfy { $0["pac"] == nil && $0["comparison"] == nil && $0["decidedBy"] == nil })
    }

    @Test("an id that is not in its table is a corrupt report, named with the table")
    func missingID() throws {
        let text = String(decoding: try JSONReport.render(Self.report(hosts: 2, routes: ["edge"])), as: UTF8.self)
        let broken = text.replacingOccurrences(of: "\"evidence\":\"e1\"", with: "\"evidence\":\"e99\"")
        #expect(broken != text)
        #expect { try JSONReport.decode(Data(broken.utf8)) } throws: { error in
            guard case DecodingError.dataCorrupted(let context) = error else { return false }
            return context.debugDescription == "evidence has no entry e99"
        }
    }

    @Test("a report written with schema 2 still opens; written again it is schema 3 with the same values")
    func schema2() throws {
        let file = TestFiles.repositoryRoot.appendingPathComponent("Tests/ProxyVetKitTests/Fixtures/Reports/schema2-demo-excerpt.json")
        let old = try JSONReport.decode(try Data(contentsOf: file))
        #expect(old.schemaVersion == 2)
        #expect(old.results.map(\.verdict) == [.allowed, .blocked, .tlsIntercepted, .authRequired, .proxyUnreachable, .allowed])
        let intercepted = try #require(old.results.first { $0.verdict == .tlsIntercepted })
        #expect(intercepted.evidence.certificate?.issuer == "CN = ProxyVet Lab Inspection CA, O = ProxyVet Lab")
        #expect(intercepted.evidence.certificate?.chainIssuers.count == 3)
        #expect(intercepted.tls12?.outcome == .accepted)
        #expect(intercepted.policyViolations == [.noInspection])
        #expect(old.results.last?.evidence.responses.count ?? 0 >= 3)
        #expect(old.conflicts.count == 3)
        let again = try JSONReport.decode(try JSONReport.render(old))
        var expected = old
        expected.schemaVersion = 3
        #expect(again == expected)
    }
}

extension ReportDocumentTests {
    /// What Mustache's `{{ }}` makes of a value.
    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }
}
