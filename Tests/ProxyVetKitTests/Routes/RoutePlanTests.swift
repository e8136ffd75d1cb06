import Foundation
import Testing
@testable import ProxyVetKit

/// `proxyvet route` and `check --plan` without a PAC: client addresses, `--pac` beside a config, the routing sources
/// when nothing is declared, and the pairs a check plans. (Everything that evaluates a PAC in this process is in the
/// serialized PAC suite: see `PACTests+Sites.swift`.)
@Suite("Route plan")
struct RoutePlanTests {
    static func list(_ urls: [String], id: String = "lab") -> AllowList {
        AllowList(id: id, name: "Lab list", file: "\(id).yaml", services: [Service(name: "Lab", endpoints: urls.map { url in
            let components = URLComponents(string: url)
            return Endpoint(host: components?.host ?? url, ports: [url.hasPrefix("http:") ? 80 : 443])
        })], contentHash: "")
    }

    @Test("client addresses are IPv4 dotted quads", arguments: [
        ("10.20.30.40", true), ("0.0.0.0", true), ("255.255.255.255", true), ("127.0.0.1", true),
        ("10.20.30", false), ("10.20.30.40.50", false), ("256.1.1.1", false), ("010.1.1.1", false), ("a.b.c.d", false),
        ("", false), ("10..1.1", false), (" 10.1.1.1", false), ("::1", false), ("10.1.1.1/24", false), ("1e1.1.1.1", false),
    ])
    func parsesClientAddresses(_ row: (String, Bool)) {
        if row.1 {
            #expect((try? ClientAddress(parsing: row.0))?.text == row.0)
        } else {
            #expect(throws: InputError("--client-ip \"\(row.0)\": not an IPv4 address; myIpAddress() returns a dotted quad such as 10.20.30.40")) {
                try ClientAddress(parsing: row.0)
            }
        }
    }

    @Test("--pac says what pac: says; with a config's pac: or the Windows setting it is an error naming both")
    func pacOption() throws {
        var config = RouteConfig()
        try config.apply(pac: "corp.pac", configFile: nil)
        #expect(config.pac == "corp.pac")
        try config.apply(pac: nil, configFile: nil)
        #expect(config.pac == "corp.pac")
        #expect(throws: InputError(file: "proxies.yaml", "--pac other.pac and the config's pac: corp.pac both name the PAC file; give one")) {
            try config.apply(pac: "other.pac", configFile: "proxies.yaml")
        }
        var windows = RouteConfig()
        try windows.apply(windowsProxy: "10.0.0.5:3128", windowsExceptions: nil)
        #expect(throws: InputError("--pac corp.pac and the Windows proxy setting (windows: or --windows-proxy) both say how devices route; give one")) {
            try windows.apply(pac: "corp.pac", configFile: nil)
        }
        var other = RouteConfig()
        #expect(throws: InputError("--pac ftp://wpad/proxy.pac: a PAC is a file or an http://, https:// or file:// URL")) {
            try other.apply(pac: "ftp://wpad/proxy.pac", configFile: nil)
        }
    }

    @Test("nothing declared: this shell's proxy variables, matched to configured proxies, and NO_PROXY")
    func environmentVariables() throws {
        let config = RouteConfig(routes: [try Route.parse(name: "edge", url: "http://10.0.0.5:3128")])
        let plan = try RoutePlan(lists: [Self.list(["https://a.corp.test/", "http://b.corp.test/", "https://c.internal.test/"])], config: config,
                                 clientAddresses: [], tenant: nil,
                                 environment: ["HTTPS_PROXY": "http://10.0.0.5:3128", "http_proxy": "10.0.0.6:8080", "NO_PROXY": ".internal.test"])
        #expect(plan.source == RoutePlan.Source(kind: "environmentVariables", pac: nil,
                                                description: "this shell's proxy variables (HTTPS_PROXY, http_proxy): no PAC, Windows setting or default route is declared"))
        #expect(plan.sites == ["127.0.0.1"])
        let sites = plan.endpoints.map { $0.sites.map(\.answer) }
        #expect(sites == [["HTTPS_PROXY: PROXY 10.0.0.5:3128"], ["HTTP_PROXY: PROXY 10.0.0.6:8080"], ["NO_PROXY: DIRECT"]])
        #expect(plan.endpoints[0].sites[0].alternatives == [.init(answer: "PROXY 10.0.0.5:3128", route: "edge", configured: true)])
        #expect(plan.endpoints[1].sites[0].alternatives == [.init(answer: "PROXY 10.0.0.6:8080", route: nil, configured: false)])
        #expect(plan.endpoints[2].sites[0].alternatives == [.init(answer: "DIRECT", route: "direct", configured: true)])
        let text = plan.text()
        #expect(text.contains("http://b.corp.test/       yes       HTTP_PROXY: PROXY 10.0.0.6:8080 → not configured: PROXY 10.0.0.6:8080"), "\(text)")
        #expect(text.contains("Decided by this shell's proxy variables (HTTPS_PROXY, http_proxy): no PAC, Windows setting or default route is declared."))
    }

    @Test("nothing declared and no proxy variables: DIRECT, and the output says why")
    func none() throws {
        let plan = try RoutePlan(lists: [Self.list(["https://a.corp.test/"])], config: RouteConfig(), clientAddresses: [], tenant: nil,
                                 environment: ["PATH": "/usr/bin", "HTTPS_PROXY": ""])
        #expect(plan.source.kind == "none")
        #expect(plan.endpoints[0].sites == [.init(site: "127.0.0.1", answer: "DIRECT", alternatives: [.init(answer: "DIRECT", route: "direct", configured: true)])])
        #expect(plan.text() == """
            Where devices send 1 endpoint of Lab list (lab.yaml); nothing was probed.
            Decided by nothing: no PAC, Windows setting, default route or proxy variable, so devices go DIRECT.

            ENDPOINT              REQUIRED  SITE 127.0.0.1
            https://a.corp.test/  yes       DIRECT

            """)
    }

    @Test("the Windows setting and a default route answer the same at every site, and the output says so")
    func windowsAndDefault() throws {
        var config = RouteConfig(routes: [try Route.parse(name: "edge", url: "http://10.0.0.5:3128")])
        try config.apply(windowsProxy: "10.0.0.5:3128", windowsExceptions: "*.corp.test")
        let sites = [try ClientAddress(parsing: "10.20.0.7"), try ClientAddress(parsing: "192.168.1.10")]
        let plan = try RoutePlan(lists: [Self.list(["https://a.corp.test/", "https://b.example.test/"])], config: config,
                                 clientAddresses: sites, tenant: nil, environment: [:])
        #expect(plan.source.description == "the Windows proxy setting: proxy 10.0.0.5:3128, 1 exception")
        #expect(plan.endpoints.map { $0.sites.map(\.answer) } == [["exception *.corp.test: DIRECT", "exception *.corp.test: DIRECT"],
                                                                   ["proxy 10.0.0.5:3128", "proxy 10.0.0.5:3128"]])
        #expect(plan.text().contains("Sites 10.20.0.7, 192.168.1.10: only a PAC's answers depend on the client address."))
        #expect(plan.text().contains("https://b.example.test/  yes       proxy 10.0.0.5:3128 → edge     proxy 10.0.0.5:3128 → edge"), "\(plan.text())")
        var fallback = RouteConfig(routes: [try Route.parse(name: "edge", url: "http://10.0.0.5:3128")])
        fallback.defaultRoute = "edge"
        let byDefault = try RoutePlan(lists: [Self.list(["https://a.corp.test/"])], config: fallback, clientAddresses: [], tenant: nil,
                                      environment: ["HTTPS_PROXY": "http://10.9.9.9:1"])
        #expect(byDefault.source.kind == "default")
        #expect(byDefault.endpoints[0].sites[0].alternatives == [.init(answer: "PROXY 10.0.0.5:3128", route: "edge", configured: true)])
    }

    @Test("check planning: every configured route probes every target, a route only the routing named only its targets")
    func checkPlanPairs() throws {
        var config = RouteConfig(routes: [try Route.parse(name: "edge", url: "http://10.0.0.5:3128")], includeDirect: true)
        config.useEnvironment = true
        let plan = try CheckPlan(lists: [Self.list(["https://a.corp.test/", "https://b.corp.test/"])], config: config, tenant: nil,
                                 environment: ["HTTPS_PROXY": "http://10.0.0.6:8080", "NO_PROXY": "b.corp.test"])
        #expect(plan.pairs.map { "\($0.route.name) \($0.target.url)" } == [
            "edge https://a.corp.test/", "edge https://b.corp.test/", "direct https://a.corp.test/", "direct https://b.corp.test/",
            "10.0.0.6:8080 https://a.corp.test/",
        ])
        let report = PlanReport(plan, config: config)
        #expect(report.summary == .init(targets: 2, routes: 3, probes: 5))
        #expect(report.routes.map(\.probes) == [2, 2, 1])
        #expect(report.devices == .init(source: "environment", pac: nil, clientAddress: "127.0.0.1"))
        #expect(report.text().contains("https://a.corp.test/  yes       HTTPS_PROXY: PROXY 10.0.0.6:8080 → 10.0.0.6:8080  every configured route (2), 10.0.0.6:8080"),
                "\(report.text())")
        #expect(report.text().hasPrefix("""
            Plan: 2 targets × 3 routes = 5 probes. Nothing was sent: no calibration, no probes.
            A check also sends each proxy route up to 4 calibration requests first and, for lists with minTLS, TLS 1.2 probes.
            Device routing: environment.

            ROUTE          PROXY                 ORIGIN      PROBES
            edge           http://10.0.0.5:3128  configured  2
            direct         direct                configured  2
            10.0.0.6:8080  http://10.0.0.6:8080  pac         1
            """), "\(report.text())")
    }
}
