import Foundation

/// The routes a check probes and how they fit together, from a config file and the command line.
///
/// Config shape (version 1):
/// ```yaml
/// version: 1
/// proxies:
///   edge:    { url: "http://proxy1.corp.example:3128" }
///   auth:    { url: "http://proxy2.corp.example:8080", credentials: { username: svc-probe, passwordEnv: PROXY_PASS } }
///   vault:   { url: "https://proxy3.corp.example:8443", caBundle: /etc/ssl/corp-proxy-ca.pem, credentials: { file: /etc/proxyvet/vault.cred } }
///   kerb:    { url: "http://proxy4.corp.example:8080", credentials: { negotiate: true } }   # Kerberos ticket of this account
///   branch:  { url: "http://10.1.0.1:3128", upstream: parent, via: [branch1.corp.example] }
///   parent:  { url: "http://10.0.0.2:3128" }
/// groups:
///   egress-pair: [edge, edge2]
/// pac: "http://wpad.corp.example/proxy.pac"   # or a file path
/// default: edge                                 # the route devices use when there is no PAC
/// environment: false                            # true: devices use HTTPS_PROXY / HTTP_PROXY / NO_PROXY
/// windows: { proxy: "proxy1.corp.example:3128", exceptions: "*.contoso.com;<local>" }   # MMD/Intune's proxy setting (instead of pac/default/environment)
/// expectedIssuers: ["Microsoft*", "DigiCert*"]  # CAs expected to issue the services' certificates
/// resolve: ["host:443:127.0.0.1"]               # pinned addresses for direct probes (like curl --resolve)
/// trustAnchors: [corp-root.pem]                 # CAs trusted in addition to the system store (or --ca-bundle)
/// blockPages:                                   # the organisation's own block pages, tried before the bundled signatures
///   - id: corp-deny                             # names the rule in reasons ("Configured block page "corp-deny", 403")
///     meaning: blocked                          # blocked, block_page, auth_required, upstream_unreachable, dns_failure
///     status: [403]                             # optional, never alone: also headers, body, reason or location
///     headers: { server: '^CorpGateway/' }      # regex per header (the header must be present)
///     body: ['<title>Request denied by CorpGateway']   # regexes, all must match the first 4 KiB
///     location: '^https://portal\.corp\.example/'    # regex on Location (redirects to a portal)
/// direct: false
/// ```
public struct RouteConfig: Sendable {
    public static let formatVersion = 1

    public var routes: [Route]
    public var includeDirect: Bool
    /// Proxies that should behave the same (a load-balanced or failover pair), by route name.
    public var groups: [String: [String]] = [:]
    /// Where devices get their PAC file (a path or an http(s) URL).
    public var pac: String?
    /// What the PAC's `myIpAddress()` returns: the address of the site the check runs for (`--client-ip`).
    public var clientAddress: ClientAddress = .loopback
    /// The route devices use when there is no PAC.
    public var defaultRoute: String?
    /// Devices use the proxy environment variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
    public var useEnvironment = false
    /// Devices use Windows' proxy setting as MMD and Intune deploy it: a proxy and its exceptions (`windows:`).
    public var windows: WindowsProxySetting?
    /// Issuer name patterns expected for the services' certificates; any other issuer is interception.
    public var expectedIssuers: [String] = []
    /// `host:port:address` pins for probes that resolve names themselves (direct).
    public var resolve: [String] = []
    /// PEM files trusted in addition to the system store (or `--ca-bundle`), e.g. the corporate root devices trust.
    public var trustAnchors: [String] = []
    /// The config's own block, portal and error pages (`blockPages:`), tried before `SignatureSet.bundled`.
    public var blockPages: [ProductSignature] = []

    public init(routes: [Route] = [], includeDirect: Bool = false) {
        self.routes = routes; self.includeDirect = includeDirect
    }

    /// Reads a config file; relative paths in it are taken relative to the file.
    public static func load(file: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RouteConfig {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw InputError(file: file, "cannot read the config file")
        }
        return try parse(text, file: file, environment: environment)
    }

