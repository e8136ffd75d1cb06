import Foundation

/// The part of a run that changes are computed from: each (route, URL) verdict, the conflicts, the lists and routes.
///
/// Built from a fresh `CheckReport`, or read back from the history; `RunDiff` compares two of them.
public struct RunSnapshot: Codable, Sendable, Equatable {
    /// The run's number in the history; nil for a run not recorded (yet).
    public var run: Int64?
    public var generatedAt: String
    public var ready: Bool
    public var lists: [ListVersion]
    /// Route names in configured order.
    public var routes: [String]
    public var results: [ResultState]
    public var conflicts: [ConflictState]

    /// A list as probed: which version of it.
    public struct ListVersion: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        /// The source's date or version, when the list names one.
        public var date: String?
        /// SHA-256 of the list file.
        public var contentHash: String

        /// A list version.
        public init(id: String, name: String, date: String?, contentHash: String) {
            self.id = id; self.name = name; self.date = date; self.contentHash = contentHash
        }
    }

    /// The outcome of one (route, URL) probe, as far as changes are concerned.
    public struct ResultState: Codable, Sendable, Equatable {
        public var route: String
        public var url: String
        public var required: Bool
        /// A verdict name (`allowed`, `blocked`...).
        public var verdict: String
        /// Policy tags this route broke (`noInspection`, `noProxyAuth`).
        public var policyViolations: [String]
        public var reason: String

        /// An outcome as stored.
        public init(route: String, url: String, required: Bool, verdict: String, policyViolations: [String], reason: String) {
            self.route = route; self.url = url; self.required = required; self.verdict = verdict
            self.policyViolations = policyViolations; self.reason = reason
        }

        /// Not allowed, or allowed in a way that breaks the endpoint's policy.
        public var failing: Bool { verdict != Verdict.allowed.rawValue || !policyViolations.isEmpty }
    }

    /// A conflict, identified by its kind, endpoint, the hop that must change and the routes involved.
    public struct ConflictState: Codable, Sendable, Equatable {
        public var kind: String
        public var severity: String
        public var url: String
        /// The route name (or `pac`) of the hop that must change.
        public var hop: String
        public var routes: [String]
        public var explanation: String

        /// A conflict as stored.
        public init(kind: String, severity: String, url: String, hop: String, routes: [String], explanation: String) {
            self.kind = kind; self.severity = severity; self.url = url; self.hop = hop; self.routes = routes
            self.explanation = explanation
        }

        /// What makes two conflicts "the same one" across runs (the wording of the explanation may change).
        var identity: String { [kind, url, hop, routes.joined(separator: ",")].joined(separator: "\u{1F}") }
    }

    /// A snapshot read back from the history.
    public init(run: Int64?, generatedAt: String, ready: Bool, lists: [ListVersion], routes: [String],
                results: [ResultState], conflicts: [ConflictState]) {
        self.run = run; self.generatedAt = generatedAt; self.ready = ready; self.lists = lists; self.routes = routes
        self.results = results; self.conflicts = conflicts
    }

    /// The snapshot of a report that has just been produced.
    public init(report: CheckReport, run: Int64? = nil) {
        self.init(
            run: run, generatedAt: report.generatedAt, ready: report.ready,
            lists: report.lists.map { ListVersion(id: $0.id, name: $0.name, date: $0.source?.date, contentHash: $0.contentHash) },
            routes: report.routes.map(\.name),
            results: report.results.map {
                ResultState(route: $0.route, url: $0.url, required: $0.required, verdict: $0.verdict.rawValue,
                            policyViolations: $0.policyViolations.map(\.rawValue), reason: $0.reason)
            },
            conflicts: report.conflicts.map {
                ConflictState(kind: $0.kind.rawValue, severity: $0.severity.rawValue, url: $0.endpoint.url, hop: $0.hop.name,
                              routes: $0.routes, explanation: $0.explanation)
            })
    }
}
