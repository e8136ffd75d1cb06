import Foundation

/// The input format a list was read from.
public enum ListFormat: String, Codable, Sendable {
    /// The project's YAML allow list (the canonical format).
    case yaml
    /// One URL or host name per line.
    case plain
    /// CSV with a header row (`host` or `url`, `port`, `protocol`, `service`, `tags`, ...).
    case csv
    /// The Microsoft 365 IP and URL web service's JSON (an array of endpoint sets).
    case m365JSON = "m365-json"
}

/// One change an importer made to a published entry so it can be probed, recorded so nothing changes unseen.
public struct Correction: Codable, Sendable, Equatable {
    /// What kind of change.
    public enum Kind: String, Codable, Sendable, CaseIterable, Comparable {
        /// Upper-case letters in a host name (`Manage.microsoft.com`).
        case lowercased
        /// Markdown or HTML escapes (`\*.office.com`, `&lt;tenant>`).
        case unescaped
        /// Spaces inside an entry (`\ *.svc.ms`).
        case whitespace
        /// A scheme in a host cell (`https://host/`): the host is kept, the scheme too.
        case schemeInHost
        /// A path in a host cell (`x.msftncsi.com/ncsi.txt`): moved to the endpoint's path.
        case pathInHost
        /// A trailing slash in a host cell (`token.cp.microsoft.com/`).
        case trailingSlash
        /// An entry split across two lines of the source table (`groupsapi-` + `rod.outlookgroups.ms`).
        case joinedSplitEntry
        /// The same host listed twice in one service: merged (ports and tags combined).
        case duplicateInService
        /// An empty line or cell.
        case emptyEntry

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }

        /// A few words for counts.
        public var label: String {
            switch self {
            case .lowercased: return "upper case lowered"
            case .unescaped: return "Markdown/HTML escapes decoded"
            case .whitespace: return "stray spaces removed"
            case .schemeInHost: return "scheme in a host cell"
            case .pathInHost: return "path in a host cell moved to the path"
            case .trailingSlash: return "trailing slash dropped"
            case .joinedSplitEntry: return "entries split across lines joined"
            case .duplicateInService: return "duplicates within a service merged"
            case .emptyEntry: return "empty entries dropped"
            }
        }
    }

    public var kind: Kind
    public var service: String
    /// The entry as published.
    public var original: String
    /// What it became (empty for a dropped entry).
    public var result: String
    public var line: Int?

    public init(kind: Kind, service: String, original: String, result: String, line: Int? = nil) {
        self.kind = kind; self.service = service; self.original = original; self.result = result; self.line = line
    }
}

/// Cleans published host cells into probeable host names, recording every change it makes.
///
/// The published tables are messy: upper case (`Manage.microsoft.com`), Markdown escapes (`\*.office.com`,
/// `\<tenant\>`, `&lt;tenant>`), stray spaces (`\ *.svc.ms`), a scheme or path where a host belongs
/// (`https://posarprodcssservice.accesscontrol.windows.net`, `*.msftncsi.com/ncsi.txt`, `token.cp.microsoft.com/`)
/// and names broken across two lines of a cell (`scsquery-ss-` / `us.trafficmanager.net`). Placeholders
/// (`<tenant>`) and wildcards of every shape are kept as published: the target planner decides about them.
public enum Normalizer {
    /// One host cell after cleaning.
    public struct Cleaned: Sendable, Equatable {
        public var host: String
        /// `https` or `http` when the cell named a scheme.
        public var scheme: String?
        /// The path the cell carried (`/ncsi.txt`), else nil.
        public var path: String?
        /// A port the cell carried (`host:8443`), else nil.
        public var port: Int?
        public var corrections: [Correction.Kind]
    }

    /// A raw entry as read from a source, with where it came from.
    public struct RawEntry: Sendable, Equatable {
        public var text: String
        public var service: String
        public var line: Int?

        public init(text: String, service: String, line: Int? = nil) {
            self.text = text; self.service = service; self.line = line
        }
    }

