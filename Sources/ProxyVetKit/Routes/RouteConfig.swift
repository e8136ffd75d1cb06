import Foundation

/// The routes a check probes, from a config file and the command line.
///
/// Config shape (version 1):
/// ```yaml
/// version: 1
/// proxies:
///   edge:  { url: "http://proxy1.corp.example:3128" }
///   auth:  { url: "http://proxy2.corp.example:8080", credentials: { username: svc-probe, passwordEnv: PROXY_PASS } }
///   vault: { url: "https://proxy3.corp.example:8443", caBundle: /etc/ssl/corp-proxy-ca.pem, credentials: { file: /etc/proxyvet/vault.cred } }
/// direct: false
/// ```
public struct RouteConfig: Sendable {
    public static let formatVersion = 1

    public var routes: [Route]
    public var includeDirect: Bool

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
        let top = try root.mapping(allowed: ["version", "proxies", "direct"], what: "the config")
        let version = try top.required("version", in: "the config", at: root).int(what: "version")
        guard version == formatVersion, let versionNode = top["version"] else {
            throw root.error("unsupported config version \(version) (this ProxyVet reads version \(formatVersion))")
        }
        _ = versionNode
        let baseDir = URL(fileURLWithPath: file).deletingLastPathComponent()
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : baseDir.appendingPathComponent(path).standardizedFileURL.path
        }
        var routes: [Route] = []
        if let proxies = top["proxies"] {
            for entry in try proxies.namedEntries(what: "proxies") {
                let what = "proxy \(entry.name)"
                let map = try entry.value.mapping(allowed: ["url", "credentials", "caBundle"], what: what)
                let urlNode = try map.required("url", in: what, at: entry.value)
                var route = try Route.parse(name: entry.name, url: try urlNode.string(what: "url"), file: file, line: urlNode.line)
                if let ca = map["caBundle"] {
                    let path = resolve(try ca.string(what: "caBundle"))
                    guard FileManager.default.isReadableFile(atPath: path) else { throw ca.error("\(what): caBundle \(path) cannot be read") }
                    route.caBundle = path
                }
                if let credentialsNode = map["credentials"] {
                    route.credentials = try credentials(credentialsNode, what: what, environment: environment, resolve: resolve)
                }
                routes.append(route)
            }
        }
        let direct = try top["direct"]?.bool(what: "direct") ?? false
        return RouteConfig(routes: routes, includeDirect: direct)
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
        for flag in proxyFlags {
            let (name, value) = try Self.split(flag, option: "--proxy", valueName: "URL")
            guard !routes.contains(where: { $0.name == name }) else {
                throw InputError("--proxy \(name): a route named \(name) is already defined")
            }
            routes.append(try Route.parse(name: name, url: value))
        }
        for flag in credentialFlags {
            let (name, path) = try Self.split(flag, option: "--proxy-credentials", valueName: "FILE")
            guard let index = routes.firstIndex(where: { $0.name == name }) else {
                throw InputError("--proxy-credentials \(name): no route named \(name) (known: \(routes.map(\.name).joined(separator: ", ")))")
            }
            routes[index].credentials = try ProxyCredentials.fromFile(path, context: "proxy \(name)")
        }
        if direct { includeDirect = true }
    }

    /// Every route to probe, direct last when asked for.
    public var allRoutes: [Route] {
        includeDirect && !routes.contains(where: { $0.name == "direct" }) ? routes + [.direct] : routes
    }

    static func split(_ flag: String, option: String, valueName: String) throws -> (String, String) {
        guard let equals = flag.firstIndex(of: "="), equals != flag.startIndex, flag.index(after: equals) != flag.endIndex else {
            throw InputError("\(option) \"\(flag)\": expected NAME=\(valueName)")
        }
        let name = String(flag[..<equals])
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
            throw InputError("\(option) \"\(name)\": a route name uses letters, digits, - _ and . only")
        }
        return (name, String(flag[flag.index(after: equals)...]))
    }
}
