import Foundation

/// A policy fact a service publishes about an endpoint, that a proxy must respect.
public enum PolicyTag: String, Codable, Sendable, CaseIterable, Comparable {
    /// TLS inspection (break and inspect) is not supported for the endpoint.
    case noInspection
    /// The endpoint must be reachable without proxy authentication.
    case noProxyAuth

    public static func < (lhs: PolicyTag, rhs: PolicyTag) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Where a required-URL collection comes from.
public struct ListSource: Codable, Sendable, Equatable {
    public var title: String?
    public var url: String?
    public var repository: String?
    public var path: String?
    public var commit: String?
    /// The date or version of the published content.
    public var date: String?
    public var retrieved: String?
    /// The publisher's own version of the data, when it has one (the Microsoft 365 web service's `2022072800`).
    public var version: String?

    public init(title: String? = nil, url: String? = nil, repository: String? = nil, path: String? = nil,
                commit: String? = nil, date: String? = nil, retrieved: String? = nil, version: String? = nil) {
        self.title = title; self.url = url; self.repository = repository; self.path = path
        self.commit = commit; self.date = date; self.retrieved = retrieved; self.version = version
    }
}

/// One required endpoint as published: a host or host pattern with ports.
public struct Endpoint: Codable, Sendable, Equatable {
    /// Exact host (`mmdcustomer.microsoft.com`) or pattern (`*.manage.microsoft.com`, `*cdn.onenote.net`).
    public var host: String
    public var ports: [Int]
    /// `https` or `http`; nil means derived from the port (80 is http, everything else https).
    public var scheme: String?
    public var path: String
    public var required: Bool
    public var tags: [PolicyTag]
    public var notes: String?
    /// Real names under a wildcard to probe instead of a synthesized one.
    public var samples: [String]
    /// Line in the list file, for messages.
    public var line: Int?
    /// TCP port ranges (`50000-59999`): firewall requirements, never probed one by one.
    public var portRanges: [PortRange] = []
    /// UDP ports and ranges (`3478-3481`): not probeable through an HTTP proxy, reported as skipped.
    public var udpPorts: [PortRange] = []

    public init(host: String, ports: [Int] = [443], scheme: String? = nil, path: String = "/", required: Bool = true,
                tags: [PolicyTag] = [], notes: String? = nil, samples: [String] = [], line: Int? = nil) {
        self.host = host; self.ports = ports; self.scheme = scheme; self.path = path; self.required = required
        self.tags = tags; self.notes = notes; self.samples = samples; self.line = line
    }

    /// True for patterns such as `*.manage.microsoft.com`.
    public var isWildcard: Bool { host.contains("*") }
}

/// A named group of endpoints within a list (Intune, Teams, Windows Update...).
public struct Service: Codable, Sendable, Equatable {
    public var name: String
    public var table: String?
    public var notes: String?
    public var endpoints: [Endpoint]
    /// The Microsoft endpoint set this service is (ID, category, ExpressRoute), when the source has one.
    public var endpointSet: EndpointSet?
    /// IP address ranges of the service: firewall (direct egress) requirements, not probeable by name.
    public var addresses: AddressBlock?
    /// The oldest TLS version the service's devices use (`minTLS`), overriding the list's; nil takes the list's.
    public var minTLS: TLSVersion?

    public init(name: String, table: String? = nil, notes: String? = nil, endpoints: [Endpoint]) {
        self.name = name; self.table = table; self.notes = notes; self.endpoints = endpoints
    }
}

/// A Microsoft endpoint set's own facts, as the Microsoft 365 web service and the Intune tables publish them.
public struct EndpointSet: Codable, Sendable, Equatable {
    /// The immutable ID of the endpoint set (`1` is Exchange Online's Optimize set).
    public var id: Int
    /// `Exchange`, `SharePoint`, `Skype`, `Common` (web service), or the table the set is in.
    public var serviceArea: String?
    /// `Optimize`, `Allow` or `Default`.
    public var category: String?
    /// True when the set is routed over ExpressRoute with Microsoft 365 route prefixes.
    public var expressRoute: Bool?
    /// The set's own required flag (each endpoint carries it too).
    public var required: Bool?

    public init(id: Int, serviceArea: String? = nil, category: String? = nil, expressRoute: Bool? = nil, required: Bool? = nil) {
        self.id = id; self.serviceArea = serviceArea; self.category = category; self.expressRoute = expressRoute
        self.required = required
    }

    /// The categories the web service uses.
    public static let categories = ["Optimize", "Allow", "Default"]
}

/// IP address ranges (CIDR) and the ports they are published with.
///
/// A proxy is asked for names, not addresses, so these are reported as firewall / direct-egress requirements.
public struct AddressBlock: Codable, Sendable, Equatable {
    public var ranges: [String]
    public var ports: [PortRange]
    public var udpPorts: [PortRange]
    public var line: Int?

    public init(ranges: [String], ports: [PortRange] = [], udpPorts: [PortRange] = [], line: Int? = nil) {
        self.ranges = ranges; self.ports = ports; self.udpPorts = udpPorts; self.line = line
    }
}

/// One port or an inclusive range of ports (`443`, `3478-3481`).
public struct PortRange: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var lower: Int
    public var upper: Int

    public init(_ lower: Int, _ upper: Int? = nil) {
        self.lower = lower
        self.upper = upper ?? lower
    }

