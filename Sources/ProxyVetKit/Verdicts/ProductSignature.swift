import Foundation

/// A known answer of a proxy product: a block page, an auth portal or an error page.
///
/// Every condition given must match, and at least one besides `status` must be given: origins answer 403 and 503
/// too, and origins write pages that say "blocked". Patterns are regular expressions (NSRegularExpression,
/// case-insensitive; `.` stays on one line unless the pattern starts with `(?s)`), compiled once when the
/// signature is made, so a bad pattern is an input error and never a surprise while probing.
public struct ProductSignature: Sendable, Equatable, Codable {
    /// `paloalto-url-block`
    public var id: String
    /// `Palo Alto Networks NGFW`
    public var product: String
    /// `URL filtering block page`
    public var rule: String
    /// What the answer means: one of `allowedMeanings`.
    public var meaning: Verdict
    /// Where the sample the signature rests on was seen.
    public var source: String?
    let conditions: Conditions

    /// The verdicts a product's page or redirect can stand for; others are rejected at load.
    public static let allowedMeanings: [Verdict] = [.blocked, .blockPage, .authRequired, .upstreamUnreachable, .dnsFailure]
    /// How much of the body the `body` patterns see: the start of the page, where products put their title and text.
    public static let bodyLimit = 4096

    /// Statuses the answer must have; empty: any.
    public var status: [Int] { conditions.status }
    /// Pattern on the reason phrase (the status line after the code, possibly empty).
    public var reason: String? { conditions.reason?.text }
    /// Lower-cased header name → pattern on its value; the header must be present.
    public var headers: [String: String] {
        Dictionary(uniqueKeysWithValues: conditions.headers.map { ($0.name, $0.pattern.text) })
    }
    /// Patterns that must all match the first `bodyLimit` bytes of the body.
    public var body: [String] { conditions.body.map(\.text) }
    /// Pattern on the Location header, which must be present.
    public var location: String? { conditions.location?.text }

    /// Makes a signature, checking it as the signature file is checked; throws `InputError` without a file.
    public init(id: String, product: String, rule: String, meaning: Verdict, source: String? = nil, status: [Int] = [],
                reason: String? = nil, headers: [String: String] = [:], body: [String] = [], location: String? = nil) throws {
        do {
            try Self.checkID(id)
            _ = try Self.checkMeaning(meaning.rawValue)
            let conditions = Conditions(
                status: try status.map(Self.checkStatus),
                reason: try reason.map { try Pattern($0, what: "reason pattern") },
                headers: try headers.map { try HeaderCondition(name: Self.checkHeaderName($0.key), pattern: Pattern($0.value, what: "header \($0.key) pattern")) },
                body: try body.map { try Pattern($0, what: "body pattern") },
                location: try location.map { try Pattern($0, what: "location pattern") })
            try conditions.checkNotStatusAlone()
            self.init(id: id, product: product, rule: rule, meaning: meaning, source: source, conditions: conditions)
        } catch let problem as SignatureProblem {
            throw InputError("signature \(id): \(problem.message)")
        }
    }

    init(id: String, product: String, rule: String, meaning: Verdict, source: String?, conditions: Conditions) {
        self.id = id; self.product = product; self.rule = rule; self.meaning = meaning; self.source = source
        self.conditions = conditions
    }

    /// Whether this signature alone matches the answer (`SignatureSet.match` tries a whole set in order).
    public func match(_ head: ResponseHead, body: String) -> SignatureMatch? {
        var answer = PreparedAnswer(head, body: body)
        return evaluate(&answer)
    }

