import ArgumentParser
import Foundation
import ProxyVetKit

/// `proxyvet route`: where devices send each endpoint of the lists, per site, without probing.
struct RouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Show where devices send each endpoint of the allow lists (PAC, Windows setting, default route or proxy variables), per site, without probing.",
        discussion: """
        The routing comes from --pac or the config (pac:, windows:, default:, environment: true); without any, from this \
        shell's HTTPS_PROXY, HTTP_PROXY and NO_PROXY, and without those every endpoint goes DIRECT. The output says which.
        A PAC is evaluated once per --client-ip (what its myIpAddress() returns), one column a site, and answers as \
        pactester does for the same PAC, URL and client address. Proxies in the answers are matched to the config's \
        proxies by host and port; one the config does not declare shows as "not configured: PROXY host:port".
        Nothing is probed; a PAC at an http(s) URL is fetched, direct.
        Exit codes: 0 shown, 2 usage, config, allow-list or PAC error.
        """
    )

    @Argument(help: ArgumentHelp("Allow lists (YAML or one URL/host per line).", valueName: "list"))
    var lists: [String] = []

    @Option(name: .long, help: ArgumentHelp("A YAML config declaring proxies and how devices route (pac:, windows:, default:, environment:).", valueName: "file"))
    var config: String?

    @OptionGroup var routing: RoutingOptions

    @Option(name: .long, help: ArgumentHelp("Your tenant name, substituted for <tenant> in list entries.", valueName: "name"))
    var tenant: String?

    @Option(name: .long, help: ArgumentHelp("Output format: text (an aligned table), json or md.", valueName: "format"))
    var format = "text"

    func validate() throws {
        guard !lists.isEmpty else { throw ValidationError("Name at least one allow list, e.g. AllowLists/managed-desktop.yaml.") }
        guard RouteFormat(rawValue: format) != nil else { throw ValidationError("Unknown --format \(format) (text, json, md).") }
        try validateTenant(tenant)
    }

    func run() throws {
        var routeConfig = try config.map { try RouteConfig.load(file: $0) } ?? RouteConfig()
        // Each site's client address is set per evaluation by RoutePlan.
        try routeConfig.apply(pac: routing.pac, configFile: config)
        let allowLists = try AllowListLoader.load(files: lists)
        let plan = try RoutePlan(lists: allowLists, config: routeConfig, clientAddresses: try routing.clientAddresses(), tenant: tenant,
                                 environment: ProcessInfo.processInfo.environment)
        print(try plan.render(RouteFormat(rawValue: format) ?? .text), terminator: "")
    }
}
