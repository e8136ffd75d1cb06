import Foundation

/// A host name or a wildcard pattern from an allow list, matched the way proxies match dstdomain rules.
///
/// `*` stands for one or more characters of a name, not crossing dots: `*.manage.microsoft.com` covers
/// `a.manage.microsoft.com` but not `manage.microsoft.com`; `*cdn.onenote.net` covers `xcdn.onenote.net`.
/// Published lists use `*.domain` loosely to mean "any depth", so a leading `*.` also matches deeper names.
public struct HostPattern: Sendable, Hashable {
    public let text: String

    public init(_ text: String) { self.text = text.lowercased() }

    public var isWildcard: Bool { text.contains("*") }

    /// True when `host` is a name this pattern stands for.
    public func matches(_ host: String) -> Bool {
        let host = host.lowercased()
        guard isWildcard else { return host == text }
        if text.hasPrefix("*."), !text.dropFirst(2).contains("*") {
            return host.hasSuffix(String(text.dropFirst(1)))
        }
        return Self.glob(Array(text.split(separator: ".", omittingEmptySubsequences: false)),
                         Array(host.split(separator: ".", omittingEmptySubsequences: false)))
    }

    /// Case-insensitive match of free text (an issuer name) against this pattern, `*` standing for any characters.
    public func matchesText(_ value: String) -> Bool {
        let parts = text.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        var rest = Substring(value.lowercased())
        guard let first = parts.first, rest.hasPrefix(first) else { return false }
        rest = rest.dropFirst(first.count)
        if parts.count == 1 { return rest.isEmpty }
        for (offset, part) in parts.dropFirst().enumerated() {
            let isLast = offset == parts.count - 2
            if isLast { return part.isEmpty || rest.hasSuffix(part) }
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }

    /// The fixed domain below the wildcard, e.g. `manage.microsoft.com` for `*.manage.microsoft.com`.
    public var baseDomain: String {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        let fixed = labels.reversed().prefix { !$0.contains("*") }.reversed()
        return fixed.joined(separator: ".")
    }

    private static func glob(_ pattern: [Substring], _ host: [Substring]) -> Bool {
        guard pattern.count == host.count else { return false }
        return zip(pattern, host).allSatisfy { label($0.0, matches: $0.1) }
    }

    private static func label(_ pattern: Substring, matches label: Substring) -> Bool {
        guard pattern.contains("*") else { return pattern == label }
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false)
        guard let first = parts.first, let last = parts.last, label.hasPrefix(first), label.hasSuffix(last),
              label.count >= first.count + last.count + 1 else { return false }
        var rest = label.dropFirst(first.count).dropLast(last.count)
        for middle in parts.dropFirst().dropLast() where !middle.isEmpty {
            guard let range = rest.range(of: middle) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }
}
