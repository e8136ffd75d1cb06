import Foundation
import Testing
@testable import ProxyVetKit

/// Windows proxy exceptions (ProxyOverride, MMD's proxy site exceptions) as WinINet reads them; and the Windows proxy
/// setting as a device-routing source.
@Suite("Windows proxy exceptions")
struct WindowsProxyExceptionsTests {
    struct Case: Sendable, CustomStringConvertible {
        let exceptions: String
        let url: String
        let direct: Bool
        var description: String { "\(exceptions) ← \(url): \(direct ? "DIRECT" : "proxy")" }
        init(_ exceptions: String, _ url: String, _ direct: Bool) { self.exceptions = exceptions; self.url = url; self.direct = direct }
    }

    static let cases: [Case] = [
        // Wildcards at any position, anchored at both ends of the name.
        Case("*.contoso.com", "https://www.contoso.com/", true),
        Case("*.contoso.com", "https://a.b.contoso.com/", true),
        Case("*.contoso.com", "https://contoso.com/", false),
        Case("*.contoso.com", "https://www.contoso.com.evil.test/", false),
        Case("*.contoso.com", "https://notcontoso.com/", false),
        Case("*contoso*", "https://mycontoso.example/", true),
        Case("*contoso*", "https://contoso/", true),
        Case("*contoso*", "https://contos.example/", false),
        Case("www.*.com", "https://www.contoso.com/", true),
        Case("www.*.com", "https://www.contoso.org/", false),
        Case("login.*", "https://login.microsoftonline.com/", true),
        Case("*", "https://anything.example/", true),
        Case("*.*.microsoft.com", "https://a.manage.microsoft.com/", true),
        Case("*.*.microsoft.com", "https://manage.microsoft.com/", false),
        // A bare name is that one host; a leading dot is not a domain suffix.
        Case("contoso.com", "https://contoso.com/", true),
        Case("contoso.com", "https://www.contoso.com/", false),
        Case(".contoso.com", "https://www.contoso.com/", false),
        // <local>: plain host names only.
        Case("<local>", "http://intranet/", true),
        Case("<local>", "http://intranet.corp.example/", false),
        Case("<local>", "http://10.1.2.3/", false),
        Case("<LOCAL>", "http://intranet/", true),
        Case("<-loopback>", "http://localhost/", false),
        // Ports and schemes restrict an entry.
        Case("contoso.com:8080", "http://contoso.com:8080/", true),
        Case("contoso.com:8080", "https://contoso.com/", false),
        Case("*:8443", "https://any.example:8443/", true),
        Case("*:8443", "https://any.example/", false),
        Case("https://*.contoso.com", "https://www.contoso.com/", true),
        Case("https://*.contoso.com", "http://www.contoso.com/", false),
        Case("http://intranet.corp:80", "http://intranet.corp/", true),
        Case("http://intranet.corp:80", "https://intranet.corp/", false),
        Case("https://contoso.com/", "https://contoso.com/", true),
        // Case does not matter.
        Case("*.CONTOSO.com", "https://WWW.Contoso.COM/", true),
        Case("HTTPS://Contoso.com", "https://contoso.com/", true),
        // IP literals are compared as text.
        Case("10.*", "http://10.1.2.3/", true),
        Case("10.*", "http://110.1.2.3/", false),
        Case("10.*", "http://10.example/", true),
        Case("192.168.1.5", "https://192.168.1.5/", true),
        Case("192.168.1.5", "https://192.168.1.50/", false),
        Case("*.5", "https://192.168.1.5/", true),
        Case("192.168.*:8080", "http://192.168.0.9:8080/", true),
        Case("192.168.*:8080", "http://192.168.0.9/", false),
        Case("[::1]", "http://[::1]/", true),
        Case("::1", "http://[::1]/", true),
        Case("[2001:db8::1]:8080", "http://[2001:db8::1]:8080/", true),
        Case("[2001:db8::1]:8080", "http://[2001:db8::1]/", false),
        Case("fe80::*", "http://[fe80::1]/", true),
        // Separators: ; and white space, empty entries skipped; the first matching entry counts.
        Case(" a.test ;; b.test ; ", "https://b.test/", true),
        Case("a.test b.test", "https://b.test/", true),
        Case("a.test;\tb.test", "https://c.test/", false),
        Case("", "https://a.test/", false),
        Case(";;", "https://a.test/", false),
    ]

