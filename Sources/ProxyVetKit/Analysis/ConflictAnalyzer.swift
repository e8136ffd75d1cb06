import Foundation

/// Finds conflicts between proxies, hops, groups, the PAC and the services' policies.
///
/// Wherever a conflict asks "did this proxy let it through?", it asks the result's `ProxyAction` (passed on, refused,
/// intercepted), not its verdict: a proxy that opens the tunnel to an origin that is down or hangs has let it through,
/// and one that re-signs TLS intercepts whatever the origin then does.
public struct ConflictAnalyzer: Sendable {
    public let topology: Topology
    public let routing: DeviceRouting?
    /// The results by route and URL; each failing result carries its attribution (`decidedBy`, see `Attributor.attributed`).
    public let index: ResultIndex
    /// Product per route (squid, tinyproxy, unknown), from the answers each proxy gave, else from its calibrated voice:
    /// the configuration language a remediation is written in.
    let products: [String: String]

    /// `results` with their attributions already set: the result is the one place an attribution is kept.
    public init(topology: Topology, routing: DeviceRouting?, results: [ProbeResult], calibration: [ProxyVoice] = []) {
        self.topology = topology
        self.routing = routing
        self.index = ResultIndex(results)
        var products: [String: String] = [:]
        for result in results where products[result.route] == nil || products[result.route] == "unknown" {
            products[result.route] = Self.product(of: result)
        }
        // A proxy that intercepts every probe gives no answer of its own to read; its calibration answers do.
        for voice in calibration where products[voice.route] == nil || products[voice.route] == "unknown" {
            products[voice.route] = Self.product(of: voice)
        }
        self.products = products
    }

    /// The product that answered in a result, from Server, Via and X-Squid-Error headers.
    static func product(of result: ProbeResult) -> String {
        for response in result.evidence.responses {
            let text = (response.headers["server"] ?? "") + " " + (response.headers["via"] ?? "") + " " + (response.headers["proxy-agent"] ?? "")
            if response.headers["x-squid-error"] != nil || text.lowercased().contains("squid") { return "squid" }
            if text.lowercased().contains("tinyproxy") { return "tinyproxy" }
        }
        return "unknown"
    }

    /// The product of a route's first proxy, from the answers it gave calibration itself.
    static func product(of voice: ProxyVoice) -> String {
        for sample in voice.samples where sample.hop == "first hop" {
            let server = sample.fingerprint.server?.lowercased() ?? ""
            if sample.fingerprint.productHeaders.contains("x-squid-error") || server.hasPrefix("squid") { return "squid" }
            if server.hasPrefix("tinyproxy") { return "tinyproxy" }
        }
        return "unknown"
    }

    func hopRef(_ name: String) -> Conflict.HopRef {
        Conflict.HopRef(name: name, proxy: topology.route(name)?.proxyURL ?? routing?.extraRoutes.first { $0.name == name }?.proxyURL,
                        product: products[name] ?? "unknown")
    }

    /// The routes devices use for a target: the effective PAC/default route with device routing, else every route that
    /// decides readiness.
    func usedRoutes(for target: ProbeTarget) -> [String] {
        if let route = effectiveRoute(for: target.url) { return [route] }
        return topology.routes.map(\.name).filter { topology.decidesReadiness($0) }
    }

    /// The route a device really uses for a target: the first alternative that can be reached (failover).
    public func effectiveRoute(for url: String) -> String? {
        guard let choice = routing?.choices[url] else { return nil }
        return choice.routes.first { index[$0, url].map { $0.proxyAction != .unreachable } ?? false } ?? choice.routes.first
    }

    public func analyze(targets: [ProbeTarget]) -> [Conflict] {
        var conflicts: [Conflict] = []
        for target in targets {
            conflicts += chainConflicts(target) + groupConflicts(target) + routeConflicts(target) + pacConflicts(target) + exceptionConflicts(target) + policyConflicts(target)
                + optimizeConflicts(target) + tlsConflicts(target)
        }
        return Self.merged(conflicts).sorted {
            ($0.severity, $0.hop.name, $0.kind.rawValue, $0.endpoint.url, $0.routes.joined(separator: ","))
                < ($1.severity, $1.hop.name, $1.kind.rawValue, $1.endpoint.url, $1.routes.joined(separator: ","))
        }
    }

