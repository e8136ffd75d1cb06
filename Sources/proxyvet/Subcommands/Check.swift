import ArgumentParser
import Foundation
import ProxyVetKit

/// `proxyvet check`: probe every endpoint of the lists through every route and report.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe every endpoint of the allow lists through every route, classify each outcome and write reports.",
        discussion: """
        Lists are ProxyVet YAML allow lists (see AllowLists/; installed ones by name, e.g. managed-desktop) or plain files with one URL or host name per line. \
        Routes come from --proxy, --config, --direct and --windows-proxy; --proxy URL without a name names the route after \
        the proxy's host and port. Credentials come from files or environment variables, never the command line.

        With --history FILE every run is recorded in SQLite and the reports say what changed since the previous run \
        (and since --baseline RUN); --keep N also keeps each run's reports in DIR/archive/; --push-gateway URL pushes the \
        metrics to a Prometheus Pushgateway.

        Exit codes: 0 ready, 1 findings, 2 usage, config or allow-list error, 3 the run could not complete \
        (history locked past its timeout, reports or history not writable, push failed).
        """
    )

    @Argument(help: ArgumentHelp("Allow lists to check: files (YAML, or one URL/host per line) or installed lists by name (managed-desktop).", valueName: "list"))
    var lists: [String] = []

    @Option(name: .long, help: ArgumentHelp("A proxy route, repeatable: NAME=URL, or URL alone for a route named HOST:PORT; http://, https:// or socks5h:// (no credentials in the URL).", valueName: "[name=]url"))
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
        guard !RouteInput(configFile: config, proxies: proxy, direct: direct, windowsProxy: windowsProxy, pac: routing.pac).isEmpty else {
            throw ValidationError(RouteInput.missingRouteMessage())
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
        try validateTenant(tenant)
    }

    func run() throws {
        if plan { return try showPlan() }
        var settings = ProbeSettings()
        settings.concurrency = concurrency
        settings.perProxy = perProxy
        settings.timeout = timeout
        settings.connectTimeout = connectTimeout ?? min(5, timeout)
        settings.caBundle = caBundle
        var check = CheckRun(lists: lists, routes: try routeInput(), settings: settings, tenant: tenant)
        check.historyFile = history
        check.historyTimeout = historyTimeout
        check.baseline = baseline
        check.formats = format.isEmpty ? ReportFormat.defaults : format.compactMap(ReportFormat.init(rawValue:))
        check.outputDirectory = output
        check.keep = keep
        check.pushGateway = pushGateway

        let showProgress = !quiet && isatty(STDERR_FILENO) == 1
        let started = Date()
        let outcome = try check.run(progress: showProgress ? { progress in
            guard progress.done == progress.total || progress.done % 25 == 0 else { return }
            FileHandle.standardError.write(Data(Self.progressLine(progress, elapsed: Date().timeIntervalSince(started)).utf8))
        } : nil)
        if !quiet {
            print(ConsoleSummary.render(outcome.report))
            let history = outcome.historyLines()
            if !history.isEmpty { print("\n" + history.joined(separator: "\n")) }
            print("")
            print("Reports: " + (outcome.written.isEmpty ? "none written" : outcome.written.joined(separator: ", ")))
        }
        FileHandle.standardError.write(Data(outcome.problems.map { "proxyvet: \($0)\n" }.joined().utf8))
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }

    /// The progress line on a terminal: rewritten in place, ended by a newline when the last probe is done.
    static func progressLine(_ progress: CheckRunner.Progress, elapsed: TimeInterval) -> String {
        "\rprobes \(progress.done)/\(progress.total), \(progress.failures) not allowed so far, \(Int(elapsed)) s"
            + (progress.done == progress.total ? "\n" : "")
    }
}
