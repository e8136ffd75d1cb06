import Foundation
import Testing
@testable import ProxyVetKit

@Suite("Routes")
struct RouteConfigTests {
    @Test("the documented config shape loads, with credentials from env and file")
    func documentedShape() throws {
        let folder = try TestFiles.temporaryFolder()
        let cred = folder.appendingPathComponent("vault.cred")
        try Data("svc-vault:s3cret-vault\n".utf8).write(to: cred)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: cred.path)
        let ca = folder.appendingPathComponent("ca.pem")
        try Data("-----BEGIN CERTIFICATE-----\n".utf8).write(to: ca)
        let text = """
        version: 1
        proxies:
          edge:  { url: "http://proxy1.corp.example:3128" }
          auth:  { url: "http://proxy2.corp.example:8080", credentials: { username: svc-probe, passwordEnv: PROXY_PASS } }
          vault: { url: "https://proxy3.corp.example:8443", caBundle: ca.pem, credentials: { file: vault.cred } }
        """
        let file = folder.appendingPathComponent("proxyvet.yaml")
        try Data(text.utf8).write(to: file)
        let config = try RouteConfig.load(file: file.path, environment: ["PROXY_PASS": "env-secret"])
        #expect(config.routes.map(\.name) == ["edge", "auth", "vault"])
        #expect(config.routes[0].proxyURL == "http://proxy1.corp.example:3128")
        #expect(config.routes[1].credentials?.username == "svc-probe")
        #expect(config.routes[1].credentials?.password == "env-secret")
        #expect(config.routes[2].kind == .https)
        #expect(config.routes[2].caBundle == ca.path)
        #expect(config.routes[2].credentials?.username == "svc-vault")
        #expect(!"\(config.routes[2].credentials!)".contains("s3cret"))
    }

    @Test("config errors name the line", arguments: [
        ("version: 1\nproxies:\n  a: { url: \"ftp://x:1\" }\n", "proxyvet.yaml:3: proxy a: unsupported proxy scheme \"ftp\""),
        ("version: 1\nproxies:\n  a: { url: \"http://u:p@x:1\" }\n", "proxyvet.yaml:3: proxy a: credentials in the proxy URL are not accepted"),
        ("version: 1\nproxies:\n  a: { url: \"http://x:1\", creds: {} }\n", "proxyvet.yaml:3: unknown key \"creds\" in proxy a"),
        ("version: 1\nproxies:\n  a: { url: \"http://x:1\", credentials: { username: u, passwordEnv: NOPE_NOT_SET } }\n", "proxyvet.yaml:3: proxy a: environment variable NOPE_NOT_SET is not set"),
        ("version: 1\nproxies:\n  a: { url: \"http://x:1\", credentials: { username: u, password: p } }\n", "proxyvet.yaml:3: unknown key \"password\""),
        ("version: 1\nproxies:\n  a: { url: \"http://x:1\", upstream: b }\n", "proxyvet.yaml:3: proxy a: unknown upstream \"b\""),
        ("version: 1\nproxies:\n  a: { url: \"http://x:1\", upstream: b }\n  b: { url: \"http://x:2\", upstream: a }\n", "proxyvet.yaml:3: proxy a: the upstream chain loops (a → b → a)"),
        ("version: 1\nproxies:\n  a: { url: \"http://x:1\" }\ngroups:\n  g: [a, z]\n", "proxyvet.yaml:5: group g: unknown proxy \"z\""),
        ("version: 1\nproxies:\n  a: { url: \"http://x:1\" }\ndefault: nope\n", "proxyvet.yaml:4: default route \"nope\" is not a configured proxy"),
        ("version: 1\nresolve: [\"bad\"]\n", "proxyvet.yaml:2: resolve entry \"bad\" must be host:port:address"),
        ("version: 3\n", "proxyvet.yaml:1: unsupported config version 3"),
    ])
    func errors(_ row: (String, String)) throws {
        let file = try TestFiles.write(row.0, name: "proxyvet.yaml")
        do {
            _ = try RouteConfig.load(file: file, environment: [:])
            Issue.record("expected an error")
        } catch let error as InputError {
            let message = error.description.replacingOccurrences(of: file, with: "proxyvet.yaml")
            #expect(message.hasPrefix(row.1), "\(message)")
        }
    }

    @Test("command-line routes and credential files")
    func flags() throws {
        let cred = try TestFiles.write("user:pw\n", name: "c.cred")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: cred)
        var config = RouteConfig()
        try config.apply(proxyFlags: ["a=http://127.0.0.1:3128", "b=socks5h://127.0.0.1:1080", "c=http://127.0.0.1:3128"], credentialFlags: ["c=\(cred)"], direct: true)
        #expect(config.allRoutes.map(\.name) == ["a", "b", "c", "direct"])
        #expect(config.allRoutes[1].kind == .socks5h)
        #expect(config.allRoutes[2].credentials?.username == "user")
        #expect(config.allRoutes[0].proxyKey == config.allRoutes[2].proxyKey)
        #expect(throws: InputError.self) { try config.apply(proxyFlags: ["noequals"], credentialFlags: [], direct: false) }
        #expect(throws: InputError.self) { try config.apply(proxyFlags: [], credentialFlags: ["zzz=\(cred)"], direct: false) }
    }

    @Test("--proxy URL names the route after the proxy's host and port; NAME=URL still names it")
    func proxyURLAlone() throws {
        let cred = try TestFiles.write("user:pw\n", name: "c.cred")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: cred)
        var config = RouteConfig()
        try config.apply(proxyFlags: ["http://Proxy1.corp.example:3128", "edge=http://proxy1.corp.example:3128", "socks5h://gw.corp.example",
                                      "http://[2001:db8::1]:8080"],
                         credentialFlags: ["proxy1.corp.example:3128=\(cred)"], direct: false)
        #expect(config.routes.map(\.name) == ["proxy1.corp.example:3128", "edge", "gw.corp.example:1080", "[2001:db8::1]:8080"])
        #expect(config.routes[0].proxyURL == "http://proxy1.corp.example:3128")
        #expect(config.routes[0].credentials?.username == "user")
        #expect(config.routes[1].credentials == nil)
        #expect(config.routes[2].kind == .socks5h)
    }

    @Test("--proxy errors", arguments: [
        (["http://p.corp.example:3128", "https://P.corp.example:3128"],
         "--proxy http://p.corp.example:3128 and --proxy https://P.corp.example:3128 both name the route p.corp.example:3128: give each a name (--proxy NAME=URL)"),
        (["http://u:secret@p.corp.example:3128"],
         "proxy p.corp.example:3128: credentials in the proxy URL are not accepted; put them in a file (--proxy-credentials p.corp.example:3128=FILE) or the config"),
        (["p.corp.example:3128"], "--proxy \"p.corp.example:3128\": expected NAME=URL or URL"),
        (["ftp://u:secret@p.corp.example"], "proxy ftp://p.corp.example: credentials in the proxy URL are not accepted; put them in a file (--proxy-credentials ftp://p.corp.example=FILE) or the config"),
        (["gopher://p.corp.example"], "proxy gopher://p.corp.example: unsupported proxy scheme \"gopher\" (http, https, socks5h or socks5)"),
    ])
    func proxyFlagErrors(_ flags: [String], _ message: String) {
        var config = RouteConfig()
        #expect { try config.apply(proxyFlags: flags, credentialFlags: [], direct: false) } throws: { error in
            "\(error)" == message
        }
    }

    @Test("with no route given, the message names the proxy variables that are set and how to use them, never their credentials",
          arguments: [
        ([:], nil),
        (["HTTPS_PROXY": "http://proxy1.corp.example:3128"],
         "The environment sets HTTPS_PROXY=http://proxy1.corp.example:3128, which ProxyVet does not read unless told to. To check that proxy: --proxy \"$HTTPS_PROXY\"; or a config with environment: true, to route each endpoint as devices that use these variables do."),
        (["https_proxy": "http://svc:Secret99@proxy1.corp.example:3128", "HTTP_PROXY": "proxy2.corp.example:8080", "http_proxy": " "],
         "The environment sets https_proxy=http://proxy1.corp.example:3128, HTTP_PROXY=proxy2.corp.example:8080, which ProxyVet does not read unless told to. To check those proxies: --proxy http://proxy1.corp.example:3128 --proxy-credentials proxy1.corp.example:3128=FILE (a file holding user:password: ProxyVet takes no credentials from a URL); --proxy http://proxy2.corp.example:8080; or a config with environment: true, to route each endpoint as devices that use these variables do."),
        (["HTTPS_PROXY": "http://proxy1.corp.example:3128", "https_proxy": "http://proxy1.corp.example:3128"],
         "The environment sets HTTPS_PROXY=http://proxy1.corp.example:3128, https_proxy=http://proxy1.corp.example:3128, which ProxyVet does not read unless told to. To check that proxy: --proxy \"$HTTPS_PROXY\"; or a config with environment: true, to route each endpoint as devices that use these variables do."),
    ] as [([String: String], String?)])
    func missingRoute(_ environment: [String: String], _ hint: String?) {
        let message = RouteInput.missingRouteMessage(environment: environment)
        let lines = message.split(separator: "\n").map(String.init)
        #expect(lines.first == "Name at least one route: --proxy NAME=URL (or --proxy URL), --config FILE, --direct, --windows-proxy HOST:PORT or --pac FILE|URL.")
        #expect(lines.dropFirst().first == hint)
        #expect(!message.contains("Secret99") && !message.contains("svc"))
    }

    @Test("a route input with nothing that makes a route is refused before anything is read")
    func noRoutes() throws {
        let file = try TestFiles.write("version: 1\n", name: "empty.yaml")
        #expect(RouteInput().isEmpty)
        #expect(!RouteInput(proxies: ["http://p:3128"]).isEmpty)
        #expect { try RouteInput(configFile: file).load(environment: [:]) } throws: { error in
            "\(error)" == "\(file): no routes: the config declares no proxies, no pac: and no windows: setting"
        }
        let routes = try RouteInput(configFile: file, proxies: ["http://p.corp.example:3128"], direct: true).load(environment: [:])
        #expect(routes.allRoutes.map(\.name) == ["p.corp.example:3128", "direct"])
    }

    @Test("a client address without a PAC is refused: it would change nothing")
    func clientAddressNeedsPAC() throws {
        let site = try ClientAddress(parsing: "10.20.0.7")
        #expect { try RouteInput(proxies: ["http://p.corp.example:3128"], clientAddress: site).load(environment: [:]) } throws: { error in
            "\(error)" == "--client-ip 10.20.0.7 is what the PAC's myIpAddress() returns, but no PAC is given: add --pac FILE|URL or pac: in the config"
        }
        let pac = try TestFiles.write("function FindProxyForURL(url, host) { return \"DIRECT\"; }\n", name: "site.pac")
        let routes = try RouteInput(pac: pac, clientAddress: site).load(environment: [:])
        #expect(routes.clientAddress == site && routes.pac != nil)
    }

    @Test("a proxy may not be named direct: that name is the route without a proxy")
    func directName() throws {
        var config = RouteConfig()
        #expect { try config.apply(proxyFlags: ["direct=http://127.0.0.1:3128"], credentialFlags: [], direct: true) } throws: { error in
            (error as? InputError)?.description.contains("the name direct is the route without a proxy") == true
        }
        let file = try TestFiles.write("version: 1\nproxies:\n  Direct: { url: \"http://127.0.0.1:3128\" }\n", name: "proxyvet.yaml")
        #expect { try RouteConfig.load(file: file, environment: [:]) } throws: { error in
            (error as? InputError)?.description.contains("proxyvet.yaml:3") == true
        }
    }

    @Test("a credentials file that other users can read is refused, naming the fix")
    func credentialsMode() throws {
        let cred = try TestFiles.write("user:pw\n", name: "open.cred")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: cred)
        var config = RouteConfig()
        #expect { try config.apply(proxyFlags: ["a=http://127.0.0.1:3128"], credentialFlags: ["a=\(cred)"], direct: false) } throws: { error in
            let text = (error as? InputError)?.description ?? ""
            return text.contains("mode 644") && text.contains("chmod 600") && !text.contains("pw")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: cred)
        try config.apply(proxyFlags: [], credentialFlags: ["a=\(cred)"], direct: false)
        #expect(config.routes.first?.credentials?.username == "user")
    }
}
