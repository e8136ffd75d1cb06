import Foundation

/// One alternative of a PAC answer, in the order the PAC listed them.
public enum PACAlternative: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// `PROXY host:port` (or `HTTP host:port`): a plain HTTP proxy.
    case proxy(host: String, port: Int)
    /// `HTTPS host:port`: an HTTP proxy spoken to over TLS.
    case https(host: String, port: Int)
    /// `SOCKS`, `SOCKS4` or `SOCKS5 host:port`; ProxyVet speaks SOCKS5 with remote name resolution to all of them.
    case socks(host: String, port: Int)
    /// `DIRECT`: no proxy.
    case direct

    /// The canonical PAC text, e.g. `PROXY a:8080`, `DIRECT`.
    public var description: String {
        switch self {
        case let .proxy(host, port): return "PROXY \(Self.hostPort(host, port))"
        case let .https(host, port): return "HTTPS \(Self.hostPort(host, port))"
        case let .socks(host, port): return "SOCKS \(Self.hostPort(host, port))"
        case .direct: return "DIRECT"
        }
    }

    /// The proxy URL ProxyVet uses for it (`http://a:8080`, `https://a:443`, `socks5h://a:1080`); nil for DIRECT.
    public var proxyURL: String? {
        switch self {
        case let .proxy(host, port): return "http://\(Self.hostPort(host, port))"
        case let .https(host, port): return "https://\(Self.hostPort(host, port))"
        case let .socks(host, port): return "socks5h://\(Self.hostPort(host, port))"
        case .direct: return nil
        }
    }

    /// `host:port`, with an IPv6 address in brackets.
    private static func hostPort(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// A parsed FindProxyForURL result such as `PROXY a:8080; PROXY b:8080; DIRECT`.
public struct PACAnswer: Sendable, Equatable {
    /// The answer as the PAC returned it, trimmed.
    public var text: String
    /// The alternatives in the order a browser tries them.
    public var alternatives: [PACAlternative]

    /// An answer from parts already parsed.
    public init(text: String, alternatives: [PACAlternative]) {
        self.text = text
        self.alternatives = alternatives
    }

    /// Parses a FindProxyForURL result; throws an InputError naming the bad part.
    ///
    /// Keywords are case-insensitive and empty alternatives (`"PROXY a:1;; DIRECT;"`) are skipped, as browsers do.
    /// Without a port, `PROXY`/`HTTP` mean 80, `HTTPS` 443 and `SOCKS*` 1080.
    public static func parse(_ text: String) throws -> PACAnswer {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = trimmed.split(separator: ";")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
        func fail(_ problem: String, part: Int? = nil) -> InputError {
            var prefix = "PAC answer \"\(trimmed)\""
            if let part, parts.count > 1 { prefix += ", alternative \(part + 1) (\"\(parts[part])\")" }
            return InputError("\(prefix): \(problem)")
        }
        guard !parts.isEmpty else {
            throw fail("empty answer (expected e.g. \"PROXY proxy.example:8080; DIRECT\")")
        }
        var alternatives: [PACAlternative] = []
        for (index, part) in parts.enumerated() {
            do {
                alternatives.append(try alternative(part))
            } catch {
                throw fail(error.text, part: index)
            }
        }
        return PACAnswer(text: trimmed, alternatives: alternatives)
    }

    /// What is wrong with one alternative; `parse` adds the answer it came from.
    private struct AlternativeProblem: Error {
        var text: String
    }

    /// Parses one `KEYWORD host:port` alternative.
    private static func alternative(_ part: String) throws(AlternativeProblem) -> PACAlternative {
        let words = part.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let keyword = words.first?.uppercased() else { throw AlternativeProblem(text: "empty alternative") }
        if words.count > 2 {
            throw AlternativeProblem(text: "unexpected \"\(words[2...].joined(separator: " "))\" after \"\(words[0]) \(words[1])\"")
        }
        let make: (String, Int) -> PACAlternative
        let defaultPort: Int
        switch keyword {
        case "DIRECT":
            guard words.count == 1 else { throw AlternativeProblem(text: "DIRECT takes no host (\"\(words[1])\")") }
            return .direct
        case "PROXY", "HTTP": make = { .proxy(host: $0, port: $1) }; defaultPort = 80
        case "HTTPS": make = { .https(host: $0, port: $1) }; defaultPort = 443
        case "SOCKS", "SOCKS4", "SOCKS5": make = { .socks(host: $0, port: $1) }; defaultPort = 1080
        default:
            throw AlternativeProblem(text: "unknown PAC keyword \"\(words[0])\" (expected PROXY, HTTPS, SOCKS, SOCKS4, SOCKS5 or DIRECT)")
        }
        guard words.count == 2 else { throw AlternativeProblem(text: "missing host after \(keyword)") }
        let (host, port) = try hostAndPort(words[1], defaultPort: defaultPort)
        return make(host, port)
    }

    /// Splits `host`, `host:port`, `[v6]` or `[v6]:port`.
    private static func hostAndPort(_ text: String, defaultPort: Int) throws(AlternativeProblem) -> (String, Int) {
        if text.contains("://") {
            throw AlternativeProblem(text: "\"\(text)\" is a URL; a PAC answer names host:port (e.g. PROXY proxy.example:8080)")
        }
        let host: Substring
        let portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw AlternativeProblem(text: "unclosed \"[\" in \"\(text)\"") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.isEmpty {
                portText = nil
            } else if rest.hasPrefix(":") {
                portText = rest.dropFirst()
            } else {
                throw AlternativeProblem(text: "unexpected \"\(rest)\" after the address in \"\(text)\"")
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw AlternativeProblem(text: "bad IPv6 address \"\(host)\"")
            }
        } else {
            let pieces = text.split(separator: ":", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else {
                throw AlternativeProblem(text: "bad host \"\(text)\" (write an IPv6 address in brackets: [2001:db8::1]:8080)")
            }
            host = pieces[0]
            portText = pieces.count == 2 ? pieces[1] : nil
            guard !host.isEmpty else { throw AlternativeProblem(text: "missing host before \":\(portText ?? "")\"") }
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }) else {
                throw AlternativeProblem(text: "bad host \"\(host)\"")
            }
        }
        guard let portText else { return (host.lowercased(), defaultPort) }
        guard !portText.isEmpty else { throw AlternativeProblem(text: "missing port after \"\(host):\"") }
        guard portText.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw AlternativeProblem(text: "port \"\(portText)\" is not a number")
        }
        let port = Int(portText) ?? Int.max
        guard (1...65535).contains(port) else { throw AlternativeProblem(text: "port \(portText) is out of range (1-65535)") }
        return (host.lowercased(), port)
    }
}
