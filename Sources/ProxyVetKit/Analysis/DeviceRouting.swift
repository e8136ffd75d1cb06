import Foundation

/// Where a device sends each target: Windows' proxy setting (MMD, Intune), the PAC file's answer, the declared default
/// route, or the environment's proxy.
public struct DeviceRouting: Sendable {
    /// What decides the device's route.
    public enum Source: String, Codable, Sendable { case pac, defaultRoute = "default", environment, windows }

    /// The alternatives for one target, in the order a device tries them.
    public struct Choice: Codable, Sendable, Equatable {
        /// The PAC's answer as returned (`PROXY a:8080; DIRECT`), or a description of the default/environment route.
        public var answer: String
        /// Route names, in order.
        public var routes: [String]
        /// The Windows proxy exception that sends the target DIRECT, as written.
        public var exception: String? = nil
    }

    public var source: Source
    /// The PAC location, for reports.
    public var pacSource: String?
    /// Target URL → choice.
    public var choices: [String: Choice]
    /// Routes made for PAC or environment answers that the config does not know (an address, or DIRECT).
    public var extraRoutes: [Route]
    /// The Windows proxy setting, when it is the source.
    public var windows: WindowsProxySetting? = nil

    /// Every route some device uses.
    public var deviceRoutes: Set<String> { Set(choices.values.flatMap(\.routes)) }

    /// Resolves the device routing for `targets`, matching named proxies to configured routes by host and port.
    /// A PAC already loaded (`script`) is evaluated instead of loading `config.pac` again, with `config.clientAddress`.
    public static func resolve(config: RouteConfig, targets: [ProbeTarget], routes: [Route],
                               environment: [String: String], script: PACScript? = nil) throws -> DeviceRouting? {
        // The Windows setting first: in the config it stands alone, and --windows-proxy replaces the config's routing.
        if let windows = config.windows {
            var routing = DeviceRouting(source: .windows, choices: [:], extraRoutes: [], windows: windows)
            for target in targets {
                // A manual proxy has no failover: the proxy, or DIRECT for an exception, and nothing else.
                if let exception = windows.exceptions.match(scheme: target.scheme, host: target.host, port: target.port) {
                    let direct = routing.routeName(for: .direct, routes: routes, origin: .windows)
                    routing.choices[target.url] = Choice(answer: "exception \(exception.text): DIRECT", routes: [direct], exception: exception.text)
                } else {
                    let proxy = routing.routeName(for: windows.alternative, routes: routes, origin: .windows)
                    routing.choices[target.url] = Choice(answer: "proxy \(windows.proxy)", routes: [proxy])
                }
            }
            return routing
        }
        if let pac = config.pac {
            let script = try script ?? PACScript.load(pac)
            let answers = try script.evaluate(targets.map { (url: $0.url, host: $0.host) }, clientAddress: config.clientAddress)
            var routing = DeviceRouting(source: .pac, pacSource: pac, choices: [:], extraRoutes: [])
            for (target, answer) in zip(targets, answers) {
                let names = answer.alternatives.map { routing.routeName(for: $0, routes: routes) }
                routing.choices[target.url] = Choice(answer: answer.text, routes: names)
            }
            return routing
        }
        if let name = config.defaultRoute {
            if name == "direct" {
                var routing = DeviceRouting(source: .defaultRoute, choices: [:], extraRoutes: [])
                let direct = routing.routeName(for: .direct, routes: routes)
                for target in targets { routing.choices[target.url] = Choice(answer: "default route: DIRECT", routes: [direct]) }
                return routing
            }
            return DeviceRouting(source: .defaultRoute, choices: Dictionary(uniqueKeysWithValues: targets.map {
                ($0.url, Choice(answer: "default route: \(name)", routes: [name]))
            }), extraRoutes: [])
        }
        if config.useEnvironment {
            var routing = DeviceRouting(source: .environment, choices: [:], extraRoutes: [])
            let noProxy = (environment["NO_PROXY"] ?? environment["no_proxy"] ?? "")
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
            for target in targets {
                let variable = target.scheme == "https" ? "HTTPS_PROXY" : "HTTP_PROXY"
                let value = environment[variable] ?? environment[variable.lowercased()]
                let bypass = noProxy.contains { entry in
                    entry == "*" || target.host == entry.trimmingCharacters(in: CharacterSet(charactersIn: "."))
                        || target.host.hasSuffix(entry.hasPrefix(".") ? entry : "." + entry)
                }
                let alternative: PACAlternative
                if bypass || value == nil || value?.isEmpty == true {
                    alternative = .direct
                } else if let value, let route = try? Route.parse(name: "env", url: value.contains("://") ? value : "http://" + value),
                          let host = route.proxyHost, let port = route.proxyPort {
                    alternative = route.kind == .https ? .https(host: host, port: port) : .proxy(host: host, port: port)
                } else {
                    throw InputError("\(variable)=\(value ?? ""): not a proxy URL")
                }
                let name = routing.routeName(for: alternative, routes: routes)
                routing.choices[target.url] = Choice(answer: bypass ? "NO_PROXY: DIRECT" : "\(variable): \(alternative)", routes: [name])
            }
            return routing
        }
        return nil
    }

    /// The configured route for a PAC alternative (same proxy address, first declared), or a new route named after it.
    mutating func routeName(for alternative: PACAlternative, routes: [Route], origin: RouteOrigin = .pac) -> String {
        guard let url = alternative.proxyURL else {
            if let direct = routes.first(where: { $0.kind == .direct }) { return direct.name }
            if !extraRoutes.contains(where: { $0.kind == .direct }) {
                var direct = Route.direct
                direct.origin = origin
                extraRoutes.append(direct)
            }
            return Route.direct.name
        }
        guard let parsed = try? Route.parse(name: "pac", url: url) else { return alternative.description }
        if let match = routes.first(where: { $0.proxyHost == parsed.proxyHost && $0.proxyPort == parsed.proxyPort && $0.kind == parsed.kind }) {
            return match.name
        }
        let name = "\(parsed.proxyHost ?? "?"):\(parsed.proxyPort ?? 0)"
        if !extraRoutes.contains(where: { $0.name == name }) {
            var route = parsed
            route.name = name
            route.origin = origin
            extraRoutes.append(route)
        }
        return name
    }
}
