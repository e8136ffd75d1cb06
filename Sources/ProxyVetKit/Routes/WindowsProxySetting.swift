import Foundation

/// The proxy setting MMD and Intune deploy to Windows devices: one proxy server and port, and the site exceptions
/// that go DIRECT (Configurable settings reference for Microsoft Managed Desktop, "Proxy").
///
/// Config shape: `windows: { proxy: "proxy.corp.example:8080", exceptions: "*.contoso.com;10.*;<local>" }`
/// (`exceptions` may also be a YAML list of entries). On the command line: `--windows-proxy HOST:PORT` and
/// `--windows-exceptions "…;…"`.
public struct WindowsProxySetting: Sendable, Equatable {
    /// The proxy server's host name or address (lowercased, IPv6 without brackets).
    public var host: String
    public var port: Int
    public var exceptions: WindowsProxyExceptions

    public init(host: String, port: Int, exceptions: WindowsProxyExceptions = WindowsProxyExceptions()) {
        self.host = host; self.port = port; self.exceptions = exceptions
    }

    /// `host:port`, an IPv6 address in brackets: the proxy as the setting names it.
    public var proxy: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The setting's proxy as a PAC-style alternative, so it is matched to configured routes as PAC answers are.
    var alternative: PACAlternative { .proxy(host: host, port: port) }

    /// Reads `host:port` (also `[v6]:port`, and an `http://` prefix); throws an `InputError` without a location.
    public static func address(_ text: String) throws -> (host: String, port: Int) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        func fail(_ problem: String) -> InputError { InputError("proxy \"\(text)\": \(problem)") }
        var rest = Substring(trimmed)
        if let separator = rest.range(of: "://") {
            guard rest[..<separator.lowerBound].lowercased() == "http" else {
                throw fail("the Windows proxy setting names an HTTP proxy as host:port (no scheme, or http://)")
            }
            rest = rest[separator.upperBound...]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        let host: Substring, port: Substring
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix(":") {
            host = rest[rest.index(after: rest.startIndex)..<close]
            port = rest[rest.index(close, offsetBy: 2)...]
        } else if let colon = rest.lastIndex(of: ":"), !rest[..<colon].contains(":") {
            host = rest[..<colon]
            port = rest[rest.index(after: colon)...]
        } else {
            throw fail("expected host:port, e.g. proxy.corp.example:8080 (MMD's setting takes a server address and a port number)")
        }
        guard !host.isEmpty, !host.contains("/"), !host.contains("@"), !host.contains(where: \.isWhitespace) else {
            throw fail("\"\(host)\" is not a server address")
        }
        guard let number = Int(port), port.allSatisfy(\.isNumber), (1...65535).contains(number) else {
            throw fail("\"\(port)\" is not a port (1 to 65535)")
        }
        return (host.lowercased(), number)
    }

    /// Throws when the exceptions exceed MMD's 2,064 characters; the message has no location.
    public func checkLimit() throws {
        let count = exceptions.characterCount
        guard count > WindowsProxyExceptions.characterLimit else { return }
        throw InputError("the proxy exceptions take \(Self.grouped(count)) characters (the entries joined by ;), more than the "
                         + "\(Self.grouped(WindowsProxyExceptions.characterLimit)) MMD's proxy setting accepts, its own default exceptions "
                         + "included: merge entries under a wildcard (*.contoso.com) or remove some")
    }

    /// `2064` → `2,064`.
    static func grouped(_ number: Int) -> String {
        let digits = Array(String(number))
        return String(digits.enumerated().flatMap { index, digit in
            index > 0 && (digits.count - index) % 3 == 0 ? [",", digit] : [digit]
        })
    }

    /// Reads the config's `windows:` block; errors carry the file and line.
    static func parse(_ node: YAMLValue) throws -> WindowsProxySetting {
        let map = try node.mapping(allowed: ["proxy", "exceptions", "includeDefaults"], what: "windows")
        let proxyNode = try map.required("proxy", in: "windows", at: node)
        let address: (host: String, port: Int)
        do { address = try Self.address(try proxyNode.string(what: "windows proxy")) } catch let error as InputError where error.line == nil {
            throw proxyNode.error("windows: \(error.message)")
        }
        var setting = WindowsProxySetting(host: address.host, port: address.port)
        if let defaults = map["includeDefaults"], try defaults.bool(what: "includeDefaults") {
            // The reference says the defaults exist and count toward the limit, but lists none (and only the MMD service
            // may change them): ProxyVet cannot add or count what it does not know.
            throw defaults.error("windows: includeDefaults: Microsoft does not publish MMD's default proxy exceptions (the configurable "
                                 + "settings reference says they exist and count toward the 2,064 characters, but lists none); copy them "
                                 + "from your tenant's MMD proxy setting into exceptions: to probe and count them")
        }
        if let exceptionsNode = map["exceptions"] {
            do {
                setting.exceptions = try WindowsProxyExceptions(parsing: try exceptionsNode.strings(what: "windows exceptions"))
                try setting.checkLimit()
            } catch let error as InputError where error.line == nil {
                throw exceptionsNode.error("windows: \(error.message)")
            }
        }
        return setting
    }
}
