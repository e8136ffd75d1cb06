import Foundation
import Testing
@testable import ProxyVetKit

/// An answer read from `Fixtures/BlockPages`: `#` lines (signature, sample citation), then the response as on the wire.
struct BlockPageSample {
    var name: String
    var notes: [String: String]
    /// nil when the source does not show the status (`HTTP/1.1 ???`).
    var status: Int?
    var statusLine: String
    var headers: [ResponseHead.Header]
    var body: String

    static let folder = TestFiles.repositoryRoot.appendingPathComponent("Tests/ProxyVetKitTests/Fixtures/BlockPages")

    /// Statuses tried when the sample does not show one: a signature without `status` must not depend on it.
    static let statusesWhenUnknown = [200, 302, 403, 503]

    static func load(_ relativePath: String) throws -> BlockPageSample {
        let text = try String(contentsOf: folder.appendingPathComponent(relativePath), encoding: .utf8)
        var lines = text.components(separatedBy: "\n")[...]
        var notes: [String: String] = [:]
        while let line = lines.first, line.hasPrefix("#") {
            let note = line.dropFirst().trimmingCharacters(in: .whitespaces)
            if let colon = note.firstIndex(of: ":") {
                notes[String(note[..<colon])] = note[note.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            lines = lines.dropFirst()
        }
        let statusLine = try #require(lines.first, "\(relativePath) has no status line")
        lines = lines.dropFirst()
        let code = statusLine.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        var headers: [ResponseHead.Header] = []
        while let line = lines.popFirst(), !line.isEmpty {
            let colon = try #require(line.firstIndex(of: ":"), "\(relativePath): header line without a colon: \(line)")
            headers.append(.init(name: line[..<colon].lowercased(), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return BlockPageSample(name: relativePath, notes: notes, status: Int(code), statusLine: statusLine,
                               headers: headers, body: lines.joined(separator: "\n"))
    }

    /// The answer as the engine records it, once per status to try.
    var heads: [ResponseHead] {
        if let status { return [ResponseHead(status: status, statusLine: statusLine, headers: headers)] }
        return Self.statusesWhenUnknown.map { code in
            ResponseHead(status: code, statusLine: statusLine.replacingOccurrences(of: "???", with: String(code)), headers: headers)
        }
    }

    static var originSamples: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("origin").path)) ?? []
        return names.filter { $0.hasSuffix(".http") }.sorted().map { "origin/\($0)" }
    }
}

/// The start of a signature file and one entry without conditions, for the error table.
private let yamlHead = "version: 1\nsignatures:\n"
private let yamlEntry = "  - id: a\n    product: P\n    rule: r\n    meaning: blocked\n"

@Suite("Product signatures")
struct ProductSignatureTests {
    static let bundledIDs = SignatureSet.bundled.signatures.map(\.id)

    @Test("the bundled file loads; every signature names its product, rule and source, has a known meaning and a sample")
    func bundledFile() throws {
        let set = try SignatureSet.loadBundled()
        // Counted in ProductSignatures.yaml: a signature lost or added without its sample shows here.
        #expect(set.signatures.count == 29)
        #expect(SignatureSet.bundled.signatures == set.signatures)
        #expect(Set(set.signatures.map(\.id)).count == set.signatures.count)
        for signature in set.signatures {
            #expect(!signature.product.isEmpty && !signature.rule.isEmpty)
            #expect(signature.source?.isEmpty == false, "\(signature.id) cites no source")
            #expect(ProductSignature.allowedMeanings.contains(signature.meaning))
            #expect(FileManager.default.fileExists(atPath: BlockPageSample.folder.appendingPathComponent("\(signature.id).http").path),
                    "\(signature.id) has no sample in Fixtures/BlockPages")
        }
        let meanings = Set(set.signatures.map(\.meaning))
        #expect(meanings == Set(ProductSignature.allowedMeanings))
    }

    @Test("every bundled signature matches its real sample, and the set names the same product first", arguments: ProductSignatureTests.bundledIDs)
    func matchesItsSample(_ id: String) throws {
        let signature = try #require(SignatureSet.bundled.signatures.first { $0.id == id })
        let sample = try BlockPageSample.load("\(id).http")
        #expect(sample.notes["signature"] == id)
        #expect(sample.notes["sample"]?.isEmpty == false, "\(id).http cites no sample")
        for head in sample.heads {
            let found = try #require(signature.match(head, body: sample.body), "\(id) does not match its sample with status \(head.status)")
            #expect(found.status == head.status)
            #expect(found.matched.hasSuffix("status \(head.status)"))
            let first = try #require(SignatureSet.bundled.match(head, body: sample.body))
            #expect(first.signature.product == signature.product && first.signature.meaning == signature.meaning,
                    "\(id)'s sample is taken first by \(first.signature.id)")
        }
    }

