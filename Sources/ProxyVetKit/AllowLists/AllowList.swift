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

    public init(title: String? = nil, url: String? = nil, repository: String? = nil, path: String? = nil,
                commit: String? = nil, date: String? = nil, retrieved: String? = nil) {
        self.title = title; self.url = url; self.repository = repository; self.path = path
        self.commit = commit; self.date = date; self.retrieved = retrieved
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

    public init(name: String, table: String? = nil, notes: String? = nil, endpoints: [Endpoint]) {
        self.name = name; self.table = table; self.notes = notes; self.endpoints = endpoints
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
    public var services: [Service]
    /// SHA-256 of the file's bytes, so a report says exactly what was probed.
    public var contentHash: String

    public init(id: String, name: String, file: String, source: ListSource? = nil, notes: String? = nil,
                policies: [PolicyRule] = [], services: [Service], contentHash: String) {
        self.id = id; self.name = name; self.file = file; self.source = source; self.notes = notes
        self.policies = policies; self.services = services; self.contentHash = contentHash
    }

    /// The tags that apply to a probed name: the endpoint's own plus every list policy whose pattern matches it.
    public func tags(for endpoint: Endpoint, probedHost: String) -> [PolicyTag] {
        var tags = Set(endpoint.tags)
        for rule in policies where rule.patterns.contains(where: { HostPattern($0).matches(probedHost) }) {
            tags.insert(rule.tag)
        }
        return tags.sorted()
    }
}