    /// One conflict per kind, hop and endpoint: chains sharing a parent report its refusal once, with every route involved.
    static func merged(_ conflicts: [Conflict]) -> [Conflict] {
        var order: [String] = []
        var byKey: [String: Conflict] = [:]
        for conflict in conflicts {
            let key = "\(conflict.kind.rawValue)|\(conflict.hop.name)|\(conflict.endpoint.url)"
            if var existing = byKey[key] {
                for route in conflict.routes where !existing.routes.contains(route) { existing.routes.append(route) }
                existing.severity = min(existing.severity, conflict.severity)
                byKey[key] = existing
            } else {
                order.append(key)
                byKey[key] = conflict
            }
        }
        return order.compactMap { byKey[$0] }
    }

    /// A conflict about `target`, named by the hop that must change; severity `error` for a required endpoint unless given.
    func conflict(_ kind: Conflict.Kind, _ target: ProbeTarget, severity: Conflict.Severity? = nil, routes: [String], hop: String,
                  evidence: String, explanation: String, remediation: String) -> Conflict {
        Conflict(kind: kind, severity: severity ?? (target.required ? .error : .warning),
                 endpoint: .init(url: target.url, host: target.host, port: target.port), routes: routes, hop: hopRef(hop),
                 evidence: evidence, explanation: explanation, remediation: remediation)
    }

    // MARK: Chains

    private func chainConflicts(_ target: ProbeTarget) -> [Conflict] {
        var found: [Conflict] = []
        // Chains seen from their entry: a hop-only proxy's own chain is part of a longer one already looked at.
        for route in topology.routes where route.upstream != nil && !topology.hopOnly.contains(route.name) {
            guard let result = index[route.name, target.url], result.proxyAction.isPolicyFailure,
                  let attribution = decision(result), attribution.hop != route.name, attribution.hop != "origin" else { continue }
            let chain = topology.chain(of: route.name)
            let hop = attribution.hop
            let previous = chain.firstIndex(of: hop).flatMap { $0 > 0 ? chain[$0 - 1] : nil }
            let passed = chain.prefix { $0 != hop }.joined(separator: " → ")
            let ca = result.evidence.certificate.map { Classifier.commonName($0.issuer) } ?? "an unknown CA"
            let intercepted = result.proxyAction == .intercepted
            let evidence = "\(chain.joined(separator: " → ")): \(intercepted ? "intercepted (certificate issued by \(ca)), " : "")\(result.verdict.rawValue): \(result.reason). Attribution (\(attribution.method), \(attribution.confidence)): \(attribution.detail)"
            if intercepted {
                let origin = result.verdict == .tlsIntercepted ? "" : " The origin behind it failed as well (\(result.verdict.rawValue)); that does not change the inspection."
                found.append(conflict(.hopIntercepts, target, routes: [route.name, hop], hop: hop, evidence: evidence,
                                      explanation: "\(hop) (\(attribution.position)) intercepts TLS to \(target.host) with \(ca) while \(passed) pass\(passed.contains("→") ? "" : "es") the tunnel through.\(origin)",
                                      remediation: Remediation.noInspection(result, hop: hopRef(hop))))
                continue
            }
            switch result.verdict {
            case .blocked, .blockPage:
                found.append(conflict(.hopBlocks, target, routes: [route.name, hop], hop: hop, evidence: evidence,
                                      explanation: "\(passed) passes \(target.host) on, but \(hop) (\(attribution.position)) refuses it, so every device behind \(route.name) fails.",
                                      remediation: Remediation.allow(result, hop: hopRef(hop))))
            case .authRequired, .authFailed:
                found.append(conflict(.hopRequiresAuth, target, routes: [route.name, hop], hop: hop, evidence: evidence,
                                      explanation: "\(hop) (\(attribution.position)) demands proxy authentication that \(previous ?? route.name) does not forward.",
                                      remediation: Remediation.noAuth(result, hop: hopRef(hop), previous: previous)))
            default:
                break
            }
        }
        return found
    }