    /// Joins entries broken across lines: an entry ending in `-` or `.` (no host name ends so) continues on the
    /// next entry of the same service. Empty entries are dropped. Both are recorded.
    public static func joinSplitEntries(_ entries: [RawEntry], corrections: inout [Correction]) -> [RawEntry] {
        var result: [RawEntry] = []
        var pending: RawEntry?
        for entry in entries {
            let trimmed = squeeze(entry.text)
            if trimmed.isEmpty {
                corrections.append(Correction(kind: .emptyEntry, service: entry.service, original: entry.text, result: "", line: entry.line))
                continue
            }
            if var head = pending, head.service == entry.service {
                let original = head.text + " | " + entry.text
                head.text = squeeze(head.text) + trimmed
                corrections.append(Correction(kind: .joinedSplitEntry, service: entry.service, original: original, result: head.text, line: head.line))
                pending = nil
                if endsMidName(head.text) { pending = head } else { result.append(head) }
                continue
            }
            if let head = pending { result.append(head); pending = nil }
            if endsMidName(trimmed) { pending = entry } else { result.append(entry) }
        }
        if let head = pending { result.append(head) }
        return result
    }

    /// True for `groupsapi-` or `scsquery-ss-`: a host name never ends in `-` or `.`.
    static func endsMidName(_ text: String) -> Bool {
        guard let last = squeeze(text).last else { return false }
        return last == "-" || (last == "." && !text.contains("://"))
    }

    /// Removes every whitespace character.
    static func squeeze(_ text: String) -> String {
        String(text.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) }.map(Character.init))
    }

    /// Cleans one host cell; the error says why the result still is no host name.
    public static func clean(_ text: String) -> Result<Cleaned, InputError> {
        var kinds: [Correction.Kind] = []
        var value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let squeezed = squeeze(value)
        if squeezed != value { kinds.append(.whitespace); value = squeezed }
        let unescaped = unescape(value)
        if unescaped != value { kinds.append(.unescaped); value = unescaped }
        var scheme: String?
        var path: String?
        var port: Int?
        if let range = value.range(of: "://") {
            let name = value[..<range.lowerBound].lowercased()
            guard name == "https" || name == "http" else {
                return .failure(InputError("unsupported scheme \"\(name)\" in \"\(text)\" (https or http)"))
            }
            scheme = name
            value = String(value[range.upperBound...])
            kinds.append(.schemeInHost)
        }
        if let slash = value.firstIndex(of: "/") {
            let rest = String(value[slash...])
            value = String(value[..<slash])
            if rest == "/" {
                if scheme == nil { kinds.append(.trailingSlash) }
            } else {
                path = rest
                kinds.append(.pathInHost)
            }
        }
        if let colon = value.lastIndex(of: ":"), !value.contains("["), value.filter({ $0 == ":" }).count == 1 {
            let text = value[value.index(after: colon)...]
            guard let number = Int(text), (1...65535).contains(number) else {
                return .failure(InputError("unknown port \"\(text)\" in \"\(value)\""))
            }
            port = number
            value = String(value[..<colon])
        }
        let lowered = value.lowercased()
        if lowered != value { kinds.append(.lowercased); value = lowered }
        if let problem = AllowListLoader.hostProblem(value) { return .failure(InputError(problem)) }
        return .success(Cleaned(host: value, scheme: scheme, path: path, port: port, corrections: kinds))
    }

    /// Decodes `\*`, `\<`, `\>`, `\\`, `&lt;`, `&gt;`, `&amp;` as Markdown sources write them.
    static func unescape(_ text: String) -> String {
        var value = text
        for (escaped, plain) in [("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")] {
            value = value.replacingOccurrences(of: escaped, with: plain)
        }
        // Backslashes never belong in a host name: `\*`, `\\*`, `\<`, `\ *` all lose them.
        return value.replacingOccurrences(of: "\\", with: "")
    }

    /// True for an IPv4 or IPv6 address or CIDR range (`13.107.6.152/31`, `2603:1006::/40`).
    public static func isAddressRange(_ text: String) -> Bool {
        let value = text.trimmingCharacters(in: .whitespaces)
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = parts.first, !address.isEmpty else { return false }
        if parts.count == 2 {
            guard let bits = Int(parts[1]), (0...(address.contains(":") ? 128 : 32)).contains(bits) else { return false }
        }
        if address.contains(":") {
            guard address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            return address.contains("::") || address.split(separator: ":").count >= 3
        }
        let octets = address.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { octet in Int(octet).map { (0...255).contains($0) } ?? false }
    }
}