    @Test("answers origins give (their 403s, 503s, pages saying blocked or access denied) match no signature",
          arguments: BlockPageSample.originSamples)
    func originsMatchNothing(_ name: String) throws {
        let sample = try BlockPageSample.load(name)
        var heads = sample.heads
        // The status must not be what saves an origin: try the same page as a 200, 403 and 503 too.
        for code in [200, 403, 503] where code != sample.status {
            heads.append(ResponseHead(status: code, statusLine: "HTTP/1.1 \(code)", headers: sample.headers))
        }
        for head in heads {
            let found = SignatureSet.bundled.match(head, body: sample.body)
            #expect(found == nil, "\(name) with \(head.status) matches \(found?.signature.id ?? "")")
        }
    }

    @Test("the origin samples would catch a signature resting on generic words", arguments: [
        "Access Denied", "blocked", "<title>\\s*403 Forbidden", "Service (Temporarily )?Unavailable", "Web Page Blocked",
        "Access to this site is blocked", "\\(policy_denied\\)", "Forbidden",
    ])
    func originCorpusBites(_ generic: String) throws {
        let naive = try ProductSignature(id: "naive", product: "Naive", rule: "rule", meaning: .blocked, body: [generic])
        let caught = try BlockPageSample.originSamples.filter { name in
            let sample = try BlockPageSample.load(name)
            return sample.heads.contains { naive.match($0, body: sample.body) != nil }
        }
        #expect(!caught.isEmpty, "no origin sample says \(generic)")
    }

    @Test("the reason names the product, the rule, the status and what matched", arguments: [
        ("paloalto-url-block.http", "Palo Alto Networks NGFW URL filtering block page, 503",
         "title \"Web Page Blocked\", body \"has been blocked in accordance with company policy\", status 503"),
        ("zscaler-block.http", "Zscaler Internet Access block page, 403",
         "Server \"Zscaler/5.6\", title \"Internet Security by Zscaler\", status 403"),
        ("privoxy-blocked.http", "Privoxy block, 403", "reason \"Request blocked by Privoxy\", status 403"),
        ("bluecoat-notify-redirect.http", "Symantec Blue Coat ProxySG notify redirect, 302",
         "Location \"http://notify.bluecoat.com/notify-Notify?http://www.glil.org/aHR0cDovL3d3dy5nbGlsLm9yZy8=\", status 302"),
        ("tinyproxy-filtered.http", "tinyproxy filter, 403",
         "reason \"Filtered\", body \"The request you made has been filtered\", status 403"),
        ("mitmproxy-upstream-refused.http", "mitmproxy upstream proxy refused CONNECT, 502",
         "Server \"mitmproxy 10.1.5\", body \"Upstream proxy 10.0.0.2:3128 refused HTTP CONNECT request: 403\", status 502"),
    ])
    func reasonText(_ row: (String, String, String)) throws {
        let sample = try BlockPageSample.load(row.0)
        let head = try #require(sample.heads.first)
        let found = try #require(SignatureSet.bundled.match(head, body: sample.body))
        #expect(found.description == row.1)
        #expect(found.matched == row.2)
    }

