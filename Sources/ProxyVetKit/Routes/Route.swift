import Foundation

/// A username and password for a proxy. Never encoded, printed or logged: `description` hides it.
public struct ProxyCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let username: String
    let password: String
    /// Where the credentials came from, for reports (`env PROXY_PASS`, `file vault.cred`), never the secret.
    public let origin: String

    public init(username: String, password: String, origin: String) {
        self.username = username; self.password = password; self.origin = origin
    }

    /// Reads `user:password` from a file (first line; trailing newline ignored).
    public static func fromFile(_ path: String, context: String) throws -> ProxyCredentials {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw InputError(file: path, "\(context): cannot read the credentials file")
        }
        // Like ssh with a private key: a secret others can read is refused, not used (curl only warns for .netrc).
        if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw InputError(file: path, "\(context): the credentials file can be read by other users (mode \(String(mode & 0o777, radix: 8))); restrict it with chmod 600")
        }
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
            throw InputError(file: path, line: 1, "\(context): the credentials file must hold user:password")
        }
        return ProxyCredentials(username: String(line[..<colon]), password: String(line[line.index(after: colon)...]),
                                origin: "file \(URL(fileURLWithPath: path).lastPathComponent)")
    }

    public var description: String { "\(username):<hidden> (\(origin))" }
    public var debugDescription: String { description }
}

/// Why a route is in the check.
public enum RouteOrigin: String, Codable, Sendable {
    /// Declared in the config or with --proxy / --direct.
    case configured
    /// A proxy (or DIRECT) that the PAC file named and the config does not know.
    case pac
    /// The proxy of the Windows setting (`windows:`, `--windows-proxy`), or DIRECT for its exceptions, unknown to the config.
    case windows
}

/// The kind of proxy a route goes through.
public enum ProxyKind: String, Codable, Sendable {
    case http, https, socks5h, socks5, direct
}

/// One way out to the internet that ProxyVet probes: a proxy (with or without credentials) or direct.
public struct Route: Sendable, Equatable {
    public var name: String
    public var kind: ProxyKind
    /// `scheme://host:port`, never with credentials; nil for the direct route.
    public var proxyURL: String?
    public var credentials: ProxyCredentials?
    /// Authenticate with Negotiate (Kerberos) using the ticket of the account running ProxyVet (KRB5CCNAME, a keytab).
    public var negotiate = false
    /// Trust anchors for an https proxy's own certificate.
    public var caBundle: String?
    /// The configured proxy this one forwards to (a chain: branch → parent → gateway).
    public var upstream: String?
    /// Names this proxy writes in Via headers and error pages (Squid's visible_hostname); the URL's host is implied.
    public var aliases: [String] = []
    /// How the route came to be probed: declared in the config or on the command line, or an address a PAC named.
    public var origin: RouteOrigin = .configured

    public init(name: String, kind: ProxyKind, proxyURL: String?, credentials: ProxyCredentials? = nil, caBundle: String? = nil,
                upstream: String? = nil) {
        self.name = name; self.kind = kind; self.proxyURL = proxyURL; self.credentials = credentials; self.caBundle = caBundle
        self.upstream = upstream
    }

    /// The proxy's host, for matching Via entries and PAC answers.
    public var proxyHost: String? {
        proxyURL.flatMap { URLComponents(string: $0)?.host?.lowercased() }
    }

    /// The proxy's port.
    public var proxyPort: Int? {
        proxyURL.flatMap { URLComponents(string: $0)?.port }
    }

    /// `host:port` of the proxy (`[2001:db8::1]:3128` for IPv6), the name of a route given only by its URL; nil for direct.
    public var address: String? {
        proxyURL.flatMap { url in url.range(of: "://").map { String(url[$0.upperBound...]) } }
    }

    /// The route with no proxy.
    public static let direct = Route(name: "direct", kind: .direct, proxyURL: nil)

    /// The proxy's address, used to cap concurrency per proxy (routes naming the same proxy share it).
    public var proxyKey: String { proxyURL ?? "direct" }

    /// True when the route authenticates to its proxy (a password or a Kerberos ticket).
    public var authenticates: Bool { credentials != nil || negotiate }

    /// Parses `scheme://host:port`; rejects credentials in the URL, which belong in a file or the environment.
    public static func parse(name: String, url text: String, file: String? = nil, line: Int? = nil) throws -> Route {
        func fail(_ message: String) -> InputError { InputError(file: file, line: line, "proxy \(name): \(message)") }
        guard name.lowercased() != Route.direct.name else {
            throw fail("the name direct is the route without a proxy (--direct, direct: true); give this proxy another name")
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty else {
            throw fail("\"\(text)\" is not a proxy URL (expected e.g. http://proxy.corp.example:3128)")
        }
        guard components.user == nil, components.password == nil else {
            throw fail("credentials in the proxy URL are not accepted; put them in a file (--proxy-credentials \(name)=FILE) or the config")
        }
        guard let kind = ProxyKind(rawValue: scheme), kind != .direct else {
            throw fail("unsupported proxy scheme \"\(scheme)\" (http, https, socks5h or socks5)")
        }
        guard components.path.isEmpty || components.path == "/" else { throw fail("a proxy URL has no path (\(text))") }
        let defaultPort = kind == .https ? 443 : kind == .http ? 3128 : 1080
        let port = components.port ?? defaultPort
        guard (1...65535).contains(port) else { throw fail("port \(port) is out of range") }
        // Foundation keeps the brackets of an IPv6 host on some platforms: add them only where they are missing.
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return Route(name: name, kind: kind, proxyURL: "\(kind.rawValue)://\(hostPart.lowercased()):\(port)")
    }
}