    static func parse(_ text: String, file: String, environment: [String: String]) throws -> RouteConfig {
        let root = try YAMLValue.parse(text, file: file)
        let top = try root.mapping(allowed: ["version", "proxies", "direct", "groups", "pac", "default", "environment",
                                             "expectedIssuers", "resolve", "trustAnchors", "blockPages", "windows"], what: "the config")
        let versionNode = try top.required("version", in: "the config", at: root)
        let version = try versionNode.int(what: "version")
        guard version == formatVersion else {
            throw versionNode.error("unsupported config version \(version) (this ProxyVet reads version \(formatVersion))")
        }
        let baseDir = URL(fileURLWithPath: file).deletingLastPathComponent()
        func resolvePath(_ path: String) -> String {
            path.hasPrefix("/") ? path : baseDir.appendingPathComponent(path).standardizedFileURL.path
        }
        var config = RouteConfig()
        var upstreamLines: [String: YAMLValue] = [:]
        if let proxies = top["proxies"] {
            for entry in try proxies.namedEntries(what: "proxies") {
                let what = "proxy \(entry.name)"
                let map = try entry.value.mapping(allowed: ["url", "credentials", "caBundle", "upstream", "via"], what: what)
                let urlNode = try map.required("url", in: what, at: entry.value)
                var route = try Route.parse(name: entry.name, url: try urlNode.string(what: "url"), file: file, line: urlNode.line)
                if let ca = map["caBundle"] {
                    let path = resolvePath(try ca.string(what: "caBundle"))
                    guard FileManager.default.isReadableFile(atPath: path) else { throw ca.error("\(what): caBundle \(path) cannot be read") }
                    route.caBundle = path
                }
                if let credentialsNode = map["credentials"] {
                    let keys = try credentialsNode.mapping(allowed: ["username", "passwordEnv", "file", "negotiate"], what: "\(what) credentials")
                    if let negotiate = keys["negotiate"] {
                        guard try negotiate.bool(what: "negotiate") else { throw negotiate.error("\(what): negotiate: false means no credentials; leave credentials out") }
                        guard keys.count == 1 else {
                            throw negotiate.error("\(what): negotiate uses the Kerberos ticket of the account running ProxyVet (KRB5CCNAME); give no user or password with it")
                        }
                        route.negotiate = true
                    } else {
                        route.credentials = try credentials(credentialsNode, what: what, environment: environment, resolve: resolvePath)
                    }
                }
                if let upstream = map["upstream"] {
                    route.upstream = try upstream.string(what: "upstream")
                    upstreamLines[entry.name] = upstream
                }
                route.aliases = try map["via"]?.strings(what: "via").map { $0.lowercased() } ?? []
                guard !config.routes.contains(where: { $0.name == entry.name }) else {
                    throw entry.value.error("proxy \(entry.name) is declared twice")
                }
                config.routes.append(route)
            }
        }
        let names = Set(config.routes.map(\.name))
        func known(_ name: String) -> String { names.sorted().joined(separator: ", ") }
        for route in config.routes {
            guard let upstream = route.upstream, let node = upstreamLines[route.name] else { continue }
            guard names.contains(upstream) else {
                throw node.error("proxy \(route.name): unknown upstream \"\(upstream)\" (known: \(known(upstream)))")
            }
            // A chain must end: follow upstreams at most as many steps as there are proxies.
            var seen = [route.name]
            var next: String? = upstream
            while let hop = next {
                guard !seen.contains(hop) else {
                    throw node.error("proxy \(route.name): the upstream chain loops (\((seen + [hop]).joined(separator: " → ")))")
                }
                seen.append(hop)
                next = config.routes.first { $0.name == hop }?.upstream
            }
        }
        if let groups = top["groups"] {
            for entry in try groups.namedEntries(what: "groups") {
                let members = try entry.value.strings(what: "group \(entry.name)")
                guard members.count >= 2 else { throw entry.value.error("group \(entry.name) needs at least two proxies") }
                for member in members where !names.contains(member) {
                    throw entry.value.error("group \(entry.name): unknown proxy \"\(member)\" (known: \(known(member)))")
                }
                config.groups[entry.name] = members
            }
        }
        if let pac = top["pac"] {
            let text = try pac.string(what: "pac")
            config.pac = text.contains("://") ? text : resolvePath(text)
        }
        if let node = top["default"] {
            let name = try node.string(what: "default")
            guard names.contains(name) || name == "direct" else {
                throw node.error("default route \"\(name)\" is not a configured proxy (known: \(known(name)))")
            }
            config.defaultRoute = name
        }
        config.useEnvironment = try top["environment"]?.bool(what: "environment") ?? false
        if let node = top["windows"] {
            config.windows = try WindowsProxySetting.parse(node)
            let others = [config.pac != nil ? "pac:" : nil, config.defaultRoute != nil ? "default:" : nil,
                          config.useEnvironment ? "environment: true" : nil].compactMap { $0 }
            guard others.isEmpty else {
                throw node.error("windows: and \(others.joined(separator: " and ")) both say how devices route; give one")
            }
        }
        config.expectedIssuers = try top["expectedIssuers"]?.strings(what: "expectedIssuers") ?? []
        if let node = top["resolve"] {
            config.resolve = try node.strings(what: "resolve")
            for entry in config.resolve where entry.split(separator: ":").count < 3 {
                throw node.error("resolve entry \"\(entry)\" must be host:port:address")
            }
        }
        if let node = top["trustAnchors"] {
            config.trustAnchors = try node.strings(what: "trustAnchors").map(resolvePath)
            for path in config.trustAnchors where !FileManager.default.isReadableFile(atPath: path) {
                throw node.error("trust anchor \(path) cannot be read")
            }
        }
        if let node = top["blockPages"] {
            config.blockPages = try SignatureSet.parseBlockPages(node)
        }
        config.includeDirect = try top["direct"]?.bool(what: "direct") ?? false
        return config
    }

