import Foundation

/// The routes a check is given, as the command line names them: a config file, then `--proxy`, `--proxy-credentials`,
/// `--direct`, the Windows proxy setting, `--pac` and `--client-ip` applied on top of it.
public struct RouteInput: Sendable, Equatable {
    /// A YAML config declaring proxies, chains, groups and device routing.
    public var configFile: String?
    /// `--proxy` values: `NAME=URL`, or a URL alone (the route is then named after the proxy's `host:port`).
    public var proxies: [String]
    /// `--proxy-credentials` values: `NAME=FILE`.
    public var credentials: [String]
    /// Also probe without a proxy.
    public var direct: Bool
    /// `--windows-proxy HOST:PORT` and `--windows-exceptions "…;…"`.
    public var windowsProxy: String?
    public var windowsExceptions: String?
    /// `--pac FILE|URL`: the PAC devices use (the same as the config's `pac:`, not both).
    public var pac: String?
    /// `--client-ip`: what the PAC's `myIpAddress()` returns, the site the check runs for.
    public var clientAddress: ClientAddress?

    public init(configFile: String? = nil, proxies: [String] = [], credentials: [String] = [], direct: Bool = false,
                windowsProxy: String? = nil, windowsExceptions: String? = nil, pac: String? = nil, clientAddress: ClientAddress? = nil) {
        self.configFile = configFile; self.proxies = proxies; self.credentials = credentials; self.direct = direct
        self.windowsProxy = windowsProxy; self.windowsExceptions = windowsExceptions; self.pac = pac; self.clientAddress = clientAddress
    }

    /// True when nothing names a route: no config, no proxy, no direct route, no Windows proxy setting and no PAC.
    public var isEmpty: Bool { configFile == nil && proxies.isEmpty && !direct && windowsProxy == nil && pac == nil }

    /// Reads the config (if any) and applies the route flags on top of it. Throws when no route results: a PAC file or the
    /// Windows proxy setting is a complete route description on its own (their answers are the routes).
    public func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RouteConfig {
        guard !isEmpty else { throw InputError(Self.missingRouteMessage(environment: environment)) }
        var config = try configFile.map { try RouteConfig.load(file: $0, environment: environment) } ?? RouteConfig()
        try config.apply(proxyFlags: proxies, credentialFlags: credentials, direct: direct)
        try config.apply(windowsProxy: windowsProxy, windowsExceptions: windowsExceptions)
        try config.apply(pac: pac, configFile: configFile)
        if let clientAddress {
            // The address only changes what a PAC answers: without one it would be taken and silently ignored.
            guard config.pac != nil else {
                throw InputError(file: configFile, "--client-ip \(clientAddress) is what the PAC's myIpAddress() returns, but no PAC is given: add --pac FILE|URL or pac: in the config")
            }
            config.clientAddress = clientAddress
        }
        guard !config.allRoutes.isEmpty || config.windows != nil || config.pac != nil else {
            throw InputError(file: configFile, "no routes: the config declares no proxies, no pac: and no windows: setting")
        }
        return config
    }

    /// The proxy variables curl and most tools read, in the order they are named.
    static let proxyVariables = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]

    /// What to say when no route is given. When the shell sets HTTPS_PROXY or HTTP_PROXY (in either case), it names
    /// them and how to check the proxies they name, without the credentials a URL may carry.
    public static func missingRouteMessage(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let message = "Name at least one route: --proxy NAME=URL (or --proxy URL), --config FILE, --direct, --windows-proxy HOST:PORT or --pac FILE|URL."
        let set = proxyVariables.compactMap { name in
            environment[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : (name: name, value: $0) }
        }
        guard !set.isEmpty else { return message }
        // One suggestion per proxy address: two --proxy URL flags with the same host:port would name one route twice.
        var suggestions: [String] = []
        var seen: Set<String> = []
        for (name, value) in set {
            let url = value.contains("://") ? value : "http://" + value
            guard let route = try? Route.parse(name: name, url: withoutCredentials(url)), let address = route.address,
                  seen.insert(address).inserted else { continue }
            if withoutCredentials(url) != url {
                suggestions.append("--proxy \(route.proxyURL ?? url) --proxy-credentials \(address)=FILE "
                                   + "(a file holding user:password: ProxyVet takes no credentials from a URL)")
            } else {
                suggestions.append(value.contains("://") ? "--proxy \"$\(name)\"" : "--proxy \(url)")
            }
        }
        let names = set.map { "\($0.name)=\(withoutCredentials($0.value))" }
        return message + "\nThe environment sets \(names.joined(separator: ", ")), which ProxyVet does not read unless told to. "
            + (suggestions.isEmpty ? "Give the proxy as --proxy URL" : "To check \(seen.count == 1 ? "that proxy" : "those proxies"): " + suggestions.joined(separator: "; "))
            + "; or a config with environment: true, to route each endpoint as devices that use these variables do."
    }

    /// A URL with its user information removed (`http://user:pass@host:3128` → `http://host:3128`).
    static func withoutCredentials(_ url: String) -> String {
        let start = url.range(of: "://").map(\.upperBound) ?? url.startIndex
        let authorityEnd = url[start...].firstIndex(of: "/") ?? url.endIndex
        guard let at = url[start..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<start]) + String(url[url.index(after: at)...])
    }
}
