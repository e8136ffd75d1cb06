import Foundation

/// One probe a check sends: a target through a route.
public struct ProbePair: Sendable, Equatable {
    public var route: Route
    public var target: ProbeTarget
}

/// What a check probes, decided before anything is sent: the targets of the lists, the routes (configured, and those
/// only the device routing named) and the (route, target) pairs. `CheckRunner` probes exactly these pairs, and
/// `check --plan` shows them without sending anything.
public struct CheckPlan: Sendable {
    /// The targets of the lists and the entries that could not become targets.
    public var targets: TargetPlan
    /// The routes of the config and the command line, direct last when asked for.
    public var configured: [Route]
    /// Where devices send each target (PAC, Windows setting, default route, environment), when declared.
    public var routing: DeviceRouting?
    /// Every (route, target) pair to probe, configured routes first.
    public var pairs: [ProbePair]

    /// Routes only the device routing named (a PAC's proxy the config does not declare, or DIRECT).
    public var extraRoutes: [Route] { routing?.extraRoutes ?? [] }

    /// Every route probed: configured first, then those only the device routing named.
    public var routes: [Route] { configured + extraRoutes }

    /// Plans a check: targets from the lists, routes from the config, the device routing (which loads and evaluates
    /// the PAC, but probes nothing). Throws an input error for a PAC that cannot be loaded or evaluated.
    public init(lists: [AllowList], config: RouteConfig, tenant: String?, environment: [String: String]) throws {
        targets = TargetPlanner(tenant: tenant).plan(lists)
        configured = config.allRoutes
        routing = try DeviceRouting.resolve(config: config, targets: targets.targets, routes: configured, environment: environment)
        // Every configured route probes every target; routes only a PAC or the environment named probe the targets sent to them.
        var pairs: [ProbePair] = []
        for route in configured {
            for target in targets.targets { pairs.append(ProbePair(route: route, target: target)) }
        }
        for route in routing?.extraRoutes ?? [] {
            for target in targets.targets where routing?.choices[target.url]?.routes.contains(route.name) == true {
                pairs.append(ProbePair(route: route, target: target))
            }
        }
        self.pairs = pairs
    }
}
