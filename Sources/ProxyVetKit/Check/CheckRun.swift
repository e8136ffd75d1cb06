import Foundation

/// A whole check as `proxyvet check` runs it: loads the routes and lists, opens the history and resolves the baseline,
/// plans, calibrates, probes, classifies and analyses (`CheckRunner`), records the run and compares it with the previous
/// run and the baseline, writes and archives the reports, pushes the metrics, and decides the exit code.
///
/// Bad input (a list, the config, a history that is not one, a baseline that does not exist) is thrown before anything
/// is probed. After probing nothing is thrown: a step that fails (the history locked or not writable, the reports not
/// writable, the Pushgateway refusing) is listed in the outcome, and every step that can still run does, so findings
/// are never lost because one output could not be written.
public struct CheckRun: Sendable {
    /// Allow-list files.
    public var lists: [String]
    public var routes: RouteInput
    public var settings: ProbeSettings
    /// Substituted for `<tenant>` in list entries.
    public var tenant: String?
    /// The SQLite history the run is recorded in (`--history`), how long a write waits for another run's write, and the
    /// run it is also compared with (a number, `latest` or `previous`).
    public var historyFile: String?
    public var historyTimeout: Double = 30
    public var baseline: String?
    /// The reports written (default json, md, html) into `outputDirectory`; with `keep`, the newest `keep` runs' reports
    /// are also kept in `outputDirectory/archive/`.
    public var formats: [ReportFormat] = ReportFormat.defaults
    public var outputDirectory: String = "proxyvet-report"
    public var keep: Int?
    /// A Prometheus Pushgateway to push the metrics to, as the group of `instance`.
    public var pushGateway: String?
    public var instance: String = ProcessInfo.processInfo.hostName
    /// The environment a config's `passwordEnv:` and `environment: true` read.
    public var environment: [String: String]

    public init(lists: [String], routes: RouteInput, settings: ProbeSettings = ProbeSettings(), tenant: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.lists = lists; self.routes = routes; self.settings = settings; self.tenant = tenant; self.environment = environment
    }

    /// A step after probing that could not complete; the run's exit code is then 3.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// The steps that can fail once the probes are done.
        public enum Step: String, Sendable {
            case history, reports, archive, push
        }
        public var step: Step
        public var message: String
        public var description: String { message }
    }

    /// What a run did: the report (with the changes since the previous run and the baseline), the files written and
    /// the steps that could not complete.
    public struct Outcome: Sendable {
        public var report: CheckReport
        /// Report files written, in format order.
        public var written: [String]
        /// The archive folder this run's reports were copied to, with `keep`.
        public var archived: ReportArchive.Outcome?
        /// The history file, when the run was recorded in one.
        public var historyFile: String?
        public var problems: [Problem]

        /// 0 ready, 1 findings, 3 the run could not complete (input errors are thrown before probing: exit code 2).
        public var exitCode: Int32 {
            if !problems.isEmpty { return 3 }
            return report.ready ? 0 : 1
        }

        /// What the history says about this run, for the console: its number, then what changed since the previous run
        /// and since the baseline, up to `limit` items per kind. Empty without a history.
        public func historyLines(limit: Int = ConsoleSummary.examplesPerGroup * 2) -> [String] {
            guard let changes = report.changes else { return [] }
            let first = changes.sincePrevious == nil && changes.sinceBaseline == nil
            var lines = ["History run \(changes.run) (\(historyFile ?? "")):" + (first ? " the first run recorded" : "")]
            if let previous = changes.sincePrevious {
                lines += previous.lines(title: "since the previous run", limit: limit).map { "  " + $0 }
            }
            if let baseline = changes.sinceBaseline {
                if baseline.against.run == changes.sincePrevious?.against.run {
                    lines.append("  the baseline is the previous run")
                } else {
                    lines += baseline.lines(title: "since the baseline", limit: limit).map { "  " + $0 }
                }
            }
            return lines.map(ConsoleSummary.sanitize)
        }
    }

    /// Runs the whole check. `progress` is called after each finished probe.
    ///
    /// Throws `InputError`/`InputErrors` for bad input, `HistoryError` when the history cannot be opened or the baseline
    /// resolved (`isInputError` tells the user's mistake from a locked or unwritable history) and `LocalFailure` when
    /// this machine stopped the probes; all of them before any report is written.
    public func run(progress: ((CheckRunner.Progress) -> Void)? = nil) throws -> Outcome {
        let config = try routes.load(environment: environment)
        if let bundle = settings.caBundle, !FileManager.default.isReadableFile(atPath: bundle) {
            throw InputError(file: bundle, "--ca-bundle cannot be read")
        }
        let allowLists = try AllowListLoader.load(files: lists)
        // The history is opened (and the baseline looked up) before probing: a wrong file or run stops here.
        if baseline != nil, historyFile == nil { throw InputError("--baseline names a run of the history: give --history FILE too.") }
        let store = try historyFile.map { try HistoryStore(path: $0, busyTimeout: historyTimeout) }
        let baselineRun = try baseline.flatMap { reference in try store?.resolve(reference) }

        let runner = CheckRunner(lists: allowLists, config: config, settings: settings, tenant: tenant, environment: environment)
        var report = try runner.run(progress: progress)
        var problems: [Problem] = []
        if let store {
            do {
                report.changes = try Self.record(report, in: store, baseline: baselineRun)
            } catch {
                problems.append(Problem(step: .history, message: "\(error)"))
            }
        }
        var outcome = Outcome(report: report, written: [], historyFile: historyFile, problems: [])
        do {
            outcome.written = try ReportWriter.write(report, formats: formats, to: outputDirectory)
            if let keep {
                do {
                    outcome.archived = try ReportArchive.archive(files: outcome.written, generatedAt: report.generatedAt,
                                                                 run: report.changes?.run, in: outputDirectory, keep: keep)
                } catch {
                    problems.append(Problem(step: .archive, message: "\(error)"))
                }
            }
        } catch {
            problems.append(Problem(step: .reports, message: "\(error)"))
        }
        if let pushGateway {
            let url = PushGateway.groupURL(base: pushGateway, instance: instance)
            do { try PushGateway.push(PrometheusReport.render(report), to: url) } catch {
                problems.append(Problem(step: .push, message: "\(error)"))
            }
        }
        outcome.problems = problems
        return outcome
    }

    /// Records the run and compares it with the run before it and with the baseline.
    static func record(_ report: CheckReport, in store: HistoryStore, baseline: Int64?) throws -> RunChanges {
        let run = try store.record(report, baseline: baseline)
        let current = RunSnapshot(report: report, run: run)
        let previousRun = try store.previousRun(before: run)
        let previous = try previousRun.map { RunDiff.compare(try store.snapshot(run: $0), current) }
        // A baseline that is the previous run (e.g. --baseline latest) is not read and compared twice.
        let pinned = try baseline.map { $0 == previousRun ? previous : RunDiff.compare(try store.snapshot(run: $0), current) } ?? nil
        return RunChanges(run: run, sincePrevious: previous, sinceBaseline: pinned)
    }
}
