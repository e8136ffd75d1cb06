import Foundation

/// What changed in a check against earlier runs of the history (`--history`): the `changes` key of the report.
public struct RunChanges: Codable, Sendable, Equatable {
    /// This run's number in the history.
    public var run: Int64
    /// Against the run recorded just before this one; absent for the first run of a history.
    public var sincePrevious: RunComparison?
    /// Against the pinned baseline (`--baseline RUN`, e.g. the pre-rollout run); absent without one.
    public var sinceBaseline: RunComparison?

    /// The changes of run `run`.
    public init(run: Int64, sincePrevious: RunComparison?, sinceBaseline: RunComparison?) {
        self.run = run; self.sincePrevious = sincePrevious; self.sinceBaseline = sinceBaseline
    }
}

/// The differences between an earlier run and a later one.
public struct RunComparison: Codable, Sendable, Equatable {
    /// The earlier run.
    public var against: RunRef
    /// Failing now, not before (allowed before, or not probed before).
    public var newlyFailing: [ResultChange]
    /// Failing before, allowed without a policy violation now.
    public var recovered: [ResultChange]
    /// Failing before and now, with another verdict or other policy violations.
    public var verdictChanged: [ResultChange]
    public var newConflicts: [ConflictChange]
    public var resolvedConflicts: [ConflictChange]
    /// Lists whose content changed, appeared or disappeared between the runs.
    public var listsChanged: [ListChange]
    public var routesAdded: [String]
    public var routesRemoved: [String]
    /// (route, URL) pairs probed only in the later run, or only in the earlier one.
    public var probesAdded: Int
    public var probesRemoved: Int

    /// True when nothing a reader acts on changed.
    public var isEmpty: Bool {
        newlyFailing.isEmpty && recovered.isEmpty && verdictChanged.isEmpty && newConflicts.isEmpty
            && resolvedConflicts.isEmpty && listsChanged.isEmpty && routesAdded.isEmpty && routesRemoved.isEmpty
    }

    /// `3 newly failing (2 required), 1 recovered, ...`: the counts in one line.
    public var headline: String {
        if isEmpty { return "no change" + (probesAdded + probesRemoved > 0 ? " (\(probesAdded) probes added, \(probesRemoved) removed)" : "") }
        var parts: [String] = []
        func results(_ name: String, _ changes: [ResultChange]) {
            guard !changes.isEmpty else { return }
            let required = changes.filter(\.required).count
            parts.append("\(changes.count) \(name)" + (required == changes.count ? "" : " (\(required) required)"))
        }
        results("newly failing", newlyFailing)
        results("recovered", recovered)
        results("verdict changed", verdictChanged)
        if !newConflicts.isEmpty { parts.append("\(newConflicts.count) new conflict\(newConflicts.count == 1 ? "" : "s")") }
        if !resolvedConflicts.isEmpty { parts.append("\(resolvedConflicts.count) resolved conflict\(resolvedConflicts.count == 1 ? "" : "s")") }
        if !listsChanged.isEmpty { parts.append("\(listsChanged.count) list\(listsChanged.count == 1 ? "" : "s") changed") }
        if !routesAdded.isEmpty { parts.append("routes added: " + routesAdded.joined(separator: ", ")) }
        if !routesRemoved.isEmpty { parts.append("routes removed: " + routesRemoved.joined(separator: ", ")) }
        return parts.joined(separator: ", ")
    }
}

/// A run of the history, as a change refers to it.
public struct RunRef: Codable, Sendable, Equatable {
    public var run: Int64
    public var generatedAt: String
    public var ready: Bool

    /// A reference to run `run`.
    public init(run: Int64, generatedAt: String, ready: Bool) {
        self.run = run; self.generatedAt = generatedAt; self.ready = ready
    }
}

/// One (route, URL) whose outcome changed.
public struct ResultChange: Codable, Sendable, Equatable {
    public var route: String
    public var url: String
    public var required: Bool
    /// The earlier verdict; absent when the pair was not probed before.
    public var from: String?
    /// The verdict now.
    public var to: String
    public var fromViolations: [String]
    public var toViolations: [String]
    /// The reason now.
    public var reason: String

    /// `allowed → tls_intercepted (violates noInspection)`.
    public var transition: String { "\(fromState) → \(toState)" }

    /// The earlier state in words: `allowed`, `tls_intercepted (violates noInspection)`, or `not probed`.
    public var fromState: String { Self.state(from, fromViolations) }
    /// The state now in words.
    public var toState: String { Self.state(to, toViolations) }

    private static func state(_ verdict: String?, _ violations: [String]) -> String {
        guard let verdict else { return "not probed" }
        return verdict + (violations.isEmpty ? "" : " (violates \(violations.joined(separator: ", ")))")
    }
}

/// A conflict that appeared or was resolved: the conflict as the history stores it.
public typealias ConflictChange = RunSnapshot.ConflictState

