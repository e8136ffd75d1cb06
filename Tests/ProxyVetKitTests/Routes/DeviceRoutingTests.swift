import Foundation
import Testing
@testable import ProxyVetKit

@Suite("Device routing")
struct DeviceRoutingTests {
    static let targets: [ProbeTarget] = ["https://a.corp.test/", "http://b.corp.test/", "https://c.internal.test/"].map { url in
        let components = URLComponents(string: url)
        return ProbeTarget(url: url, scheme: components?.scheme ?? "https", host: components?.host ?? "", port: url.hasPrefix("https") ? 443 : 80,
                           requiredBy: [], required: true, policy: [], policyProbe: false)
    }

    @Test("the environment's proxies and NO_PROXY, matched to configured routes by address")
    func environment() throws {
        var config = RouteConfig(routes: [try Route.parse(name: "edge", url: "http://10.0.0.5:3128")])
        config.useEnvironment = true
        let routing = try #require(try DeviceRouting.resolve(config: config, targets: Self.targets, routes: config.routes,
                                                             environment: ["HTTPS_PROXY": "http://10.0.0.5:3128", "http_proxy": "10.0.0.6:8080",
                                                                           "NO_PROXY": ".internal.test,localhost"]))
        #expect(routing.source == .environment)
        #expect(routing.choices["https://a.corp.test/"]?.routes == ["edge"])
        #expect(routing.choices["http://b.corp.test/"]?.routes == ["10.0.0.6:8080"])
        #expect(routing.choices["https://c.internal.test/"]?.routes == ["direct"])
        #expect(routing.choices["https://c.internal.test/"]?.answer == "NO_PROXY: DIRECT")
        #expect(Set(routing.extraRoutes.map(\.name)) == ["10.0.0.6:8080", "direct"])
        #expect(routing.extraRoutes.allSatisfy { $0.origin == .pac })
    }

    @Test("a declared default route")
    func defaultRoute() throws {
        var config = RouteConfig(routes: [try Route.parse(name: "edge", url: "http://10.0.0.5:3128")])
        config.defaultRoute = "edge"
        let routing = try #require(try DeviceRouting.resolve(config: config, targets: Self.targets, routes: config.routes, environment: [:]))
        #expect(routing.deviceRoutes == ["edge"])
        #expect(routing.choices.values.allSatisfy { $0.answer == "default route: edge" })
    }

    @Test("no device routing declared")
    func none() throws {
        let config = RouteConfig(routes: [try Route.parse(name: "edge", url: "http://10.0.0.5:3128")])
        #expect(try DeviceRouting.resolve(config: config, targets: Self.targets, routes: config.routes, environment: ["HTTPS_PROXY": "http://x:1"]) == nil)
    }
}