    private static func credentials(_ node: YAMLValue, what: String, environment: [String: String],
                                    resolve: (String) -> String) throws -> ProxyCredentials {
        let map = try node.mapping(allowed: ["username", "passwordEnv", "file"], what: "\(what) credentials")
        if let fileNode = map["file"] {
            guard map["username"] == nil, map["passwordEnv"] == nil else {
                throw fileNode.error("\(what): give either file, or username with passwordEnv, not both")
            }
            do {
                return try ProxyCredentials.fromFile(resolve(try fileNode.string(what: "file")), context: what)
            } catch let error as InputError {
                throw fileNode.error(error.description)
            }
        }
        let user = try map.required("username", in: "\(what) credentials", at: node).string(what: "username")
        let envNode = try map.required("passwordEnv", in: "\(what) credentials (the password comes from an environment variable or a file, never the config)", at: node)
        let variable = try envNode.string(what: "passwordEnv")
        guard let password = environment[variable], !password.isEmpty else {
            throw envNode.error("\(what): environment variable \(variable) is not set")
        }
        return ProxyCredentials(username: user, password: password, origin: "env \(variable)")
    }

    /// Adds `--proxy NAME=URL` routes and applies `--proxy-credentials NAME=FILE`.
    public mutating func apply(proxyFlags: [String], credentialFlags: [String], direct: Bool) throws {
        // The flag each name came from, so two URLs that make the same name are both named.
        var flagOf: [String: String] = [:]
        for flag in proxyFlags {
            let route = try Self.proxyFlag(flag)
            if let earlier = flagOf[route.name] {
                throw InputError("--proxy \(earlier) and --proxy \(flag) both name the route \(route.name): give each a name (--proxy NAME=URL)")
            }
            guard !routes.contains(where: { $0.name == route.name }) else {
                throw InputError("--proxy \(route.name): a route named \(route.name) is already defined")
            }
            flagOf[route.name] = flag
            routes.append(route)
        }
        for flag in credentialFlags {
            let (name, path) = try Self.split(flag, option: "--proxy-credentials", valueName: "FILE", address: true)
            guard let index = routes.firstIndex(where: { $0.name == name }) else {
                throw InputError("--proxy-credentials \(name): no route named \(name) (known: \(routes.map(\.name).joined(separator: ", ")))")
            }
            routes[index].credentials = try ProxyCredentials.fromFile(path, context: "proxy \(name)")
        }
        if direct { includeDirect = true }
    }