    /// Checks the cheap conditions first (status, headers, reason, Location) and reads the body only when they pass.
    func evaluate(_ answer: inout PreparedAnswer) -> SignatureMatch? {
        let head = answer.head
        if !conditions.status.isEmpty && !conditions.status.contains(head.status) { return nil }
        var matched: [String] = []
        for condition in conditions.headers {
            guard let value = head.values(condition.name).first(where: { condition.pattern.firstMatch(in: $0) != nil }) else { return nil }
            matched.append("\(Self.headerDisplayName(condition.name)) \(Self.quoted(value))")
        }
        if let reason = conditions.reason {
            guard reason.firstMatch(in: answer.reason) != nil else { return nil }
            matched.append("reason \(Self.quoted(answer.reason))")
        }
        if let location = conditions.location {
            guard let value = answer.location, location.firstMatch(in: value) != nil else { return nil }
            matched.append("Location \(Self.quoted(value, limit: 100))")
        }
        if !conditions.body.isEmpty {
            let body = answer.body()
            for pattern in conditions.body {
                guard let text = pattern.firstMatch(in: body) else { return nil }
                matched.append(Self.bodyFragment(text))
            }
        }
        matched.append("status \(head.status)")
        return SignatureMatch(signature: self, matched: matched.joined(separator: ", "), status: head.status)
    }

    // MARK: Codable (the patterns as text; decoding compiles and checks them)

    private enum CodingKeys: String, CodingKey {
        case id, product, rule, meaning, source, status, reason, headers, body, location
    }

    /// Decodes the patterns as text and compiles them: an invalid one is a `DecodingError`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let id = try container.decode(String.self, forKey: .id)
        do {
            try self.init(
                id: id, product: try container.decode(String.self, forKey: .product), rule: try container.decode(String.self, forKey: .rule),
                meaning: try container.decode(Verdict.self, forKey: .meaning), source: try container.decodeIfPresent(String.self, forKey: .source),
                status: try container.decodeIfPresent([Int].self, forKey: .status) ?? [],
                reason: try container.decodeIfPresent(String.self, forKey: .reason),
                headers: try container.decodeIfPresent([String: String].self, forKey: .headers) ?? [:],
                body: try container.decodeIfPresent([String].self, forKey: .body) ?? [],
                location: try container.decodeIfPresent(String.self, forKey: .location))
        } catch let error as InputError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    /// Encodes the patterns as text, leaving out conditions not given.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(product, forKey: .product)
        try container.encode(rule, forKey: .rule)
        try container.encode(meaning, forKey: .meaning)
        try container.encodeIfPresent(source, forKey: .source)
        if !status.isEmpty { try container.encode(status, forKey: .status) }
        try container.encodeIfPresent(reason, forKey: .reason)
        if !conditions.headers.isEmpty { try container.encode(headers, forKey: .headers) }
        if !conditions.body.isEmpty { try container.encode(body, forKey: .body) }
        try container.encodeIfPresent(location, forKey: .location)
    }

    // MARK: Checks shared by the initializer and the file reader

    /// Ids name signatures in reasons and reports: letters, digits, `-`, `_` and `.`.
    static func checkID(_ id: String) throws {
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw SignatureProblem("id \"\(id)\" must be letters, digits, - _ and . only")
        }
    }

    /// The verdict a `meaning:` names, if a page can mean it.
    static func checkMeaning(_ text: String) throws -> Verdict {
        let known = allowedMeanings.map(\.rawValue).sorted().joined(separator: ", ")
        guard let verdict = Verdict(rawValue: text) else {
            throw SignatureProblem("unknown meaning \"\(text)\" (known: \(known))")
        }
        guard allowedMeanings.contains(verdict) else {
            throw SignatureProblem("meaning \"\(text)\" cannot come from a product's page (known: \(known))")
        }
        return verdict
    }

    /// An HTTP status code.
    static func checkStatus(_ status: Int) throws -> Int {
        guard (100...599).contains(status) else { throw SignatureProblem("status \(status) is not an HTTP status (100-599)") }
        return status
    }

    /// A header name (an RFC 9110 token), lower-cased as `ResponseHead` keeps them.
    static func checkHeaderName(_ name: String) throws -> String {
        let token = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~").union(CharacterSet(charactersIn: "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(token.contains) else {
            throw SignatureProblem("\"\(name)\" is not a header name")
        }
        return name.lowercased()
    }

    // MARK: Reason text

    /// `x-squid-error` → `X-Squid-Error`.
    static func headerDisplayName(_ name: String) -> String {
        name.split(separator: "-", omittingEmptySubsequences: false).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "-")
    }

    /// `"text"`, with runs of white space made one space and long text cut.
    static func quoted(_ text: String, limit: Int = 80) -> String {
        let collapsed = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let cut = collapsed.count > limit ? String(collapsed.prefix(limit)) + "…" : collapsed
        return "\"\(cut)\""
    }

    /// What a body pattern matched, for a person: `title "Web Page Blocked"` for a title, else the text without tags.
    static func bodyFragment(_ matched: String) -> String {
        let withoutTags = matched.replacingOccurrences(of: "<[^>]*>?", with: " ", options: .regularExpression)
        let text = withoutTags.split(whereSeparator: \.isWhitespace).isEmpty ? matched : withoutTags
        return (matched.range(of: "<title", options: .caseInsensitive) != nil ? "title " : "body ") + quoted(text)
    }
}

