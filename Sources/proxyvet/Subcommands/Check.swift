import ArgumentParser
import Foundation
import ProxyVetKit

/// `proxyvet check`: probe every endpoint of the lists through every route and report.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe every endpoint of the allow lists through every route, classify each outcome and write reports.",
        discussion: """
        Lists are ProxyVet YAML allow lists (see AllowLists/) or plain files with one URL or host name per line.
        Routes come from --proxy, --config and --direct. Credentials come from files or environment variables, never the command line.
        With --history FILE every run is recorded in SQLite and the reports say what changed since the previous run
        (and since --baseline RUN); --keep N also keeps each run's reports in DIR/archive/; --push-gateway URL pushes the
        metrics to a Prometheus Pushgateway.
        Exit codes: 0 ready, 1 findings, 2 usage, config or allow-list error, 3 the run could not complete
        (history locked past its timeout, reports or history not writable, push failed).
        """
    )

    @Argument(help: ArgumentHelp("Allow lists to check (YAML or one URL/host per line).", valueName: "list"))
    var lists: [String] = []

    @Option(name: .long, help: ArgumentHelp("A proxy route, repeatable: NAME=URL with http://, https:// or socks5h:// (no credentials in the URL).", valueName: "name=url"))
    var proxy: [String] = []

    @Option(name: .long, help: ArgumentHelp("A YAML config declaring proxies and their credentials.", valueName: "file"))
    var config: String?

    @Option(name: .customLong("proxy-credentials"), help: ArgumentHelp("Credentials for a route, repeatable: NAME=FILE, the file holding user:password.", valueName: "name=file"))
    var proxyCredentials: [String] = []

    @Flag(name: .long, help: "Also probe without a proxy (direct egress).")
    var direct = false

    @OptionGroup var routing: RoutingOptions

    @Flag(name: .long, help: "Print the targets × routes that would be probed, with the PAC's answers, and send nothing (with --format json also write proxyvet-plan.json).")
    var plan = false

    @Option(name: .customLong("windows-proxy"), help: ArgumentHelp("Devices use this proxy as MMD and Intune set it on Windows (replaces the config's windows:, pac:, default: or environment: routing); matched to a configured proxy by host and port.", valueName: "host:port"))
    var windowsProxy: String?

    @Option(name: .customLong("windows-exceptions"), help: ArgumentHelp("The Windows proxy exceptions that go DIRECT, separated by ; (*.contoso.com;10.*;<local>), at most 2,064 characters.", valueName: "list"))
    var windowsExceptions: String?

    @Option(name: .long, help: "Most probes in flight in total.")
    var concurrency = 64

    @Option(name: .customLong("per-proxy"), help: "Most probes in flight through one proxy address.")
    var perProxy = 8

    @Option(name: .long, help: "Whole-probe timeout in seconds.")
    var timeout: Double = 10

    @Option(name: .customLong("connect-timeout"), help: "Timeout for reaching the proxy, in seconds (default: 5, or --timeout if shorter).")
    var connectTimeout: Double?

    @Option(name: .customLong("ca-bundle"), help: ArgumentHelp("Trust anchors for the targets' certificates instead of the system store.", valueName: "file"))
    var caBundle: String?

    @Option(name: .long, help: ArgumentHelp("Your tenant name, substituted for <tenant> in list entries.", valueName: "name"))
    var tenant: String?

    @Option(name: .long, help: ArgumentHelp("Report format, repeatable: json, md, html, junit, csv, prometheus (default: json, md, html).", valueName: "format"))
    var format: [String] = []

    @Option(name: .long, help: ArgumentHelp("Folder for the reports.", valueName: "dir"))
    var output = "proxyvet-report"

    @Flag(name: .long, help: "Print nothing but errors.")
    var quiet = false

    @Option(name: .long, help: ArgumentHelp("Record the run in this SQLite history; reports then show what changed since the previous run.", valueName: "file"))
    var history: String?

    @Option(name: .customLong("history-timeout"), help: ArgumentHelp("Seconds to wait while another run writes to the history before giving up (exit code 3).", valueName: "seconds"))
    var historyTimeout: Double = 30

    @Option(name: .long, help: ArgumentHelp("Also compare with this run of the history (its number, or latest/previous), e.g. the pre-rollout run. Needs --history.", valueName: "run"))
    var baseline: String?

    @Option(name: .customLong("push-gateway"), help: ArgumentHelp("Also push the metrics to this Prometheus Pushgateway (PUT URL/metrics/job/proxyvet/instance/HOSTNAME), direct.", valueName: "url"))
    var pushGateway: String?

    @Option(name: .long, help: ArgumentHelp("Also keep a copy of each run's reports in DIR/archive/, the newest N.", valueName: "n"))
    var keep: Int?

    func validate() throws {
        guard !lists.isEmpty else { throw ValidationError("Name at least one allow list, e.g. AllowLists/managed-desktop.yaml.") }
        guard !proxy.isEmpty || config != nil || direct || windowsProxy != nil || routing.pac != nil else {
            throw ValidationError("Name at least one route: --proxy NAME=URL, --config FILE, --pac FILE|URL, --direct or --windows-proxy HOST:PORT.")
        }
        try validatePlanOptions()
        if windowsExceptions != nil, windowsProxy == nil, config == nil {
            throw ValidationError("--windows-exceptions needs the proxy they are exceptions to: give --windows-proxy HOST:PORT or a config with windows:.")
        }
        guard concurrency >= 1, concurrency <= 1024 else { throw ValidationError("--concurrency must be between 1 and 1024.") }
        guard perProxy >= 1, perProxy <= 256 else { throw ValidationError("--per-proxy must be between 1 and 256.") }
        guard timeout > 0, timeout <= 300 else { throw ValidationError("--timeout must be more than 0 and at most 300 seconds.") }
        if let connectTimeout, connectTimeout <= 0 || connectTimeout > timeout { throw ValidationError("--connect-timeout must be more than 0 and at most --timeout.") }
        for name in format where ReportFormat(rawValue: name) == nil {
            throw ValidationError("Unknown --format \(name) (json, md, html, junit, csv, prometheus).")
        }
        if baseline != nil, history == nil { throw ValidationError("--baseline names a run of the history: give --history FILE too.") }
        guard historyTimeout >= 0, historyTimeout <= 3600 else { throw ValidationError("--history-timeout must be between 0 and 3600 seconds.") }
        if let keep, keep < 1 || keep > 10_000 { throw ValidationError("--keep must be between 1 and 10000.") }
        if let pushGateway, let problem = PushGateway.validate(pushGateway) { throw ValidationError(problem) }
        if let tenant, tenant.isEmpty || AllowListLoader.hostProblem(tenant) != nil || tenant.contains(".") || tenant.contains("*") {
            throw ValidationError("--tenant takes your tenant's name as in NAME.onmicrosoft.com.")
        }
    }

    func run() throws {
        if plan { return try showPlan() }
        var routeConfig = try config.map { try RouteConfig.load(file: $0) } ?? RouteConfig()
        try routeConfig.apply(proxyFlags: proxy, credentialFlags: proxyCredentials, direct: direct)
        try routeConfig.apply(windowsProxy: windowsProxy, windowsExceptions: windowsExceptions)
        try routing.apply(to: &routeConfig, configFile: config)
        let routes = routeConfig.allRoutes
        // A PAC file or the Windows proxy setting is a complete route description: their answers are the routes.
        guard !routes.isEmpty || routeConfig.windows != nil || routeConfig.pac != nil else {
            throw InputError(file: config, "no routes: the config declares no proxies, no pac: and no windows: setting")
        }
        if let caBundle, !FileManager.default.isReadableFile(atPath: caBundle) {
            throw InputError(file: caBundle, "--ca-bundle cannot be read")
        }
        let allowLists = try AllowListLoader.load(files: lists)
        // The history is opened (and a baseline looked up) before probing: a wrong file or run stops here.
        let store = try history.map { file in try Self.history { try HistoryStore(path: file, busyTimeout: historyTimeout) } }
        let baselineRun = try baseline.flatMap { reference in try store.map { store in try Self.history { try store.resolve(reference) } } }

        var settings = ProbeSettings()
        settings.concurrency = concurrency
        settings.perProxy = perProxy
        settings.timeout = timeout
        settings.connectTimeout = connectTimeout ?? min(5, timeout)
        settings.caBundle = caBundle
        let runner = CheckRunner(lists: allowLists, config: routeConfig, settings: settings, tenant: tenant)
        let showProgress = !quiet && isatty(STDERR_FILENO) == 1
        let started = Date()
        var report = try runner.run(progress: showProgress ? { progress in
            guard progress.done == progress.total || progress.done % 25 == 0 else { return }
            FileHandle.standardError.write(Data(Self.progressLine(progress, elapsed: Date().timeIntervalSince(started)).utf8))
        } : nil)
        // From here on a failure means the run could not complete (exit code 3), but everything that can still be
        // written is: the findings are not lost because the history was locked or the Pushgateway was down.
        var incomplete: [String] = []
        if let store {
            do {
                let run = try store.record(report, baseline: baselineRun)
                let current = RunSnapshot(report: report, run: run)
                let previousRun = try store.previousRun(before: run)
                let previous = try previousRun.map { RunDiff.compare(try store.snapshot(run: $0), current) }
                // A baseline that is the previous run (e.g. --baseline latest) is not read and compared twice.
                let pinned = try baselineRun.map { $0 == previousRun ? previous : RunDiff.compare(try store.snapshot(run: $0), current) } ?? nil
                report.changes = RunChanges(run: run, sincePrevious: previous, sinceBaseline: pinned)
            } catch {
                incomplete.append("\(error)")
            }
        }
        let formats = format.isEmpty ? ReportFormat.defaults : format.compactMap(ReportFormat.init(rawValue:))
        var written: [String] = []
        do {
            written = try ReportWriter.write(report, formats: formats, to: output)
            if let keep { _ = try ReportArchive.archive(files: written, generatedAt: report.generatedAt, run: report.changes?.run, in: output, keep: keep) }
        } catch {
            incomplete.append("\(error)")
        }
        if let pushGateway {
            let url = PushGateway.groupURL(base: pushGateway, instance: ProcessInfo.processInfo.hostName)
            do { try PushGateway.push(PrometheusReport.render(report), to: url) } catch { incomplete.append("\(error)") }
        }
        if !quiet {
            print(ConsoleSummary.render(report))
            if let changes = report.changes {
                print("")
                print("History run \(changes.run) (\(history ?? "")):" + (changes.sincePrevious == nil && changes.sinceBaseline == nil ? " the first run recorded" : ""))
                if let previous = changes.sincePrevious {
                    previous.lines(title: "since the previous run", limit: ConsoleSummary.examplesPerGroup * 2).forEach { print("  " + $0) }
                }
                if let baseline = changes.sinceBaseline {
                    if baseline.against.run == changes.sincePrevious?.against.run {
                        print("  the baseline is the previous run")
                    } else {
                        baseline.lines(title: "since the baseline", limit: ConsoleSummary.examplesPerGroup * 2).forEach { print("  " + $0) }
                    }
                }
            }
            print("")
            print("Reports: " + (written.isEmpty ? "none written" : written.joined(separator: ", ")))
        }
        if !incomplete.isEmpty {
            FileHandle.standardError.write(Data(incomplete.map { "proxyvet: \($0)\n" }.joined().utf8))
            throw ExitCode(3)
        }
        if !report.ready { throw ExitCode(1) }
    }

    /// The progress line on a terminal: rewritten in place, ended by a newline when the last probe is done.
    static func progressLine(_ progress: CheckRunner.Progress, elapsed: TimeInterval) -> String {
        "\rprobes \(progress.done)/\(progress.total), \(progress.failures) not allowed so far, \(Int(elapsed)) s"
            + (progress.done == progress.total ? "\n" : "")
    }

    /// Runs a history operation before probing: a wrong file or run is the user's to fix (exit code 2), a locked
    /// or unwritable history means the run cannot complete (exit code 3).
    static func history<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as HistoryError {
            FileHandle.standardError.write(Data("proxyvet: \(error)\n".utf8))
            throw ExitCode(error.isInputError ? 2 : 3)
        }
    }
}