    /// The hop whose policy decided a refused or intercepted result: the refusing hop's attribution, or the hop that
    /// re-signs TLS (the failure attribution would name the origin when the origin behind the inspecting hop failed).
    private func decision(_ result: ProbeResult) -> HopAttribution? {
        switch result.proxyAction {
        case .intercepted: return Attributor.interceptor(of: result, topology: topology, index: index)
        case .refused: return result.decidedBy
        default: return nil
        }
    }

    /// The hop a failing result on `route` is attributed to; the route itself when nothing is, or when it is the origin.
    func attributedHop(_ route: String, _ url: String) -> String {
        guard let hop = index[route, url]?.decidedBy?.hop, hop != "origin" else { return route }
        return hop
    }

    /// The hop to name for a refused or intercepted result on `route`: its deciding hop, the route itself for a failure
    /// attributed to the origin.
    private func decidingHop(_ result: ProbeResult) -> String {
        guard let hop = decision(result)?.hop, hop != "origin" else { return result.route }
        return hop
    }

    /// Of the routes that pass a target on cleanly, the first whose origin answered too, else the first.
    private func passingRoute(_ names: [String], _ target: ProbeTarget) -> String? {
        let clean = names.filter { index[$0, target.url].map { $0.proxyAction == .passedOn && $0.policyViolations.isEmpty } ?? false }
        return clean.first { index[$0, target.url]?.verdict == .allowed } ?? clean.first
    }

    /// `allowed`, or `passed on (timeout: …)` when the origin behind the proxy failed.
    private static func passed(_ result: ProbeResult) -> String {
        result.verdict == .allowed ? "allowed" : "passed on (\(result.verdict.rawValue): \(result.reason))"
    }

    // MARK: Groups

    private func groupConflicts(_ target: ProbeTarget) -> [Conflict] {
        topology.groups.keys.sorted().compactMap { group -> Conflict? in
            guard let members = topology.groups[group] else { return nil }
            let results = members.compactMap { index[$0, target.url] }
            guard results.count == members.count else { return nil }
            // Compared on policy: members whose probe shows no decision (down, dropped, silent) say nothing about theirs.
            let decided = results.filter { $0.proxyAction.isDecision }
            guard Set(decided.map(Self.policy)).count > 1,
                  let worst = decided.first(where: { $0.proxyAction == .refused }) ?? decided.first(where: { $0.proxyAction == .intercepted })
            else { return nil }
            let summary = results.map { "\($0.route): \($0.verdict.rawValue) (\($0.proxyAction.label))" }.joined(separator: ", ")
            let decisions = decided.map { "\($0.route) \($0.proxyAction.phrase)" }.joined(separator: ", ")
            let origin = decided.filter { $0.proxyAction == .passedOn && $0.verdict != .allowed }
                .map { " \($0.route) passed it on and the origin behind it then failed (\($0.verdict.rawValue)): that is the origin's health, not the proxy's policy." }
                .joined()
            let working = passingRoute(decided.map(\.route), target)
            let hop = hopRef(worst.route)
            return conflict(.groupDisagrees, target, routes: members, hop: worst.route,
                            evidence: "\(summary). \(worst.route): \(worst.reason)",
                            explanation: "The proxies of \(group) decide differently for \(target.host) (\(decisions)): a device succeeds or fails depending on which one it reaches.\(origin)",
                            remediation: working.map { "Make \(worst.route) behave like \($0) for \(Remediation.squidDomain(worst)).\n" }.map { $0 + Self.fix(worst, hop: hop) }
                                ?? Self.fix(worst, hop: hop))
        }
    }

    /// What a group member's policy did, for comparison: passed on, intercepted, or refused with which verdict.
    private static func policy(_ result: ProbeResult) -> String {
        result.proxyAction == .refused ? "refused \(result.verdict.rawValue)" : result.proxyAction.rawValue
    }

    /// The fix for a hop that refuses or intercepts a target, by what it did (and, for a refusal, its verdict).
    static func fix(_ result: ProbeResult, hop: Conflict.HopRef) -> String {
        switch (result.proxyAction, result.verdict) {
        case (.intercepted, _): return Remediation.noInspection(result, hop: hop)
        case (.refused, .authRequired), (.refused, .authFailed): return Remediation.noAuth(result, hop: hop, previous: nil)
        case (.refused, _): return Remediation.allow(result, hop: hop)
        default: return "On \(hop.name): \(result.reason)."
        }
    }