/// A signature the answer matched, with what matched.
public struct SignatureMatch: Sendable, Equatable, CustomStringConvertible {
    public var signature: ProductSignature
    /// What matched, for the reason: e.g. `title "Web Page Blocked", status 503`.
    public var matched: String
    /// The status of the answer that matched.
    public var status: Int

    /// "Palo Alto Networks NGFW URL filtering block page, 503"
    public var description: String { "\(signature.product) \(signature.rule), \(status)" }
}

/// The signatures a check uses, in the order they are tried: the config's own first, then the bundled file's.
public struct SignatureSet: Sendable {
    /// The signature file format this build reads.
    public static let formatVersion = 1

    public var signatures: [ProductSignature]

    /// A set tried in the given order.
    public init(signatures: [ProductSignature] = []) {
        self.signatures = signatures
    }

    /// The file in the repository (`Verdicts/ProductSignatures.yaml`), compiled into the binary (SwiftPM `embedInCode`),
    /// so an installed or copied `proxyvet` always has it. `BundledSignatureTests` loads it with `loadBundled()`; a run
    /// refuses to start without it (`CheckRunner`), since without signatures known block pages could pass as allowed.
    public static let bundled: SignatureSet = (try? loadBundled()) ?? SignatureSet()

    /// Reads the bundled file, throwing what is wrong with it.
    static func loadBundled() throws -> SignatureSet {
        try parse(String(decoding: PackageResources.ProductSignatures_yaml, as: UTF8.self), file: "ProductSignatures.yaml")
    }

    /// Reads a signature file:
    /// ```yaml
    /// version: 1
    /// signatures:
    ///   - id: paloalto-url-block
    ///     product: Palo Alto Networks NGFW
    ///     rule: URL filtering block page
    ///     meaning: blocked            # blocked, block_page, auth_required, upstream_unreachable, dns_failure
    ///     source: "Ekultek/WhatWaf#476"
    ///     status: [503]               # optional; never the only condition
    ///     reason: '^Request blocked'  # on the reason phrase
    ///     headers: { server: '^Zscaler/' }
    ///     body: ['<title>\s*Web Page Blocked\s*</title>']   # all must match the first 4 KiB
    ///     location: '/php/urlblock\.php\?args='
    /// ```
    /// Errors name `file:line` and the problem.
    public static func parse(_ text: String, file: String) throws -> SignatureSet {
        let root = try YAMLValue.parse(text, file: file)
        let what = "the signature file"
        let top = try root.mapping(allowed: ["version", "signatures"], what: what)
        let versionNode = try top.required("version", in: what, at: root)
        let version = try versionNode.int(what: "version")
        guard version == formatVersion else {
            throw versionNode.error("unsupported signature file version \(version) (this ProxyVet reads version \(formatVersion))")
        }
        let list = try top.required("signatures", in: what, at: root)
        return SignatureSet(signatures: try entries(list, noun: "signature", fromConfig: false))
    }

    /// Parses the `blockPages:` node of a config (a YAMLValue list), for RouteConfig. Entries have the signature file's
    /// keys; `product` and `rule` may be left out (the entry's id then names it in reasons).
    static func parseBlockPages(_ node: YAMLValue) throws -> [ProductSignature] {
        try entries(node, noun: "block page", fromConfig: true)
    }

