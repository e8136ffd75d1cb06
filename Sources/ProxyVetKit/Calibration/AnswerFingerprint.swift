import Foundation

/// How an HTTP answer is put together, apart from what it says: the traits a proxy's own pages share with each other
/// whatever product it is (status-line form, header names and their order, Server, product headers, content type,
/// page title and skeleton), and that an origin's answer relayed by the proxy does not.
public struct AnswerFingerprint: Codable, Sendable, Equatable {
    public var status: Int
    /// The reason phrase as sent (may be empty, or a product's own words: `Request blocked by Privoxy`).
    public var reason: String
    /// Header names, lower-cased, in arrival order (a repeated header once).
    public var headerNames: [String]
    public var server: String?
    /// Headers that name a product or its decision (`x-…`, `proxy-agent`), sorted.
    public var productHeaders: [String]
    public var contentType: String?
    public var title: String?
    /// The first tags of the page (`html head meta title style body div h1`), when it is HTML.
    public var skeleton: String?

    /// Tags kept for the skeleton: enough to tell a template apart, few enough that the page's own text does not matter.
    static let skeletonTags = 12

    public init(head: ResponseHead, body: String) {
        status = head.status
        reason = PreparedAnswer.reasonPhrase(head.statusLine)
        var names: [String] = []
        for header in head.headers where names.last != header.name && !names.contains(header.name) { names.append(header.name) }
        headerNames = names
        server = head.value("server")
        productHeaders = names.filter { $0.hasPrefix("x-") || $0 == "proxy-agent" }.sorted()
        contentType = head.value("content-type").map { $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "" }
        title = Self.title(of: body)
        skeleton = Self.skeleton(of: body)
    }

    /// The `<title>` of an HTML page, whitespace folded, at most 120 characters.
    static func title(of body: String) -> String? {
        guard let open = body.range(of: "<title", options: .caseInsensitive),
              let end = body.range(of: ">", range: open.upperBound..<body.endIndex),
              let close = body.range(of: "</title>", options: .caseInsensitive, range: end.upperBound..<body.endIndex) else { return nil }
        let text = body[end.upperBound..<close.lowerBound].split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return text.isEmpty ? nil : String(text.prefix(120))
    }

    /// The names of the first opening tags of an HTML body; nil for a body with fewer than six tags.
    static func skeleton(of body: String) -> String? {
        var tags: [String] = []
        var index = body.startIndex
        while tags.count < skeletonTags, let open = body[index...].firstIndex(of: "<") {
            var cursor = body.index(after: open)
            var name = ""
            while cursor < body.endIndex, name.count < 16, body[cursor].isLetter || body[cursor].isNumber {
                name.append(body[cursor])
                cursor = body.index(after: cursor)
            }
            if !name.isEmpty { tags.append(name.lowercased()) }
            index = cursor
        }
        return tags.count >= 6 ? tags.joined(separator: " ") : nil
    }

    /// The traits this answer shares with `other`, in words; empty when different software wrote them (two
    /// different `Server` values).
    func sharedTraits(with other: AnswerFingerprint) -> [String] {
        if let mine = server, let theirs = other.server, mine != theirs { return [] }
        var shared: [String] = []
        if let server, server == other.server { shared.append("Server \(server)") }
        if headerNames.count >= 3, headerNames == other.headerNames { shared.append("the same \(headerNames.count) header names in the same order") }
        if !productHeaders.isEmpty, productHeaders == other.productHeaders { shared.append("headers \(productHeaders.joined(separator: ", "))") }
        if let title, title == other.title { shared.append("title \"\(title)\"") }
        if let skeleton, skeleton == other.skeleton { shared.append("page skeleton") }
        return shared
    }

    /// Hop-by-hop headers (RFC 9110 section 7.6.1): each hop may add or drop them, so they say nothing of the author.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
                                        "proxy-authenticate", "proxy-authorization"]

    /// The traits this answer shares with the origin's own answer `origin` (seen over verified TLS), allowing for what a
    /// relaying proxy does: it keeps the origin's end-to-end headers, adds its own (Via, caches' headers) and may
    /// reorder them (Apache httpd puts Date first).
    func originTraits(with origin: AnswerFingerprint) -> [String] {
        if let mine = server, let theirs = origin.server, mine != theirs { return [] }
        var shared: [String] = []
        if let server, server == origin.server { shared.append("Server \(server)") }
        let endToEnd = origin.headerNames.filter { !Self.hopByHop.contains($0) }
        if endToEnd.count >= 3, Set(endToEnd).isSubset(of: headerNames) {
            shared.append("the origin's \(endToEnd.count) header names")
        }
        if let title, title == origin.title { shared.append("title \"\(title)\"") }
        if let skeleton, skeleton == origin.skeleton { shared.append("page skeleton") }
        return shared
    }

    /// One line for reports: `403 Forbidden; Server squid/5.7; 12 headers; X-Squid-Error; text/html "ERROR: …"`.
    public var summary: String {
        var parts = ["\(status)\(reason.isEmpty ? " (empty reason phrase)" : " \(reason)")"]
        parts.append(server.map { "Server \($0)" } ?? "no Server")
        parts.append("\(headerNames.count) headers (\(headerNames.joined(separator: ",")))")
        if !productHeaders.isEmpty { parts.append(productHeaders.joined(separator: ",")) }
        if let contentType { parts.append(contentType) }
        if let title { parts.append("title \"\(title)\"") }
        return parts.joined(separator: "; ")
    }
}
