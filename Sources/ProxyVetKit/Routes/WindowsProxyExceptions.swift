import Foundation

/// Windows' proxy exceptions (the `ProxyOverride` value, MMD's "proxy site exceptions"): the names a device reaches
/// DIRECT although a proxy is set.
///
/// The semantics, as WinINet and WinHTTP read the list:
/// - Entries are separated by `;` or white space; empty entries are skipped (WINHTTP_PROXY_INFO, "The proxy bypass list
///   contains one or more server names separated by semicolons or whitespace",
///   https://learn.microsoft.com/en-us/windows/win32/api/winhttp/ns-winhttp-winhttp_proxy_info).
/// - `<local>` bypasses every plain host name, one without a period (same page: "Local intranet sites are considered to
///   be all servers that do not contain a period in their name"; InternetOpen's lpszProxyBypass says the same).
/// - The list "can contain wildcards" (InternetOpen's lpszProxyBypass,
///   https://learn.microsoft.com/en-us/windows/win32/api/wininet/nf-wininet-internetopenw). ProxyVet matches `*`
///   against any run of characters at any position (`*.contoso.com`, `10.*`, `*contoso*`), as WinINet does for the
///   Internet Options exceptions box (`192.168.*` is its usual form). The old WinHTTP proxycfg.exe documentation said
///   wildcards had to be leftmost ("aaa.*" not supported); a device whose WinHTTP still reads it so would send fewer
///   names DIRECT than this says.
/// - Case does not matter; an entry is compared with the whole host name as text, so `contoso.com` is that one host
///   (not its subdomains: write `*.contoso.com`), `.contoso.com` matches no real host, and an address entry
///   (`10.1.2.3`, `10.*`) matches only a URL written with an address. There are no CIDR ranges.
/// - An entry may carry a scheme (`https://host`) and a port (`host:8080`, `[::1]:8080`) that restrict it to that
///   scheme and port, the grammar Chromium uses for the same list on Windows (`net/proxy_resolution/
///   proxy_bypass_rules.h`: `[ URL_SCHEME "://" ] HOSTNAME_PATTERN [ ":" <port> ]`). A trailing `/` is dropped; a
///   path or a CIDR range is an input error, since no reader would match it to anything.
/// - `<-loopback>` (IE 9 and later) removes Windows' implicit loopback bypass; it changes nothing for the services'
///   endpoints and is accepted and ignored.
public struct WindowsProxyExceptions: Sendable, Equatable {
    /// The most characters MMD's proxy setting accepts for the exceptions, Microsoft's own default exceptions
    /// included (Configurable settings reference, Proxy requirements: "limited to a maximum of 2064 characters").
    public static let characterLimit = 2064

    /// One exception as Windows reads it.
    public struct Entry: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// A host pattern, optionally restricted to a scheme and a port.
            case host(pattern: String, scheme: String?, port: Int?)
            /// `<local>`: every plain host name (no period).
            case local
            /// `<-loopback>`: no effect on which endpoints go DIRECT.
            case subtractLoopback
        }

        /// The entry as written (trimmed), for reports.
        public var text: String
        public var kind: Kind

        /// Whether this entry sends a request for `scheme://host:port` DIRECT.
        public func matches(scheme: String, host: String, port: Int) -> Bool {
            let host = Self.bare(host.lowercased())
            switch kind {
            case .subtractLoopback:
                return false
            case .local:
                return !host.isEmpty && !host.contains(".") && !host.contains(":")
            case let .host(pattern, entryScheme, entryPort):
                if let entryScheme, entryScheme != scheme.lowercased() { return false }
                if let entryPort, entryPort != port { return false }
                // `*` stands for any run of characters, dots included, as Windows matches exceptions.
                return HostPattern(pattern).matchesText(host)
            }
        }

        /// A host without IPv6 brackets and a trailing root dot.
        static func bare(_ host: String) -> String {
            var host = host
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if host.hasSuffix("."), host.count > 1 { host.removeLast() }
            return host
        }
    }

    /// The entries in the order written.
    public var entries: [Entry]

    /// An empty list: nothing goes DIRECT.
    public init() { entries = [] }

    /// Reads an exception list (`*.contoso.com;10.*;<local>`); several strings (a YAML list) are read as one list.
    /// Throws an `InputError` without a location, naming the entry; the caller adds the file and line or the option.
    public init(parsing texts: [String]) throws {
        entries = []
        for text in texts {
            for part in text.split(whereSeparator: { $0 == ";" || $0.isWhitespace }) where !part.isEmpty {
                entries.append(try Self.entry(String(part)))
            }
        }
    }

    /// Reads one exception list string.
    public init(parsing text: String) throws { try self.init(parsing: [text]) }

    /// The list as Windows stores it: the entries joined by `;`.
    public var text: String { entries.map(\.text).joined(separator: ";") }

    /// Characters counted against MMD's limit: the list as Windows stores it (UTF-16 code units, as Windows counts).
    public var characterCount: Int { text.utf16.count }

    /// The first entry that sends `scheme://host:port` DIRECT, or nil when the request goes to the proxy.
    public func match(scheme: String, host: String, port: Int) -> Entry? {
        entries.first { $0.matches(scheme: scheme, host: host, port: port) }
    }

    static func entry(_ text: String) throws -> Entry {
        let lower = text.lowercased()
        func fail(_ problem: String) -> InputError { InputError("exception \"\(text)\": \(problem)") }
        if lower == "<local>" { return Entry(text: text, kind: .local) }
        if lower == "<-loopback>" { return Entry(text: text, kind: .subtractLoopback) }
        if lower.hasPrefix("<") {
            throw fail("unknown macro (Windows knows <local> and <-loopback>)")
        }
        var rest = Substring(lower)
        var scheme: String?
        if let separator = rest.range(of: "://") {
            let name = rest[..<separator.lowerBound]
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }) else {
                throw fail("\"\(name)\" is not a URL scheme")
            }
            scheme = String(name)
            rest = rest[separator.upperBound...]
        }
        if let slash = rest.firstIndex(of: "/") {
            let after = rest[rest.index(after: slash)...]
            if !after.isEmpty, after.allSatisfy(\.isNumber) {
                throw fail("Windows exceptions take no address ranges; write the range as a wildcard (10.* for 10.0.0.0/8)")
            }
            guard after.isEmpty else { throw fail("an exception names a host, not a path") }
            rest = rest[..<slash]
        }
        var host = rest
        var port: Int?
        func readPort(_ digits: Substring) throws -> Int {
            guard let value = Int(digits), digits.allSatisfy(\.isNumber), (1...65535).contains(value) else {
                throw fail("\"\(digits)\" is not a port (1 to 65535)")
            }
            return value
        }
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("an IPv6 address in brackets lacks the closing ]") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after the IPv6 address") }
                port = try readPort(after.dropFirst())
            }
        } else if rest.filter({ $0 == ":" }).count == 1, let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            port = try readPort(rest[rest.index(after: colon)...])
        }
        // More than one colon without brackets: an IPv6 address, no port.
        guard !host.isEmpty else { throw fail("no host name") }
        return Entry(text: text, kind: .host(pattern: Entry.bare(String(host)), scheme: scheme, port: port))
    }
}