    @Test("meanings: refusals, pages in the origin's place, auth portals and the proxy's own errors", arguments: [
        ("zscaler-auth-redirect.http", Verdict.authRequired), ("mitmproxy-upstream-auth.http", .authRequired),
        ("paloalto-captive-portal.http", .authRequired), ("fortigate-app-control.http", .blockPage),
        ("websense-block-page.http", .blockPage), ("fortigate-web-filter.http", .blocked),
        ("sophos-swa-remote-error.http", .upstreamUnreachable), ("mcafee-cannot-connect.http", .upstreamUnreachable),
        ("privoxy-no-such-domain.http", .dnsFailure),
    ])
    func meanings(_ row: (String, Verdict)) throws {
        let sample = try BlockPageSample.load(row.0)
        for head in sample.heads {
            #expect(SignatureSet.bundled.match(head, body: sample.body)?.signature.meaning == row.1)
        }
    }

    @Test("a status narrows a signature but never stands alone: the Zscaler page with 200 is not the 403 block")
    func statusNarrows() throws {
        var sample = try BlockPageSample.load("zscaler-block.http")
        sample.status = 200
        sample.statusLine = "HTTP/1.1 200 OK"
        #expect(SignatureSet.bundled.match(try #require(sample.heads.first), body: sample.body) == nil)
        sample.headers.removeAll { $0.name == "server" }
        sample.status = 403
        #expect(SignatureSet.bundled.match(try #require(sample.heads.first), body: sample.body) == nil)
    }

    @Test("body patterns read only the first 4 KiB")
    func bodyLimit() throws {
        let sample = try BlockPageSample.load("paloalto-url-block.http")
        let head = try #require(sample.heads.first)
        #expect(SignatureSet.bundled.match(head, body: sample.body) != nil)
        let padded = String(repeating: "<!-- padding -->\n", count: 300) + sample.body
        #expect(padded.utf8.count > ProductSignature.bodyLimit)
        #expect(SignatureSet.bundled.match(head, body: padded) == nil)
    }

    @Test("HTTP/2 answers have no reason phrase: a reason pattern then does not match")
    func noReasonPhrase() throws {
        let head = ResponseHead(status: 403, statusLine: "HTTP/2 403", headers: [])
        #expect(SignatureSet.bundled.match(head, body: "") == nil)
        #expect(PreparedAnswer.reasonPhrase("HTTP/1.1 403 Request blocked by Privoxy\r") == "Request blocked by Privoxy")
        #expect(PreparedAnswer.reasonPhrase("HTTP/1.0 403 Filtered") == "Filtered")
        #expect(PreparedAnswer.reasonPhrase("HTTP/1.1 403 ") == "")
    }