    /// Applies `--windows-proxy HOST:PORT` and `--windows-exceptions "…;…"`: they replace the config's `windows:` proxy
    /// or exceptions, and the Windows setting then decides device routing over the config's pac, default or environment.
    public mutating func apply(windowsProxy: String?, windowsExceptions: String?) throws {
        guard windowsProxy != nil || windowsExceptions != nil else { return }
        var setting: WindowsProxySetting
        if let windowsProxy {
            let address: (host: String, port: Int)
            do { address = try WindowsProxySetting.address(windowsProxy) } catch let error as InputError {
                throw InputError("--windows-proxy: \(error.message)")
            }
            setting = WindowsProxySetting(host: address.host, port: address.port, exceptions: windows?.exceptions ?? WindowsProxyExceptions())
        } else if let windows {
            setting = windows
        } else {
            throw InputError("--windows-exceptions needs the proxy they are exceptions to: give --windows-proxy HOST:PORT or windows: in the config")
        }
        if let windowsExceptions {
            do {
                setting.exceptions = try WindowsProxyExceptions(parsing: windowsExceptions)
                try setting.checkLimit()
            } catch let error as InputError {
                throw InputError("--windows-exceptions: \(error.message)")
            }
        }
        windows = setting
    }

    /// Applies `--pac FILE|URL`, which says what `pac:` in a config says; naming a PAC in both places is an error
    /// naming both, as is a PAC beside the Windows proxy setting (`windows:` or `--windows-proxy`).
    public mutating func apply(pac source: String?, configFile: String?) throws {
        guard let source else { return }
        if let pac {
            throw InputError(file: configFile, "--pac \(source) and the config's pac: \(pac) both name the PAC file; give one")
        }
        if windows != nil {
            throw InputError(file: configFile, "--pac \(source) and the Windows proxy setting (windows: or --windows-proxy) both say how devices route; give one")
        }
        let lowered = source.lowercased()
        if source.contains("://"), !["http://", "https://", "file://"].contains(where: lowered.hasPrefix) {
            throw InputError("--pac \(source): a PAC is a file or an http://, https:// or file:// URL")
        }
        pac = source
    }

    /// Every configured route, direct last when asked for.
    public var allRoutes: [Route] {
        includeDirect && !routes.contains(where: { $0.name == "direct" }) ? routes + [.direct] : routes
    }

    /// One `--proxy` value: `NAME=URL`, or a URL alone, which names the route after the proxy's `host:port`
    /// (`--proxy http://proxy1.corp.example:3128` is the route `proxy1.corp.example:3128`).
    static func proxyFlag(_ flag: String) throws -> Route {
        // A URL alone has its scheme before any `=`; `NAME=URL` has the `=` first.
        if let scheme = flag.range(of: "://"), !flag[..<scheme.lowerBound].contains("=") {
            // Named before it is checked, so a refusal (credentials in the URL) names the route and not the secret.
            let address = (try? Route.parse(name: "proxy", url: RouteInput.withoutCredentials(flag)))?.address
            return try Route.parse(name: address ?? RouteInput.withoutCredentials(flag), url: flag)
        }
        let (name, value) = try split(flag, option: "--proxy", valueName: "URL", alone: "URL")
        return try Route.parse(name: name, url: value)
    }

    /// Splits `NAME=VALUE`. `alone` names what may also be given without a name; `address` also accepts a route named
    /// after its proxy's `host:port` (`--proxy-credentials proxy1.corp.example:3128=FILE`).
    static func split(_ flag: String, option: String, valueName: String, alone: String? = nil, address: Bool = false) throws -> (String, String) {
        guard let equals = flag.firstIndex(of: "="), equals != flag.startIndex, flag.index(after: equals) != flag.endIndex else {
            throw InputError("\(option) \"\(flag)\": expected NAME=\(valueName)" + (alone.map { " or \($0)" } ?? ""))
        }
        let name = String(flag[..<equals])
        let punctuation: Set<Character> = address ? ["-", "_", ".", ":", "[", "]"] : ["-", "_", "."]
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || punctuation.contains($0) }) else {
            throw InputError("\(option) \"\(name)\": a route name uses letters, digits, - _ and . only")
        }
        return (name, String(flag[flag.index(after: equals)...]))
    }
}