    /// `443` or `3478-3481`.
    public var description: String { lower == upper ? "\(lower)" : "\(lower)-\(upper)" }

    public var isSinglePort: Bool { lower == upper }

    public static func < (lhs: PortRange, rhs: PortRange) -> Bool { (lhs.lower, lhs.upper) < (rhs.lower, rhs.upper) }

    /// Parses `443`, `3478-3481` or ` 80 `; nil for anything else or a port outside 1...65535.
    public static func parse(_ text: String) -> PortRange? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return nil }
        let numbers = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard numbers.count == parts.count, numbers.allSatisfy({ (1...65535).contains($0) }) else { return nil }
        let range = PortRange(numbers[0], numbers.count == 2 ? numbers[1] : nil)
        return range.lower <= range.upper ? range : nil
    }

    /// `443, 80` → single ports and ranges; an error message names the first bad element.
    public static func parseList(_ text: String) -> Result<[PortRange], PortListError> {
        var result: [PortRange] = []
        for element in text.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " }) {
            guard let range = parse(String(element)) else { return .failure(PortListError(element: String(element))) }
            result.append(range)
        }
        return .success(result)
    }

    /// A port list element that is not a port or range.
    public struct PortListError: Error, Sendable {
        public var element: String
    }
}

/// A list-level policy statement ("SSL inspection isn't supported for *.manage.microsoft.com").
public struct PolicyRule: Codable, Sendable, Equatable {
    public var tag: PolicyTag
    public var patterns: [String]
    public var source: String?
    public var quote: String?

    public init(tag: PolicyTag, patterns: [String], source: String? = nil, quote: String? = nil) {
        self.tag = tag; self.patterns = patterns; self.source = source; self.quote = quote
    }
}

/// An entry of a list that cannot be probed as given, with the reason (e.g. a `<tenant>` placeholder).
public struct SkippedEntry: Codable, Sendable, Equatable {
    public var list: String
    public var service: String
    public var entry: String
    public var reason: String
    /// Why, as a category to count by; nil in reports written before categories existed.
    public var kind: SkipKind?

    public init(list: String, service: String, entry: String, reason: String, kind: SkipKind? = nil) {
        self.list = list; self.service = service; self.entry = entry; self.reason = reason; self.kind = kind
    }
}

/// The kinds of list entries a proxy probe cannot cover.
public enum SkipKind: String, Codable, Sendable, CaseIterable, Comparable {
    /// `<tenant>.sharepoint.com` without `--tenant`.
    case tenantPlaceholder
    /// A placeholder other than `<tenant>`.
    case unknownPlaceholder
    /// UDP ports (`3478-3481`, NTP 123): an HTTP proxy carries TCP only.
    case udp
    /// A TCP port of a protocol that is not HTTP (SMTP 25/587, IMAP 143/993, POP3 995).
    case nonHTTPPort
    /// A TCP port range: a firewall requirement, not probed port by port.
    case portRange
    /// An IP address range: a proxy is asked for names, so this is a firewall / direct-egress requirement.
    case addressRange
    /// A wildcard with no fixed domain to synthesize a name under (`*`).
    case noFixedDomain

    public static func < (lhs: SkipKind, rhs: SkipKind) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A few words for counts (`UDP ports`).
    public var label: String {
        switch self {
        case .tenantPlaceholder: return "tenant placeholder without --tenant"
        case .unknownPlaceholder: return "unknown placeholder"
        case .udp: return "UDP ports (not through an HTTP proxy)"
        case .nonHTTPPort: return "TCP ports of non-HTTP protocols"
        case .portRange: return "TCP port ranges"
        case .addressRange: return "IP address ranges (firewall rules)"
        case .noFixedDomain: return "wildcard without a fixed domain"
        }
    }
}

/// A required-URL collection: the input of a check.
public struct AllowList: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var file: String
    public var source: ListSource?
    public var notes: String?
    public var policies: [PolicyRule]
    /// Issuer name patterns expected on the services' certificates (e.g. `Microsoft Azure * TLS Issuing CA*`).
    public var expectedIssuers: [String] = []
    /// The oldest TLS version the list's devices use (`minTLS`): every path must accept a client that offers at most
    /// this version. nil: no TLS version check.
    public var minTLS: TLSVersion?
    public var services: [Service]
    /// SHA-256 of the file's bytes, so a report says exactly what was probed.
    public var contentHash: String
    /// What the importer changed to make the source's entries probeable (counted in `allowlist show`).
    public var corrections: [Correction] = []
    /// The input format the list was read from.
    public var format: ListFormat = .yaml

    public init(id: String, name: String, file: String, source: ListSource? = nil, notes: String? = nil,
                policies: [PolicyRule] = [], services: [Service], contentHash: String) {
        self.id = id; self.name = name; self.file = file; self.source = source; self.notes = notes
        self.policies = policies; self.services = services; self.contentHash = contentHash
    }

    /// The tags that apply to a probed name: the endpoint's own plus every list policy whose pattern matches it.
    /// The oldest TLS version a service's devices use: the service's own `minTLS`, else the list's.
    public func minTLS(for service: Service) -> TLSVersion? { service.minTLS ?? minTLS }

    public func tags(for endpoint: Endpoint, probedHost: String) -> [PolicyTag] {
        var tags = Set(endpoint.tags)
        for rule in policies where rule.patterns.contains(where: { HostPattern($0).matches(probedHost) }) {
            tags.insert(rule.tag)
        }
        return tags.sorted()
    }
}