    /// The config's own first; a config entry with a bundled signature's id replaces that signature.
    public func adding(_ extra: [ProductSignature]) -> SignatureSet {
        let ids = Set(extra.map(\.id))
        return SignatureSet(signatures: extra + signatures.filter { !ids.contains($0.id) })
    }

    /// The first signature the answer matches, or nil.
    public func match(_ head: ResponseHead, body: String) -> SignatureMatch? {
        var answer = PreparedAnswer(head, body: body)
        for signature in signatures {
            if let found = signature.evaluate(&answer) { return found }
        }
        return nil
    }

    // MARK: Reading entries

    static let keys: Set<String> = ["id", "product", "rule", "meaning", "source", "status", "reason", "headers", "body", "location"]

    private static func entries(_ node: YAMLValue, noun: String, fromConfig: Bool) throws -> [ProductSignature] {
        let listName = fromConfig ? "blockPages" : "signatures"
        var result: [ProductSignature] = []
        var seen: [String: Int] = [:]
        for entry in try node.sequence(what: listName) {
            let map = try entry.mapping(allowed: keys, what: "a \(noun) entry")
            let idNode = try map.required("id", in: "a \(noun) entry", at: entry)
            let id = try idNode.string(what: "id")
            try located(idNode, "\(noun) \(id)") { try ProductSignature.checkID(id) }
            if let line = seen[id] {
                throw idNode.error("\(noun) \(id) is declared twice (first on line \(line))")
            }
            seen[id] = idNode.line ?? 0
            result.append(try signature(id: id, map: map, entry: entry, label: "\(noun) \(id)", fromConfig: fromConfig))
        }
        return result
    }

    private static func signature(id: String, map: [String: YAMLValue], entry: YAMLValue, label: String,
                                  fromConfig: Bool) throws -> ProductSignature {
        func text(_ key: String, default fallback: String?) throws -> String {
            guard let node = map[key] else {
                if let fallback { return fallback }
                throw entry.error("\(label) is missing \"\(key)\"")
            }
            let value = try node.string(what: "\(label): \(key)")
            guard !value.trimmingCharacters(in: .whitespaces).isEmpty else { throw node.error("\(label): \(key) is empty") }
            return value
        }
        let product = try text("product", default: fromConfig ? "Configured block page" : nil)
        let rule = try text("rule", default: fromConfig ? "\"\(id)\"" : nil)
        let meaningNode = try map.required("meaning", in: label, at: entry)
        let meaningText = try meaningNode.string(what: "\(label): meaning")
        let meaning = try located(meaningNode, label) { try ProductSignature.checkMeaning(meaningText) }
        let source = try map["source"].map { try $0.string(what: "\(label): source") }

        var status: [Int] = []
        if let node = map["status"] {
            let items: [YAMLValue]
            if case .scalar = node.node { items = [node] } else { items = try node.sequence(what: "\(label): status") }
            for item in items {
                let value = try item.int(what: "\(label): status")
                status.append(try located(item, label) { try ProductSignature.checkStatus(value) })
            }
        }
        func pattern(_ node: YAMLValue, what: String) throws -> Pattern {
            let value = try node.string(what: "\(label): \(what)")
            return try located(node, label) { try Pattern(value, what: what) }
        }
        let reason = try map["reason"].map { try pattern($0, what: "reason pattern") }
        let location = try map["location"].map { try pattern($0, what: "location pattern") }
        var headers: [HeaderCondition] = []
        if let node = map["headers"] {
            for header in try node.namedEntries(what: "\(label): headers") {
                let name: String
                do { name = try ProductSignature.checkHeaderName(header.name) } catch let problem as SignatureProblem {
                    throw InputError(file: node.file, line: header.line, "\(label): \(problem.message)")
                }
                guard !headers.contains(where: { $0.name == name }) else {
                    throw header.value.error("\(label): header \(name) is given twice")
                }
                headers.append(HeaderCondition(name: name, pattern: try pattern(header.value, what: "header \(name) pattern")))
            }
        }
        var body: [Pattern] = []
        if let node = map["body"] {
            let items: [YAMLValue]
            if case .scalar = node.node { items = [node] } else { items = try node.sequence(what: "\(label): body") }
            body = try items.map { try pattern($0, what: "body pattern") }
        }
        let conditions = Conditions(status: status, reason: reason, headers: headers, body: body, location: location)
        try located(entry, label) { try conditions.checkNotStatusAlone() }
        return ProductSignature(id: id, product: product, rule: rule, meaning: meaning, source: source, conditions: conditions)
    }