/// A list whose version changed between two runs.
public struct ListChange: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var fromDate: String?
    public var toDate: String?
    /// SHA-256 of the file before; absent when the list was not probed before.
    public var fromHash: String?
    /// SHA-256 of the file now; absent when the list is no longer probed.
    public var toHash: String?
}

/// Computes the changes between two runs.
public enum RunDiff {
    /// Compares `earlier` (it must have a run number) with `later`.
    public static func compare(_ earlier: RunSnapshot, _ later: RunSnapshot) -> RunComparison {
        let before = Dictionary(earlier.results.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(later.results.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        var newlyFailing: [ResultChange] = [], recovered: [ResultChange] = [], changed: [ResultChange] = []
        for result in later.results {
            let old = before[key(result)]
            let change = ResultChange(route: result.route, url: result.url, required: result.required, from: old?.verdict, to: result.verdict,
                                      fromViolations: old?.policyViolations ?? [], toViolations: result.policyViolations, reason: result.reason)
            switch (old?.failing, result.failing) {
            case (nil, true), (false?, true): newlyFailing.append(change)
            case (true?, false): recovered.append(change)
            case (true?, true):
                if old?.verdict != result.verdict || old?.policyViolations != result.policyViolations { changed.append(change) }
            default: break
            }
        }
        let oldConflicts = Set(earlier.conflicts.map(\.identity))
        let newConflicts = Set(later.conflicts.map(\.identity))
        let oldLists = Dictionary(earlier.lists.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let newLists = Dictionary(later.lists.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var lists: [ListChange] = later.lists.compactMap { list in
            let old = oldLists[list.id]
            guard old?.contentHash != list.contentHash else { return nil }
            return ListChange(id: list.id, name: list.name, fromDate: old?.date, toDate: list.date, fromHash: old?.contentHash, toHash: list.contentHash)
        }
        lists += earlier.lists.filter { newLists[$0.id] == nil }.map {
            ListChange(id: $0.id, name: $0.name, fromDate: $0.date, toDate: nil, fromHash: $0.contentHash, toHash: nil)
        }
        return RunComparison(
            against: RunRef(run: earlier.run ?? 0, generatedAt: earlier.generatedAt, ready: earlier.ready),
            newlyFailing: newlyFailing, recovered: recovered, verdictChanged: changed,
            newConflicts: later.conflicts.filter { !oldConflicts.contains($0.identity) },
            resolvedConflicts: earlier.conflicts.filter { !newConflicts.contains($0.identity) },
            listsChanged: lists,
            routesAdded: later.routes.filter { !earlier.routes.contains($0) },
            routesRemoved: earlier.routes.filter { !later.routes.contains($0) },
            probesAdded: after.keys.filter { before[$0] == nil }.count,
            probesRemoved: before.keys.filter { after[$0] == nil }.count)
    }

    private static func key(_ result: RunSnapshot.ResultState) -> String { result.route + "\u{1F}" + result.url }
}

extension RunComparison {
    /// Plain-text lines for the console and `proxyvet history diff`: the headline, then up to `limit` items per kind.
    /// `title` names the comparison; nil says `since run N`.
    public func lines(title: String? = nil, limit: Int = 10) -> [String] {
        var lines = ["\(title ?? "since run \(against.run)") (run \(against.run) finished \(against.generatedAt), \(against.ready ? "ready" : "not ready")): \(headline)"]
        func section(_ title: String, _ changes: [ResultChange]) {
            guard !changes.isEmpty else { return }
            lines.append("  \(title):")
            for change in changes.prefix(limit) {
                lines.append("    \(change.route) \(change.url)\(change.required ? "" : " (optional)"): \(change.transition)")
            }
            if changes.count > limit { lines.append("    … \(changes.count - limit) more") }
        }
        section("newly failing", newlyFailing)
        section("recovered", recovered)
        section("verdict changed", verdictChanged)
        func conflicts(_ title: String, _ changes: [ConflictChange]) {
            guard !changes.isEmpty else { return }
            lines.append("  \(title):")
            for change in changes.prefix(limit) {
                lines.append("    \(change.kind) (\(change.severity)) \(change.url), hop \(change.hop), routes \(change.routes.joined(separator: ", "))")
            }
            if changes.count > limit { lines.append("    … \(changes.count - limit) more") }
        }
        conflicts("new conflicts", newConflicts)
        conflicts("resolved conflicts", resolvedConflicts)
        for list in listsChanged {
            lines.append("  list \(list.name): \(list.fromDate ?? (list.fromHash == nil ? "new" : "undated")) → \(list.toDate ?? (list.toHash == nil ? "no longer probed" : "undated"))"
                + " (sha256 \(list.fromHash.map { String($0.prefix(12)) } ?? "-") → \(list.toHash.map { String($0.prefix(12)) } ?? "-"))")
        }
        return lines.map(ConsoleSummary.sanitize)
    }
}