    // MARK: Routes

    /// Routes that should both work for a target: the alternatives devices are given for it when device routing is
    /// declared, otherwise every route that is not only another proxy's upstream.
    private func candidateRoutes(for target: ProbeTarget) -> [String] {
        if let routing { return routing.choices[target.url]?.routes ?? [] }
        return topology.routes.map(\.name).filter { !topology.hopOnly.contains($0) }
    }

    private func routeConflicts(_ target: ProbeTarget) -> [Conflict] {
        let candidates = candidateRoutes(for: target)
        var found: [Conflict] = []
        for refusing in candidates {
            guard let bad = index[refusing, target.url], bad.proxyAction.isPolicyFailure else { continue }
            // Pair with a route that passes the endpoint on and is an independent way out.
            let independent = candidates.filter { other in
                guard other != refusing else { return false }
                let sameProxy = topology.route(other)?.proxyKey == topology.route(refusing)?.proxyKey && topology.route(other) != nil
                let sameGroup = !Set(topology.groups(of: other)).isDisjoint(with: topology.groups(of: refusing))
                return !sameProxy && !sameGroup && !topology.related(other, refusing)
            }
            guard let partner = passingRoute(independent, target), let good = index[partner, target.url] else { continue }
            let hop = decidingHop(bad)
            found.append(conflict(.routesDisagree, target, severity: .warning, routes: [partner, refusing].sorted(), hop: hop,
                                  evidence: "\(partner): \(Self.passed(good)); \(refusing): \(bad.verdict.rawValue) (\(bad.proxyAction.label)): \(bad.reason)",
                                  explanation: "\(partner) lets \(target.host) through but \(refusing) \(bad.proxyAction.phrase): devices behave differently depending on the route they take.",
                                  remediation: Self.fix(bad, hop: hopRef(hop))))
        }
        return found
    }

    // MARK: PAC

    private func pacConflicts(_ target: ProbeTarget) -> [Conflict] {
        guard let routing, routing.source == .pac, let choice = routing.choices[target.url], let used = effectiveRoute(for: target.url),
              let result = index[used, target.url] else { return [] }
        let isDirect = topology.route(used)?.kind == .direct || routing.extraRoutes.first { $0.name == used }?.kind == .direct
        if isDirect {
            guard result.verdict != .allowed else { return [] }
            return [conflict(.pacDirectBlocked, target, routes: [used], hop: "pac",
                             evidence: "PAC answer \"\(choice.answer)\"; direct: \(result.verdict.rawValue): \(result.reason)",
                             explanation: "The PAC sends \(target.host) DIRECT, but direct egress from here fails: devices cannot reach it.",
                             remediation: workingRoute(target, except: used).map { Remediation.pacRoute(result, to: topology.route($0)) }
                                ?? "Open direct egress to \(target.host) port \(target.port) in the firewall, or route it through a proxy in the PAC.")
                    .withHop(Conflict.HopRef(name: "pac", proxy: routing.pacSource, product: "pac"))]
        }
        let fails = result.proxyAction.isPolicyFailure || !result.policyViolations.isEmpty
        guard fails, let working = workingRoute(target, except: used), let good = index[working, target.url] else { return [] }
        return [conflict(.pacRoutesToFailure, target, routes: [used, working], hop: "pac",
                         evidence: "PAC answer \"\(choice.answer)\" → \(used): \(result.verdict.rawValue) (\(result.proxyAction.label))\(result.policyViolations.isEmpty ? "" : " violating \(result.policyViolations.map(\.rawValue).joined(separator: ", "))"): \(result.reason); \(working): \(Self.passed(good))",
                         explanation: "The PAC sends \(target.host) to \(used), which \(result.proxyAction.isPolicyFailure ? result.proxyAction.phrase : "fails it"), while \(working) lets it through.",
                         remediation: Remediation.pacRoute(result, to: topology.route(working)) + "\nOr fix \(used):\n" + Self.fix(result, hop: hopRef(used)))
                .withHop(Conflict.HopRef(name: "pac", proxy: routing.pacSource, product: "pac"))]
    }

    // MARK: Windows proxy exceptions

