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
        Exit codes: 0 ready, 1 findings, 2 usage, config or allow-list error.
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

    @Option(name: .long, help: ArgumentHelp("Report format, repeatable: json, md, html (default: all three).", valueName: "format"))
    var format: [String] = []

    @Option(name: .long, help: ArgumentHelp("Folder for the reports.", valueName: "dir"))
    var output = "proxyvet-report"

    @Flag(name: .long, help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        guard !lists.isEmpty else { throw ValidationError("Name at least one allow list, e.g. AllowLists/managed-desktop.yaml.") }
        guard !proxy.isEmpty || config != nil || direct else {
            throw ValidationError("Name at least one route: --proxy NAME=URL, --config FILE or --direct.")
        }
        guard concurrency >= 1, concurrency <= 1024 else { throw ValidationError("--concurrency must be between 1 and 1024.") }
        guard perProxy >= 1, perProxy <= 256 else { throw ValidationError("--per-proxy must be between 1 and 256.") }
        guard timeout > 0, timeout <= 300 else { throw ValidationError("--timeout must be more than 0 and at most 300 seconds.") }
        if let connectTimeout, connectTimeout <= 0 || connectTimeout > timeout { throw ValidationError("--connect-timeout must be more than 0 and at most --timeout.") }
        for name in format where ReportFormat(rawValue: name) == nil {
            throw ValidationError("Unknown --format \(name) (json, md, html).")
        }
        if let tenant, tenant.isEmpty || AllowListLoader.hostProblem(tenant) != nil || tenant.contains(".") || tenant.contains("*") {
            throw ValidationError("--tenant takes your tenant's name as in NAME.onmicrosoft.com.")
        }
    }

    func run() throws {
        var routeConfig = try config.map { try RouteConfig.load(file: $0) } ?? RouteConfig()
        try routeConfig.apply(proxyFlags: proxy, credentialFlags: proxyCredentials, direct: direct)
        let routes = routeConfig.allRoutes
        guard !routes.isEmpty else { throw InputError(file: config, "no routes: the config declares no proxies") }
        if let caBundle, !FileManager.default.isReadableFile(atPath: caBundle) {
            throw InputError(file: caBundle, "--ca-bundle cannot be read")
        }
        let allowLists = try AllowListLoader.load(files: lists)

        var settings = ProbeSettings()
        settings.concurrency = concurrency
        settings.perProxy = perProxy
        settings.timeout = timeout
        settings.connectTimeout = connectTimeout ?? min(5, timeout)
        settings.caBundle = caBundle
        let runner = CheckRunner(lists: allowLists, config: routeConfig, settings: settings, tenant: tenant)
        let showProgress = !quiet && isatty(STDERR_FILENO) == 1
        let report = try runner.run { done, total in
            guard showProgress, done == total || done % 25 == 0 else { return }
            FileHandle.standardError.write(Data("\rprobes \(done)/\(total)".utf8) + (done == total ? Data("\n".utf8) : Data()))
        }
        let formats = format.isEmpty ? ReportFormat.allCases : format.compactMap(ReportFormat.init(rawValue:))
        let written = try ReportWriter.write(report, formats: formats, to: output)
        if !quiet {
            print(ConsoleSummary.render(report))
            print("")
            print("Reports: " + written.joined(separator: ", "))
        }
        if !report.ready { throw ExitCode(1) }
    }
}
