import Foundation

/// How the configured proxies fit together: chains (a proxy forwarding to its upstream) and groups.
public struct Topology: Sendable {
    public let routes: [Route]
    public let groups: [String: [String]]
    /// Routes devices use (PAC alternatives, the default route, the environment's proxy), when declared.
    public let deviceRoutes: Set<String>

    public init(routes: [Route], groups: [String: [String]] = [:], deviceRoutes: Set<String> = []) {
        self.routes = routes; self.groups = groups; self.deviceRoutes = deviceRoutes
    }

    public func route(_ name: String) -> Route? { routes.first { $0.name == name } }

    /// The hops a request through `name` crosses, first hop first: `[branch, parent, gateway]`.
    public func chain(of name: String) -> [String] {
        var hops: [String] = []
        var next: String? = name
        // Bounded by the number of routes; the config loader has refused loops.
        while let hop = next, hops.count <= routes.count, !hops.contains(hop) {
            hops.append(hop)
            next = route(hop)?.upstream
        }
        return hops
    }

    /// Routes that appear only as another proxy's upstream and that no device uses directly.
    public var hopOnly: Set<String> {
        let upstreams = Set(routes.compactMap(\.upstream))
        let grouped = Set(groups.values.joined())
        return upstreams.subtracting(deviceRoutes).subtracting(grouped)
    }

    /// Routes whose results decide readiness: the device routes when declared, otherwise every route that is not only a hop.
    public func decidesReadiness(_ name: String) -> Bool {
        deviceRoutes.isEmpty ? !hopOnly.contains(name) : deviceRoutes.contains(name)
    }

    /// True when one route's chain passes through the other (they are not independent ways out).
    public func related(_ a: String, _ b: String) -> Bool {
        chain(of: a).contains(b) || chain(of: b).contains(a)
    }

    /// The groups `name` belongs to.
    public func groups(of name: String) -> [String] {
        groups.filter { $0.value.contains(name) }.map(\.key).sorted()
    }

    /// `first hop`, `hop 2 of 3`, `last hop (3 of 3)` for a hop's place in a route's chain.
    public func position(of hop: String, in routeName: String) -> String {
        let hops = chain(of: routeName)
        guard let index = hops.firstIndex(of: hop) else { return "outside the chain" }
        if hops.count == 1 { return "the proxy" }
        if index == 0 { return "first hop" }
        if index == hops.count - 1 { return "last hop (\(index + 1) of \(hops.count))" }
        return "hop \(index + 1) of \(hops.count)"
    }

    /// The route whose names (Via pseudonym, host) match `token`, preferring the given chain's hops.
    public func hop(named token: String, among candidates: [String]) -> String? {
        let token = token.lowercased()
        let pool = candidates.compactMap(route)
        if let match = pool.first(where: { $0.aliases.contains(token) }) { return match.name }
        let byHost = pool.filter { $0.proxyHost == token }
        return byHost.count == 1 ? byHost.first?.name : nil
    }
}
