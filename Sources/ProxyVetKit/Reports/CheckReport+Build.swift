import Foundation

extension CheckReport {
    /// Assembles the report in a deterministic order: routes as configured, then targets by URL.
    static func build(lists: [AllowList], routes: [Route], topology: Topology? = nil, settings: ProbeSettings, plan: TargetPlan,
                      results: [ProbeResult], conflicts: [Conflict] = [], devices: DeviceRoutingInfo? = nil,
                      started: Date, finished: Date) -> CheckReport {
        let topology = topology ?? Topology(routes: routes)
        let routeOrder = Dictionary(routes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        var sorted = results.sorted { lhs, rhs in
            (routeOrder[lhs.route] ?? 0, lhs.url) < (routeOrder[rhs.route] ?? 0, rhs.url)
        }
        let routeInfos = routes.map { route in
            let role = topology.deviceRoutes.contains(route.name) ? "device" : topology.hopOnly.contains(route.name) ? "hop" : "entry"
            return RouteInfo(name: route.name, kind: route.kind, proxy: route.proxyURL, authenticated: route.authenticates,
                             credentialSource: route.credentials?.origin ?? (route.negotiate ? "Kerberos ticket of the account running ProxyVet (Negotiate)" : nil), origin: route.origin, chain: topology.chain(of: route.name),
                             groups: topology.groups(of: route.name), role: role)
        }
        // Readiness: the routes devices use when declared (for each target, the one it ends up on), else every
        // route that is not only another proxy's upstream; and no error-severity conflict. Each result says whether
        // it counts, so JUnit, Markdown and the console fail exactly what readiness fails. The same rule reads a
        // report back (`ReadinessRule`).
        let readiness = ReadinessRule(devices: devices, routes: routeInfos)
        for index in sorted.indices {
            sorted[index].decidesReadiness = readiness.decides(route: sorted[index].route, url: sorted[index].url)
            // Milliseconds are what a reader compares; libcurl's microseconds only lengthen every result.
            sorted[index].timings = sorted[index].timings.inMilliseconds
        }
        var verdicts: [String: Int] = [:]
        for result in sorted { verdicts[result.verdict.rawValue, default: 0] += 1 }
        let routeSummaries = routes.map { route -> RouteSummary in
            let mine = sorted.filter { $0.route == route.name }
            var counts: [String: Int] = [:]
            for result in mine { counts[result.verdict.rawValue, default: 0] += 1 }
            return RouteSummary(route: route.name, verdicts: counts, failingRequired: mine.filter(\.blocksReadiness).count)
        }
        let deciding = sorted.filter { $0.decidesReadiness != false }
        let failingTargets = Set(deciding.filter(\.failsRequirement).map(\.url))
        let errorConflicts = conflicts.filter { $0.severity == .error }.count
        var conflictCounts: [String: Int] = [:]
        for conflict in conflicts { conflictCounts[conflict.kind.rawValue, default: 0] += 1 }
        let rule = devices != nil
            ? "every required endpoint is allowed, without forbidden inspection or proxy authentication, on the route a device uses for it (\(devices?.source ?? "")), and no conflict has severity error"
            : "every required endpoint is allowed, without forbidden inspection or proxy authentication, on every route probed that is not only another proxy's upstream, and no conflict has severity error"
        let formatter = ISO8601DateFormatter()
        return CheckReport(
            schemaVersion: schemaVersion,
            tool: ToolInfo(name: "proxyvet", version: ProxyVetVersion.current, libcurl: Curl.version, tls: Curl.sslVersion),
            generatedAt: formatter.string(from: finished),
            durationSeconds: (finished.timeIntervalSince(started) * 1000).rounded() / 1000,
            lists: lists.map { list in
                ListInfo(id: list.id, name: list.name, file: list.file, source: list.source, contentHash: list.contentHash,
                         services: list.services.count, endpoints: list.services.reduce(0) { $0 + $1.endpoints.count },
                         minTLS: list.minTLS)
            },
            routes: routeInfos,
            settings: SettingsInfo(concurrency: settings.concurrency, perProxy: settings.perProxy, timeoutSeconds: settings.timeout,
                                   connectTimeoutSeconds: settings.connectTimeout, caBundle: settings.caBundle),
            skipped: plan.skipped,
            devices: devices,
            results: sorted,
            conflicts: conflicts,
            summary: Summary(targets: plan.targets.count, probes: sorted.count, verdicts: verdicts, routes: routeSummaries,
                             failingRequired: failingTargets.count,
                             policyViolations: sorted.filter { !$0.policyViolations.isEmpty }.count,
                             conflicts: conflictCounts, conflictErrors: errorConflicts,
                             conflictWarnings: conflicts.filter { $0.severity == .warning }.count),
            ready: !deciding.isEmpty && failingTargets.isEmpty && errorConflicts == 0,
            readinessRule: rule)
    }
}

private extension ProbeTimings {
    /// Each phase rounded to the millisecond.
    var inMilliseconds: ProbeTimings {
        func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
        return ProbeTimings(connect: rounded(connect), tls: rounded(tls), firstByte: rounded(firstByte), total: rounded(total))
    }
}
