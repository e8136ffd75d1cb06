import Foundation

/// Where devices send each endpoint of the lists, per site, without probing anything: `proxyvet route`.
///
/// The answer comes from the routing the config (or `--pac`) declares: the PAC, Windows' proxy setting, the default
/// route or the environment. Without any, from this shell's proxy variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), and
/// without those, DIRECT; `source` says which. A PAC is evaluated once per site, with `myIpAddress()` returning the
/// site's client address, so a PAC that branches on `isInNet(myIpAddress(), …)` gives each site its column.
public struct RoutePlan: Codable, Sendable, Equatable {
    /// The version of this JSON document (docs/route-schema.md).
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// What decided the answers.
    public var source: Source
    /// The client addresses (`myIpAddress()`) evaluated, one column each, in the order given.
    public var sites: [String]
    /// The lists the endpoints come from.
    public var lists: [ListRef]
    /// The configured routes the answers are matched to (by proxy host and port).
    public var routes: [RouteRef]
    /// Every endpoint the lists plan, in list order, with one answer per site.
    public var endpoints: [EndpointRoutes]
    /// List entries that could not become endpoints (e.g. `<tenant>` without `--tenant`), with the reason.
    public var skipped: [SkippedEntry]

    /// What decided where devices send endpoints.
    public struct Source: Codable, Sendable, Equatable {
        /// `pac`, `windows`, `default`, `environment` (the config's `environment: true`), `environmentVariables`
        /// (nothing declared; this shell's proxy variables) or `none` (nothing declared, no variables: DIRECT).
        public var kind: String
        /// The PAC's location, for `pac`.
        public var pac: String?
        /// In words, for people.
        public var description: String
    }