    @Test("signatures survive JSON and compare by their patterns")
    func codable() throws {
        let signatures = SignatureSet.bundled.signatures
        let data = try JSONEncoder().encode(signatures)
        #expect(try JSONDecoder().decode([ProductSignature].self, from: data) == signatures)
        let broken = Data(#"{"id":"x","product":"P","rule":"r","meaning":"blocked","body":["("]}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ProductSignature.self, from: broken) }
    }

    @Test("made in code, a signature is checked as the file is")
    func initializerChecks() throws {
        let made = try ProductSignature(id: "corp", product: "CorpGW", rule: "deny page", meaning: .blocked, status: [403],
                                        headers: ["Server": "^CorpGW"], body: ["<title>Denied by CorpGW"])
        #expect(made.headers == ["server": "^CorpGW"])
        let head = ResponseHead(status: 403, statusLine: "HTTP/1.1 403 Forbidden", headers: [.init(name: "server", value: "CorpGW/2")])
        #expect(made.match(head, body: "<html><title>Denied by CorpGW</title>")?.description == "CorpGW deny page, 403")
        #expect(made.match(head, body: "<html><title>Denied</title>") == nil)
        #expect(throws: InputError("signature corp: rests on its status alone: give a reason, headers, body or location pattern too (origins answer 403 as well)")) {
            try ProductSignature(id: "corp", product: "CorpGW", rule: "deny", meaning: .blocked, status: [403])
        }
        #expect(throws: InputError("signature corp: meaning \"allowed\" cannot come from a product's page (known: auth_required, block_page, blocked, dns_failure, upstream_unreachable)")) {
            try ProductSignature(id: "corp", product: "CorpGW", rule: "deny", meaning: .allowed, body: ["x"])
        }
    }

    // MARK: Load errors

    @Test("signature file errors name the line and the problem", arguments: [
        (yamlHead + yamlEntry + "    body: ['(unclosed']\n",
         "signatures.yaml:7: signature a: body pattern \"(unclosed\" is not a valid regular expression"),
        (yamlHead + yamlEntry + "    headers: { server: '[z' }\n",
         "signatures.yaml:7: signature a: header server pattern \"[z\" is not a valid regular expression"),
        (yamlHead + yamlEntry + "    location: ''\n",
         "signatures.yaml:7: signature a: location pattern is empty (it would match every answer)"),
        (yamlHead + "  - id: a\n    product: P\n    rule: r\n    meaning: denied\n    body: [x]\n",
         "signatures.yaml:6: signature a: unknown meaning \"denied\" (known: auth_required, block_page, blocked, dns_failure, upstream_unreachable)"),
        (yamlHead + "  - id: a\n    product: P\n    rule: r\n    meaning: allowed\n    body: [x]\n",
         "signatures.yaml:6: signature a: meaning \"allowed\" cannot come from a product's page"),
        (yamlHead + yamlEntry + "    body: [x]\n    colour: red\n",
         "signatures.yaml:8: unknown key \"colour\" in a signature entry (known: body, headers, id, location, meaning, product, reason, rule, source, status)"),
        (yamlHead + yamlEntry + "    status: [403]\n",
         "signatures.yaml:3: signature a: rests on its status alone: give a reason, headers, body or location pattern too (origins answer 403 as well)"),
        (yamlHead + yamlEntry,
         "signatures.yaml:3: signature a: no condition: give a reason, headers, body or location pattern"),
        (yamlHead + yamlEntry + "    status: [999]\n    body: [x]\n",
         "signatures.yaml:7: signature a: status 999 is not an HTTP status (100-599)"),
        (yamlHead + yamlEntry + "    headers: { Server: a, server: b }\n",
         "signatures.yaml:7: signature a: header server is given twice"),
        (yamlHead + "  - id: a\n    product: ''\n    rule: r\n    meaning: blocked\n    body: [x]\n",
         "signatures.yaml:4: signature a: product is empty"),
        (yamlHead + yamlEntry + "    headers: { \"bad name\": x }\n",
         "signatures.yaml:7: signature a: \"bad name\" is not a header name"),
        (yamlHead + yamlEntry + "    body: [x]\n" + yamlEntry + "    body: [y]\n",
         "signatures.yaml:8: signature a is declared twice (first on line 3)"),
        (yamlHead + "  - id: a\n    rule: r\n    meaning: blocked\n    body: [x]\n",
         "signatures.yaml:3: signature a is missing \"product\""),
        (yamlHead + "  - id: 'a b'\n    product: P\n    rule: r\n    meaning: blocked\n    body: [x]\n",
         "signatures.yaml:3: signature a b: id \"a b\" must be letters, digits, - _ and . only"),
        ("version: 2\nsignatures: []\n", "signatures.yaml:1: unsupported signature file version 2 (this ProxyVet reads version 1)"),
        ("version: 1\n", "signatures.yaml:1: the signature file is missing \"signatures\""),
    ])
    func loadErrors(_ row: (String, String)) {
        do {
            _ = try SignatureSet.parse(row.0, file: "signatures.yaml")
            Issue.record("expected an error for:\n\(row.0)")
        } catch let error as InputError {
            #expect(error.description.hasPrefix(row.1), "\(error.description)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("mutated signature files parse or fail with an input error whose line is inside the file")
    func fuzz() throws {
        let seed = try String(contentsOf: TestFiles.repositoryRoot.appendingPathComponent("Sources/ProxyVetKit/Verdicts/ProductSignatures.yaml"),
                              encoding: .utf8)
        let sample = try BlockPageSample.load("paloalto-url-block.http")
        let head = try #require(sample.heads.first)
        var rng = ParserFuzzTests.Generator(state: 0x5167_6E61_7475_7265)
        for _ in 0..<max(1, ParserFuzzTests.iterations / 4) {
            let input = ParserFuzzTests.mutate(seed, &rng)
            do {
                _ = try SignatureSet.parse(input, file: "sig.yaml").match(head, body: sample.body)
            } catch {
                ParserFuzzTests.check(error, input: input, file: "sig.yaml")
            }
        }
    }

    // MARK: A config's own block pages

    static let config = """
    version: 1
    proxies:
      edge: { url: "http://proxy1.corp.example:3128" }
    blockPages:
      - id: corp-deny
        meaning: blocked
        status: [403]
        headers: { server: '^CorpGateway/' }
        body: ['<title>Request denied by CorpGateway']
      - id: paloalto-url-block
        product: Palo Alto Networks NGFW
        rule: customised block page
        meaning: blocked
        body: ['<title>Blocked by ACME policy</title>']
      - id: corp-portal
        meaning: auth_required
        location: '^https://portal\\.corp\\.example/login'
    """

    @Test("blockPages: in a config parse, come before the bundled signatures and replace one with the same id")
    func configBlockPages() throws {
        let config = try RouteConfig.parse(Self.config, file: "proxyvet.yaml", environment: [:])
        #expect(config.blockPages.map(\.id) == ["corp-deny", "paloalto-url-block", "corp-portal"])
        #expect(config.blockPages[0].product == "Configured block page" && config.blockPages[0].rule == "\"corp-deny\"")
        let set = SignatureSet.bundled.adding(config.blockPages)
        #expect(set.signatures.count == SignatureSet.bundled.signatures.count + 2)
        #expect(set.signatures.filter { $0.id == "paloalto-url-block" }.map(\.rule) == ["customised block page"])

        let deny = ResponseHead(status: 403, statusLine: "HTTP/1.1 403 Forbidden", headers: [.init(name: "server", value: "CorpGateway/3.1")])
        let found = try #require(set.match(deny, body: "<html><head><title>Request denied by CorpGateway</title>"))
        #expect(found.description == "Configured block page \"corp-deny\", 403")
        #expect(found.matched == "Server \"CorpGateway/3.1\", title \"Request denied by CorpGateway\", status 403")
        #expect(SignatureSet.bundled.match(deny, body: "<html><head><title>Request denied by CorpGateway</title>") == nil)

        let portal = ResponseHead(status: 302, statusLine: "HTTP/1.1 302 Found",
                                  headers: [.init(name: "location", value: "https://portal.corp.example/login?next=x")])
        #expect(set.match(portal, body: "")?.signature.meaning == .authRequired)

        // The replaced bundled signature no longer matches the vendor's default page; the config's version does.
        let sample = try BlockPageSample.load("paloalto-url-block.http")
        let head = try #require(sample.heads.first)
        #expect(set.match(head, body: sample.body) == nil)
        #expect(set.match(head, body: "<title>Blocked by ACME policy</title>")?.signature.rule == "customised block page")
    }

    @Test("blockPages errors name the config's line", arguments: [
        ("version: 1\nblockPages:\n  - id: x\n    meaning: blocked\n    status: [403]\n",
         "proxyvet.yaml:3: block page x: rests on its status alone"),
        ("version: 1\nblockPages:\n  - id: x\n    meaning: blocked\n    body: ['(']\n",
         "proxyvet.yaml:5: block page x: body pattern \"(\" is not a valid regular expression"),
        ("version: 1\nblockPages:\n  - id: x\n    meaning: redirect\n    body: [y]\n",
         "proxyvet.yaml:4: block page x: unknown meaning \"redirect\""),
        ("version: 1\nblockPages:\n  - id: x\n    meaning: blocked\n    body: [y]\n    fail_if_body_matches_regexp: [z]\n",
         "proxyvet.yaml:6: unknown key \"fail_if_body_matches_regexp\" in a block page entry"),
        ("version: 1\nblockPages:\n  - { id: x, body: [y] }\n", "proxyvet.yaml:3: block page x is missing \"meaning\""),
        ("version: 1\nblockPages: { id: x }\n", "proxyvet.yaml:2: blockPages must be a list"),
    ])
    func configErrors(_ row: (String, String)) {
        do {
            _ = try RouteConfig.parse(row.0, file: "proxyvet.yaml", environment: [:])
            Issue.record("expected an error for:\n\(row.0)")
        } catch let error as InputError {
            #expect(error.description.hasPrefix(row.1), "\(error.description)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