    /// Runs a check and gives its problem the node's file and line.
    @discardableResult
    private static func located<T>(_ node: YAMLValue, _ label: String, _ check: () throws -> T) throws -> T {
        do { return try check() } catch let problem as SignatureProblem {
            throw node.error("\(label): \(problem.message)")
        }
    }
}

// MARK: - Conditions and patterns

/// What is wrong with one part of a signature; the reader adds the file and line.
struct SignatureProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// A compiled pattern, compared by its text.
struct Pattern: Sendable, Equatable {
    let text: String
    let regex: NSRegularExpression

    init(_ text: String, what: String) throws {
        guard !text.isEmpty else { throw SignatureProblem("\(what) is empty (it would match every answer)") }
        do { regex = try NSRegularExpression(pattern: text, options: [.caseInsensitive]) } catch {
            throw SignatureProblem("\(what) \"\(text)\" is not a valid regular expression")
        }
        self.text = text
    }

    static func == (lhs: Pattern, rhs: Pattern) -> Bool { lhs.text == rhs.text }

    /// The text of the first match, or nil.
    func firstMatch(in string: String) -> String? {
        let found = regex.rangeOfFirstMatch(in: string, options: [], range: NSRange(string.startIndex..., in: string))
        guard found.location != NSNotFound, let range = Range(found, in: string) else { return nil }
        return String(string[range])
    }
}

/// A header that must be present with a value the pattern matches.
struct HeaderCondition: Sendable, Equatable {
    let name: String
    let pattern: Pattern
}

/// The tests of one signature, compiled.
struct Conditions: Sendable, Equatable {
    let status: [Int]
    let reason: Pattern?
    /// Sorted by name, so the reason text is stable.
    let headers: [HeaderCondition]
    let body: [Pattern]
    let location: Pattern?

    init(status: [Int], reason: Pattern?, headers: [HeaderCondition], body: [Pattern], location: Pattern?) {
        self.status = status; self.reason = reason; self.headers = headers.sorted { $0.name < $1.name }
        self.body = body; self.location = location
    }

    /// A status alone is what an origin sends too: at least one other condition must be given.
    func checkNotStatusAlone() throws {
        guard reason == nil && headers.isEmpty && body.isEmpty && location == nil else { return }
        throw SignatureProblem(status.isEmpty
            ? "no condition: give a reason, headers, body or location pattern"
            : "rests on its status alone: give a reason, headers, body or location pattern too (origins answer \(status.map(String.init).joined(separator: ", ")) as well)")
    }
}

/// One answer as the signatures see it: the parts read once, the body prefix made only when a signature needs it.
struct PreparedAnswer {
    let head: ResponseHead
    /// The reason phrase: the status line after the code (`Request blocked by Privoxy`); empty for HTTP/2.
    let reason: String
    let location: String?
    private let rawBody: String
    private var prefix: String?

    init(_ head: ResponseHead, body: String) {
        self.head = head
        self.reason = Self.reasonPhrase(head.statusLine)
        self.location = head.value("location")
        self.rawBody = body
    }

    /// The first `ProductSignature.bodyLimit` bytes of the body (a character cut in half is replaced, not dropped).
    mutating func body() -> String {
        if let prefix { return prefix }
        let text = String(decoding: rawBody.utf8.prefix(ProductSignature.bodyLimit), as: UTF8.self)
        prefix = text
        return text
    }

    /// `HTTP/1.1 403 Request blocked by Privoxy` → `Request blocked by Privoxy`.
    static func reasonPhrase(_ statusLine: String) -> String {
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 ? parts[2].trimmingCharacters(in: .whitespacesAndNewlines) : ""
    }
}