    @Test("exception semantics", arguments: cases)
    func semantics(_ row: Case) throws {
        let components = try #require(URLComponents(string: row.url))
        let scheme = components.scheme ?? "https"
        let host = try #require(components.host)
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        let list = try WindowsProxyExceptions(parsing: row.exceptions)
        #expect((list.match(scheme: scheme, host: host, port: port) != nil) == row.direct)
    }

    @Test("the first matching entry is reported as written, and the list is stored joined by ;")
    func firstMatch() throws {
        let list = try WindowsProxyExceptions(parsing: ["*.Contoso.com ; www.contoso.com", "10.*"])
        #expect(list.match(scheme: "https", host: "www.contoso.com", port: 443)?.text == "*.Contoso.com")
        #expect(list.text == "*.Contoso.com;www.contoso.com;10.*")
        #expect(list.characterCount == 34)
    }

    @Test("entries Windows would never match are input errors naming the entry", arguments: [
        ("contoso.com:http", "exception \"contoso.com:http\": \"http\" is not a port (1 to 65535)"),
        ("contoso.com:0", "exception \"contoso.com:0\": \"0\" is not a port (1 to 65535)"),
        ("10.0.0.0/8", "exception \"10.0.0.0/8\": Windows exceptions take no address ranges; write the range as a wildcard (10.* for 10.0.0.0/8)"),
        ("contoso.com/path", "exception \"contoso.com/path\": an exception names a host, not a path"),
        ("<intranet>", "exception \"<intranet>\": unknown macro (Windows knows <local> and <-loopback>)"),
        ("://contoso.com", "exception \"://contoso.com\": \"\" is not a URL scheme"),
        ("[::1", "exception \"[::1\": an IPv6 address in brackets lacks the closing ]"),
        ("https://", "exception \"https://\": no host name"),
    ])
    func errors(_ row: (String, String)) {
        #expect(throws: InputError(row.1)) { try WindowsProxyExceptions(parsing: "ok.test;" + row.0) }
    }