    /// `exception_direct_blocked`: an exception of the Windows proxy setting sends the target DIRECT and direct egress fails.
    private func exceptionConflicts(_ target: ProbeTarget) -> [Conflict] {
        guard let routing, routing.source == .windows, let windows = routing.windows, let choice = routing.choices[target.url],
              let exception = choice.exception, let used = choice.routes.first, let result = index[used, target.url],
              result.verdict != .allowed else { return [] }
        let proxy = windows.proxy
        // Whether the setting's proxy would carry it instead: the route it matched, probed for every target when configured.
        let proxyRoute = (topology.routes + routing.extraRoutes).first {
            $0.kind == .http && $0.proxyHost == windows.host && $0.proxyPort == windows.port
        }
        let viaProxy = proxyRoute.flatMap { index[$0.name, target.url] }
        let remediation: String
        if let proxyRoute, let viaProxy, viaProxy.proxyAction == .passedOn, viaProxy.policyViolations.isEmpty {
            remediation = "Remove the exception \"\(exception)\" from the Windows proxy setting (MMD: Settings → Proxy; Intune: the proxy "
                + "profile) so devices send \(target.host) to \(proxy), which passes it on (\(proxyRoute.name): \(Self.passed(viaProxy))); "
                + "or open direct egress to \(target.host) port \(target.port) in the firewall."
        } else {
            remediation = "Open direct egress to \(target.host) port \(target.port) in the firewall, or remove the exception \"\(exception)\" "
                + "from the Windows proxy setting (MMD: Settings → Proxy; Intune: the proxy profile) and let \(proxy) pass it on"
                + (viaProxy.map { " (today it \($0.proxyAction.phrase): \($0.verdict.rawValue))" } ?? "") + "."
        }
        return [conflict(.exceptionDirectBlocked, target, routes: [used], hop: "windows",
                         evidence: "Windows proxy \(proxy), exception \"\(exception)\" → DIRECT; \(used): \(result.verdict.rawValue): \(result.reason)",
                         explanation: "The Windows proxy exception \"\(exception)\" sends \(target.host) DIRECT, but direct egress from here fails: devices cannot reach it.",
                         remediation: remediation)
                .withHop(Conflict.HopRef(name: "windows", proxy: proxy, product: "windows"))]
    }

    /// A configured route (not a hop-only parent) that passes the target on cleanly, one whose origin answered first.
    private func workingRoute(_ target: ProbeTarget, except: String) -> String? {
        passingRoute(topology.routes.map(\.name).filter { $0 != except && !topology.hopOnly.contains($0) }, target)
    }

    // MARK: Policies

    private func policyConflicts(_ target: ProbeTarget) -> [Conflict] {
        guard !target.policy.isEmpty else { return [] }
        let used = usedRoutes(for: target)
        var found: [Conflict] = []
        for route in used {
            guard let result = index[route, target.url] else { continue }
            let hop = attributedHop(route, target.url)
            if result.policyViolations.contains(.noInspection) {
                // The hop that re-signs, also when the failure itself is the origin's.
                let inspecting = Attributor.interceptor(of: result, topology: topology, index: index).map(\.hop) ?? hop
                let ca = result.evidence.certificate.map { Classifier.commonName($0.issuer) } ?? "an unknown CA"
                found.append(conflict(.inspectionForbidden, target, routes: [route], hop: inspecting,
                                      evidence: "\(route): \(result.reason)",
                                      explanation: "\(target.host) does not support TLS inspection, but \(inspecting) intercepts it (certificate issued by \(ca)).",
                                      remediation: Remediation.noInspection(result, hop: hopRef(inspecting))))
            }
            if result.policyViolations.contains(.noProxyAuth) {
                found.append(conflict(.authForbidden, target, routes: [route], hop: hop,
                                      evidence: "\(route): 407 challenge (\(result.evidence.authSchemes.joined(separator: ", "))); verdict \(result.verdict.rawValue)",
                                      explanation: "\(target.host) must be reachable without proxy authentication, but \(hop) demands it.",
                                      remediation: Remediation.noAuth(result, hop: hopRef(hop), previous: nil)))
            }
        }
        return found
    }
}

extension Conflict {
    func withHop(_ hop: HopRef) -> Conflict {
        var copy = self
        copy.hop = hop
        return copy
    }
}