    /// A list, named.
    public struct ListRef: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var file: String
    }

    /// A configured route answers are matched to.
    public struct RouteRef: Codable, Sendable, Equatable {
        public var name: String
        /// `scheme://host:port`; absent for direct.
        public var proxy: String?
    }

    /// One endpoint and where each site sends it.
    public struct EndpointRoutes: Codable, Sendable, Equatable {
        public var url: String
        public var host: String
        public var required: Bool
        public var services: [String]
        /// One per site, in the order of `sites`.
        public var sites: [SiteRoute]
    }

    /// Where one site sends one endpoint.
    public struct SiteRoute: Codable, Sendable, Equatable {
        /// The client address (`myIpAddress()`) of the site.
        public var site: String
        /// The answer as the source gave it: the PAC's (`PROXY a:8080; DIRECT`), `proxy HOST:PORT` or
        /// `exception ENTRY: DIRECT` (Windows), `default route: NAME`, `HTTPS_PROXY: PROXY a:8080`, `DIRECT`.
        public var answer: String
        /// The alternatives in the order devices try them, each matched to a configured route.
        public var alternatives: [Alternative]
    }

    /// One alternative of an answer and the configured route it maps to.
    public struct Alternative: Codable, Sendable, Equatable {
        /// `PROXY host:port`, `HTTPS host:port`, `SOCKS host:port` or `DIRECT`.
        public var answer: String
        /// The configured route with that proxy address (`direct` for DIRECT); absent when the config declares none.
        public var route: String?
        /// False for a proxy the config does not declare.
        public var configured: Bool

        /// How a cell shows it: the route's name, `DIRECT`, or `not configured: PROXY host:port`.
        public var label: String {
            if answer == "DIRECT" { return "DIRECT" }
            return route ?? "not configured: \(answer)"
        }
    }

    /// Plans the routes of `lists` for each client address: nothing is probed (a PAC at an http(s) URL is fetched).
    /// Throws an input error for a PAC that cannot be loaded or evaluated, or a proxy variable that is not a proxy.
    public init(lists: [AllowList], config: RouteConfig, clientAddresses: [ClientAddress], tenant: String?,
                environment: [String: String]) throws {
        let plan = TargetPlanner(tenant: tenant).plan(lists)
        let configured = config.allRoutes
        let sites = clientAddresses.isEmpty ? [ClientAddress.loopback] : clientAddresses
        var config = config
        // Nothing declared: devices take this shell's proxy variables, as curl and most tools do, or go DIRECT.
        let declared = config.windows != nil || config.pac != nil || config.defaultRoute != nil || config.useEnvironment
        let variables = ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"].filter { environment[$0].map { !$0.isEmpty } ?? false }
        if !declared, !variables.isEmpty { config.useEnvironment = true }
        // The PAC is loaded (fetched) once and evaluated once per site; the Windows setting takes precedence over it.
        let script = config.windows == nil ? try config.pac.map(PACScript.load) : nil
        var columns: [[String: SiteRoute]] = []
        for site in sites {
            config.clientAddress = site
            let routing = try DeviceRouting.resolve(config: config, targets: plan.targets, routes: configured,
                                                    environment: environment, script: script)
            var column: [String: SiteRoute] = [:]
            for target in plan.targets {
                guard let routing, let choice = routing.choices[target.url] else {
                    column[target.url] = SiteRoute(site: site.text, answer: "DIRECT",
                                                   alternatives: [Alternative(answer: "DIRECT", route: Route.direct.name, configured: true)])
                    continue
                }
                let alternatives = choice.routes.map { name in
                    Self.alternative(named: name, configured: configured, extra: routing.extraRoutes)
                }
                column[target.url] = SiteRoute(site: site.text, answer: choice.answer, alternatives: alternatives)
            }
            columns.append(column)
        }
        schemaVersion = Self.currentSchemaVersion
        source = Self.source(config: config, declared: declared, variables: variables)
        self.sites = sites.map(\.text)
        self.lists = lists.map { ListRef(id: $0.id, name: $0.name, file: $0.file) }
        routes = configured.map { RouteRef(name: $0.name, proxy: $0.proxyURL) }
        endpoints = plan.targets.map { target in
            EndpointRoutes(url: target.url, host: target.host, required: target.required, services: target.services,
                           sites: columns.compactMap { $0[target.url] })
        }
        skipped = plan.skipped
    }

    /// The alternative a route name of the device routing stands for.
    private static func alternative(named name: String, configured: [Route], extra: [Route]) -> Alternative {
        if let route = configured.first(where: { $0.name == name }) {
            return Alternative(answer: answerText(route), route: route.name, configured: true)
        }
        let route = extra.first { $0.name == name }
        if route == nil || route?.kind == .direct {
            return Alternative(answer: "DIRECT", route: Route.direct.name, configured: true)
        }
        return Alternative(answer: route.map(answerText) ?? name, route: nil, configured: false)
    }

    /// The PAC text of a route's proxy: `PROXY host:port`, `HTTPS host:port`, `SOCKS host:port` or `DIRECT`.
    private static func answerText(_ route: Route) -> String {
        guard let host = route.proxyHost, let port = route.proxyPort else { return "DIRECT" }
        switch route.kind {
        case .http: return PACAlternative.proxy(host: host, port: port).description
        case .https: return PACAlternative.https(host: host, port: port).description
        case .socks5, .socks5h: return PACAlternative.socks(host: host, port: port).description
        case .direct: return "DIRECT"
        }
    }

    /// What decided the answers, in words.
    private static func source(config: RouteConfig, declared: Bool, variables: [String]) -> Source {
        if let windows = config.windows {
            let count = windows.exceptions.entries.count
            return Source(kind: "windows", pac: nil,
                          description: "the Windows proxy setting: proxy \(windows.proxy), \(count) exception\(count == 1 ? "" : "s")")
        }
        if let pac = config.pac { return Source(kind: "pac", pac: pac, description: "the PAC \(pac)") }
        if let name = config.defaultRoute { return Source(kind: "default", pac: nil, description: "the config's default route \(name)") }
        if declared {
            return Source(kind: "environment", pac: nil, description: "the proxy variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), as the config's environment: true says")
        }
        if !variables.isEmpty {
            return Source(kind: "environmentVariables", pac: nil,
                          description: "this shell's proxy variables (\(variables.joined(separator: ", "))): no PAC, Windows setting or default route is declared")
        }
        return Source(kind: "none", pac: nil,
                      description: "nothing: no PAC, Windows setting, default route or proxy variable, so devices go DIRECT")
    }
}