    @Test("MMD's limit: 2,064 characters of exceptions pass, 2,065 do not")
    func limit() throws {
        func setting(_ count: Int) throws -> WindowsProxySetting {
            // Entries of 9 characters joined by ; (10 each), padded with one last entry.
            let entries = Array(repeating: "a.example", count: (count - 1) / 10)
            let used = entries.count * 10
            let last = String(repeating: "b", count: count - used)
            return WindowsProxySetting(host: "proxy.test", port: 8080, exceptions: try WindowsProxyExceptions(parsing: (entries + [last]).joined(separator: ";")))
        }
        #expect(try setting(2064).exceptions.characterCount == 2064)
        try setting(2064).checkLimit()
        #expect(try setting(2065).exceptions.characterCount == 2065)
        #expect(throws: InputError("the proxy exceptions take 2,065 characters (the entries joined by ;), more than the 2,064 MMD's proxy "
                                   + "setting accepts, its own default exceptions included: merge entries under a wildcard (*.contoso.com) or remove some")) {
            try setting(2065).checkLimit()
        }
    }

    @Test("the proxy address", arguments: [
        ("proxy.corp.example:8080", "proxy.corp.example", 8080),
        ("HTTP://Proxy.Corp.Example:3128/", "proxy.corp.example", 3128),
        ("10.0.0.5:3128", "10.0.0.5", 3128),
        ("[2001:db8::5]:3128", "2001:db8::5", 3128),
    ])
    func address(_ row: (String, String, Int)) throws {
        let address = try WindowsProxySetting.address(row.0)
        #expect(address.host == row.1)
        #expect(address.port == row.2)
    }

    @Test("bad proxy addresses", arguments: [
        ("proxy.corp.example", "proxy \"proxy.corp.example\": expected host:port, e.g. proxy.corp.example:8080 (MMD's setting takes a server address and a port number)"),
        ("proxy:99999", "proxy \"proxy:99999\": \"99999\" is not a port (1 to 65535)"),
        ("socks5://proxy:1080", "proxy \"socks5://proxy:1080\": the Windows proxy setting names an HTTP proxy as host:port (no scheme, or http://)"),
        (":8080", "proxy \":8080\": \"\" is not a server address"),
    ])
    func badAddress(_ row: (String, String)) {
        #expect(throws: InputError(row.1)) { try WindowsProxySetting.address(row.0) }
    }

    // MARK: The config and the command line

    @Test("windows: in the config, with the exceptions as text or as a list")
    func config() throws {
        let text = """
        version: 1
        proxies:
          edge: { url: "http://10.0.0.5:3128" }
        windows:
          proxy: "10.0.0.5:3128"
          exceptions: ["*.contoso.com;<local>", "10.*"]
          includeDefaults: false
        """
        let config = try RouteConfig.parse(text, file: "proxyvet.yaml", environment: [:])
        let windows = try #require(config.windows)
        #expect(windows.proxy == "10.0.0.5:3128")
        #expect(windows.exceptions.text == "*.contoso.com;<local>;10.*")
    }

    @Test("windows: errors name the line", arguments: [
        ("version: 1\nwindows:\n  proxy: nope\n", "proxyvet.yaml:3: windows: proxy \"nope\": expected host:port"),
        ("version: 1\nwindows:\n  exceptions: a.test\n", "proxyvet.yaml:3: windows is missing \"proxy\""),
        ("version: 1\nwindows:\n  proxy: \"p:1\"\n  bypass: a.test\n", "proxyvet.yaml:4: unknown key \"bypass\" in windows (known: exceptions, includeDefaults, proxy)"),
        ("version: 1\nwindows:\n  proxy: \"p:1\"\n  exceptions: \"a.test;10.0.0.0/8\"\n",
         "proxyvet.yaml:4: windows: exception \"10.0.0.0/8\": Windows exceptions take no address ranges"),
        ("version: 1\nwindows:\n  proxy: \"p:1\"\n  exceptions: \"\(String(repeating: "x", count: 2065))\"\n",
         "proxyvet.yaml:4: windows: the proxy exceptions take 2,065 characters"),
        ("version: 1\nwindows:\n  proxy: \"p:1\"\n  includeDefaults: true\n",
         "proxyvet.yaml:4: windows: includeDefaults: Microsoft does not publish MMD's default proxy exceptions"),
        ("version: 1\npac: \"http://wpad.test/proxy.pac\"\nwindows: { proxy: \"p:1\" }\n",
         "proxyvet.yaml:3: windows: and pac: both say how devices route; give one"),
        ("version: 1\nproxies:\n  e: { url: \"http://p:1\" }\ndefault: e\nenvironment: true\nwindows: { proxy: \"p:1\" }\n",
         "proxyvet.yaml:6: windows: and default: and environment: true both say how devices route; give one"),
    ])
    func configErrors(_ row: (String, String)) throws {
        do {
            _ = try RouteConfig.parse(row.0, file: "proxyvet.yaml", environment: [:])
            Issue.record("expected an error")
        } catch let error as InputError {
            #expect(error.description.hasPrefix(row.1), "\(error.description)")
        }
    }

    @Test("--windows-proxy and --windows-exceptions replace the config's setting; exceptions alone need a proxy")
    func flags() throws {
        var config = try RouteConfig.parse("version: 1\nwindows: { proxy: \"p.test:1\", exceptions: \"a.test\" }\n", file: "proxyvet.yaml", environment: [:])
        try config.apply(windowsProxy: nil, windowsExceptions: "b.test;c.test")
        #expect(config.windows?.proxy == "p.test:1")
        #expect(config.windows?.exceptions.text == "b.test;c.test")
        try config.apply(windowsProxy: "q.test:2", windowsExceptions: nil)
        #expect(config.windows?.proxy == "q.test:2")
        #expect(config.windows?.exceptions.text == "b.test;c.test")
        var empty = RouteConfig()
        #expect(throws: InputError("--windows-exceptions needs the proxy they are exceptions to: give --windows-proxy HOST:PORT or windows: in the config")) {
            try empty.apply(windowsProxy: nil, windowsExceptions: "a.test")
        }
        #expect(throws: InputError("--windows-proxy: proxy \"q.test\": expected host:port, e.g. proxy.corp.example:8080 (MMD's setting takes a server address and a port number)")) {
            try empty.apply(windowsProxy: "q.test", windowsExceptions: nil)
        }
        #expect(throws: InputError("--windows-exceptions: exception \"a/b\": an exception names a host, not a path")) {
            try empty.apply(windowsProxy: "q.test:2", windowsExceptions: "a/b")
        }
        try empty.apply(windowsProxy: nil, windowsExceptions: nil)
        #expect(empty.windows == nil)
    }

    // MARK: Device routing

    static let targets: [ProbeTarget] = ["https://a.corp.test/", "https://b.contoso.com/", "http://intranet/"].map { url in
        let components = URLComponents(string: url)
        return ProbeTarget(url: url, scheme: components?.scheme ?? "https", host: components?.host ?? "", port: url.hasPrefix("https") ? 443 : 80,
                           requiredBy: [], required: true, policy: [], policyProbe: false)
    }

    @Test("the Windows proxy is matched to a configured route by host and port; exceptions go DIRECT")
    func routing() throws {
        var config = RouteConfig(routes: [try Route.parse(name: "edge", url: "http://10.0.0.5:3128")])
        config.windows = WindowsProxySetting(host: "10.0.0.5", port: 3128, exceptions: try WindowsProxyExceptions(parsing: "*.contoso.com;<local>"))
        config.pac = "ignored.pac"   // --windows-proxy replaces the config's routing
        let routing = try #require(try DeviceRouting.resolve(config: config, targets: Self.targets, routes: config.routes, environment: [:]))
        #expect(routing.source == .windows)
        #expect(routing.source.rawValue == "windows")
        #expect(routing.choices["https://a.corp.test/"] == .init(answer: "proxy 10.0.0.5:3128", routes: ["edge"]))
        #expect(routing.choices["https://b.contoso.com/"] == .init(answer: "exception *.contoso.com: DIRECT", routes: ["direct"], exception: "*.contoso.com"))
        #expect(routing.choices["http://intranet/"]?.exception == "<local>")
        #expect(routing.extraRoutes.map(\.name) == ["direct"])
        #expect(routing.extraRoutes.allSatisfy { $0.origin == .windows })
        #expect(routing.deviceRoutes == ["edge", "direct"])
    }

    @Test("an unknown Windows proxy becomes a route named after its address; a configured direct route is reused")
    func unknownProxy() throws {
        var config = RouteConfig(routes: [try Route.parse(name: "edge", url: "http://10.0.0.5:3128")], includeDirect: true)
        config.windows = WindowsProxySetting(host: "10.0.0.6", port: 8080, exceptions: try WindowsProxyExceptions(parsing: "b.contoso.com"))
        let routing = try #require(try DeviceRouting.resolve(config: config, targets: Self.targets, routes: config.allRoutes, environment: [:]))
        #expect(routing.choices["https://a.corp.test/"]?.routes == ["10.0.0.6:8080"])
        #expect(routing.choices["https://b.contoso.com/"]?.routes == ["direct"])
        #expect(routing.extraRoutes.map(\.name) == ["10.0.0.6:8080"])
        #expect(routing.extraRoutes.first?.origin == .windows)
        #expect(routing.extraRoutes.first?.proxyURL == "http://10.0.0.6:8080")
    }
}
