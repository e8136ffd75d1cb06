import ArgumentParser
import Foundation
import ProxyVetKit

/// `proxyvet history list|show|diff|prune`: the runs recorded with `check --history FILE`.
struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show, compare and prune the runs recorded with check --history.",
        discussion: "Exit codes: 0 done, 2 usage error or no such run, 3 the history could not be read or written (locked past the timeout).",
        subcommands: [ListRuns.self, ShowRun.self, DiffRuns.self, Prune.self]
    )

    /// Options every history subcommand takes.
    struct Options: ParsableArguments {
        @Option(name: .long, help: ArgumentHelp("The history file, as given to check --history.", valueName: "file"))
        var history: String

        @Option(name: .customLong("busy-timeout"), help: "Seconds to wait while a running check writes to the history.")
        var busyTimeout: Double = 30

        @Flag(name: .long, help: "Print JSON instead of text.")
        var json = false

        func validate() throws {
            guard busyTimeout >= 0, busyTimeout <= 3600 else { throw ValidationError("--busy-timeout must be between 0 and 3600 seconds.") }
        }

        /// Opens an existing history: a missing file is a usage error, not a new empty history.
        func open() throws -> HistoryStore {
            guard FileManager.default.fileExists(atPath: history) else {
                throw InputError(file: history, "no such history file (check --history FILE creates it)")
            }
            return try HistoryStore(path: history, busyTimeout: busyTimeout)
        }
    }

    /// `history list`: one line per run, newest first.
    struct ListRuns: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "One line per recorded run, newest first.")

        @OptionGroup var options: Options

        @Option(name: .long, help: "Most runs listed.")
        var limit = 50

        func run() throws {
            let store = try options.open()
            let runs = try store.runs(limit: limit)
            if options.json { return try printJSON(runs) }
            guard !runs.isEmpty else { return print("No runs recorded in \(options.history).") }
            print(row(["run", "finished", "ready", "probes", "failing", "conflicts", "took", "proxyvet/libcurl", "baseline", "lists"]))
            for run in runs {
                let lists = run.lists.map { "\($0.name) \($0.date ?? "undated") \($0.contentHash.prefix(8))" }.joined(separator: "; ")
                print(row([String(run.run), run.generatedAt, run.ready ? "READY" : "NOT READY", String(run.probes), String(run.failingRequired),
                           "\(run.conflicts) (\(run.conflictErrors) err)", String(format: "%.1f s", run.durationSeconds),
                           "\(run.toolVersion)/\(run.libcurl)", run.baseline.map { String($0) } ?? "-", lists]))
            }
        }

        private func row(_ cells: [String]) -> String {
            let widths = [6, 21, 10, 7, 8, 15, 8, 17, 9, 0]
            return zip(cells, widths).map { cell, width in cell.count >= width ? cell + " " : cell + String(repeating: " ", count: width - cell.count) }
                .joined().trimmingCharacters(in: .whitespaces)
        }
    }

    /// `history show RUN`: one run's environment, counts per route, failing required endpoints and conflicts.
    struct ShowRun: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One run: lists, routes, counts, failing required endpoints, conflicts.")

        @OptionGroup var options: Options

        @Argument(help: ArgumentHelp("The run: its number, latest or previous.", valueName: "run"))
        var reference: String

        func run() throws {
            let store = try options.open()
            let id = try store.resolve(reference)
            let summary = try store.summary(run: id)
            let snapshot = try store.snapshot(run: id)
            if options.json {
                struct Shown: Encodable { var run: HistoryStore.RunSummary; var results: [RunSnapshot.ResultState]; var conflicts: [RunSnapshot.ConflictState] }
                return try printJSON(Shown(run: summary, results: snapshot.results, conflicts: snapshot.conflicts))
            }
            print("Run \(summary.run): \(summary.ready ? "READY" : "NOT READY"), finished \(summary.generatedAt) in \(String(format: "%.1f", summary.durationSeconds)) s")
            print("ProxyVet \(summary.toolVersion), libcurl \(summary.libcurl), \(summary.tls)" + (summary.baseline.map { "; baseline run \($0)" } ?? ""))
            print("\(summary.targets) targets, \(summary.probes) probes, \(summary.failingRequired) required targets failing, "
                + "\(summary.policyViolations) policy violations, \(summary.conflicts) conflicts (\(summary.conflictErrors) errors)")
            for list in summary.lists {
                print("list \(list.name) (\(list.file)): \(list.date ?? "undated"), \(list.endpoints) endpoints, sha256 \(list.contentHash)")
            }
            // Counted from the snapshot already read, not with another query.
            var counts: [String: [String: Int]] = [:]
            for result in snapshot.results { counts[result.route, default: [:]][result.verdict, default: 0] += 1 }
            for route in summary.routes {
                let verdicts = counts[route.name] ?? [:]
                let text = verdicts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("route \(route.name) (\(route.proxy ?? "direct")\(route.credentialSource.map { ", credentials from \($0)" } ?? ""), \(route.role)): \(text)")
            }
            let failing = snapshot.results.filter { $0.required && $0.failing }
            if !failing.isEmpty {
                print("")
                print("Failing required endpoints (\(failing.count)):")
                for result in failing.prefix(40) {
                    let violations = result.policyViolations.isEmpty ? "" : " (violates \(result.policyViolations.joined(separator: ", ")))"
                    print(ConsoleSummary.sanitize("  \(result.route) \(result.url): \(result.verdict)\(violations): \(result.reason)"))
                }
                if failing.count > 40 { print("  … \(failing.count - 40) more (--json lists all)") }
            }
            if !snapshot.conflicts.isEmpty {
                print("")
                print("Conflicts (\(snapshot.conflicts.count)):")
                for conflict in snapshot.conflicts.prefix(20) {
                    print(ConsoleSummary.sanitize("  \(conflict.kind) (\(conflict.severity)) \(conflict.url), hop \(conflict.hop): \(conflict.explanation)"))
                }
                if snapshot.conflicts.count > 20 { print("  … \(snapshot.conflicts.count - 20) more (--json lists all)") }
            }
        }
    }

    /// `history diff RUN_A RUN_B`: what changed from A to B.
    struct DiffRuns: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "diff", abstract: "What changed from one run to another: newly failing, recovered, verdict changes, conflicts, lists.")

        @OptionGroup var options: Options

        @Argument(help: ArgumentHelp("The earlier run: its number, latest or previous.", valueName: "run-a"))
        var runA: String

        @Argument(help: ArgumentHelp("The later run.", valueName: "run-b"))
        var runB: String

        @Option(name: .long, help: "Most items listed per kind of change.")
        var limit = 50

        func run() throws {
            let store = try options.open()
            let (a, b) = (try store.resolve(runA), try store.resolve(runB))
            let comparison = RunDiff.compare(try store.snapshot(run: a), try store.snapshot(run: b))
            if options.json { return try printJSON(comparison) }
            print(comparison.lines(title: "from run \(a) to run \(b)", limit: limit).joined(separator: "\n"))
        }
    }

    /// `history prune --keep N`: deletes old runs, keeping the baselines the kept runs refer to.
    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete all but the newest N runs (and the baselines they were compared with), then compact the file.")

        @OptionGroup var options: Options

        @Option(name: .long, help: "How many of the newest runs to keep.")
        var keep: Int

        func validate() throws {
            guard keep >= 1 else { throw ValidationError("--keep must be at least 1.") }
        }

        func run() throws {
            let store = try options.open()
            let outcome = try store.prune(keep: keep)
            if options.json {
                return try printJSON(outcome)
            }
            print("Deleted \(outcome.deleted.count) run\(outcome.deleted.count == 1 ? "" : "s")"
                + (outcome.deleted.isEmpty ? "" : " (\(ranges(outcome.deleted)))") + "; kept the newest \(keep)"
                + (outcome.keptAsBaseline.isEmpty ? "" : " and baseline run\(outcome.keptAsBaseline.count == 1 ? "" : "s") \(outcome.keptAsBaseline.map(String.init).joined(separator: ", "))") + ".")
        }

        /// `1-4, 7`.
        private func ranges(_ ids: [Int64]) -> String {
            var parts: [String] = []
            var start = ids.first, end = ids.first
            for id in ids.dropFirst() {
                if let last = end, id == last + 1 { end = id; continue }
                if let start, let end { parts.append(start == end ? "\(start)" : "\(start)-\(end)") }
                start = id; end = id
            }
            if let start, let end { parts.append(start == end ? "\(start)" : "\(start)-\(end)") }
            return parts.joined(separator: ", ")
        }
    }
}

/// Pretty, sorted JSON on stdout.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
