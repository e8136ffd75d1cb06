import Foundation

/// Finds conflicts between proxies, hops, groups, the PAC and the services' policies.
public struct ConflictAnalyzer: Sendable {
    public let topology: Topology
    public let routing: DeviceRouting?
    public let index: ResultIndex
    /// Attributions by route and URL.
    public let attributions: [String: [String: HopAttribution]]
    /// Product per route (squid, tinyproxy, unknown), from the answers each proxy gave.
    let products: [String: String]

    /// Verdicts that are a proxy's decision against the endpoint (not a failure beyond it).
    static let refusals: Set<Verdict> = [.blocked, .blockPage, .authRequired, .authFailed, .tlsIntercepted]

    public init(topology: Topology, routing: DeviceRouting?, results: [ProbeResult], attributions: [String: [String: HopAttribution]]) {
        self.topology = topology
        self.routing = routing
        self.index = ResultIndex(results)
        self.attributions = attributions
        var products: [String: String] = [:]
        for result in results where products[result.route] == nil || products[result.route] == "unknown" {
            products[result.route] = Self.product(of: result)
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

    func hopRef(_ name: String) -> Conflict.HopRef {
        Conflict.HopRef(name: name, proxy: topology.route(name)?.proxyURL ?? routing?.extraRoutes.first { $0.name == name }?.proxyURL,
                        product: products[name] ?? "unknown")
    }

    /// The route a device really uses for a target: the first alternative that can be reached (failover).
    public func effectiveRoute(for url: String) -> String? {
        guard let choice = routing?.choices[url] else { return nil }
        return choice.routes.first { index[$0, url].map { $0.verdict != .proxyUnreachable } ?? false } ?? choice.routes.first
    }

    public func analyze(targets: [ProbeTarget]) -> [Conflict] {
        var conflicts: [Conflict] = []
        for target in targets {
            conflicts += chainConflicts(target) + groupConflicts(target) + routeConflicts(target) + pacConflicts(target) + policyConflicts(target)
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

    private func conflict(_ kind: Conflict.Kind, _ target: ProbeTarget, severity: Conflict.Severity? = nil, routes: [String], hop: String,
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
            guard let result = index[route.name, target.url], let attribution = attributions[route.name]?[target.url],
                  attribution.hop != route.name, attribution.hop != "origin", Self.refusals.contains(result.verdict) else { continue }
            let chain = topology.chain(of: route.name)
            let hop = attribution.hop
            let previous = chain.firstIndex(of: hop).flatMap { $0 > 0 ? chain[$0 - 1] : nil }
            let passed = chain.prefix { $0 != hop }.joined(separator: " → ")
            let evidence = "\(chain.joined(separator: " → ")): \(result.verdict.rawValue): \(result.reason). Attribution (\(attribution.method), \(attribution.confidence)): \(attribution.detail)"
            switch result.verdict {
            case .blocked, .blockPage:
                found.append(conflict(.hopBlocks, target, routes: [route.name, hop], hop: hop, evidence: evidence,
                                      explanation: "\(passed) passes \(target.host) on, but \(hop) (\(attribution.position)) refuses it, so every device behind \(route.name) fails.",
                                      remediation: Remediation.allow(result, hop: hopRef(hop))))
            case .tlsIntercepted:
                let ca = result.evidence.certificate.map { Classifier.commonName($0.issuer) } ?? "an unknown CA"
                found.append(conflict(.hopIntercepts, target, routes: [route.name, hop], hop: hop, evidence: evidence,
                                      explanation: "\(hop) (\(attribution.position)) intercepts TLS to \(target.host) with \(ca) while \(passed) pass\(passed.contains("→") ? "" : "es") the tunnel through.",
                                      remediation: Remediation.noInspection(result, hop: hopRef(hop))))
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

    // MARK: Groups

    private func groupConflicts(_ target: ProbeTarget) -> [Conflict] {
        topology.groups.keys.sorted().compactMap { group -> Conflict? in
            guard let members = topology.groups[group] else { return nil }
            let results = members.compactMap { index[$0, target.url] }
            guard results.count == members.count, Set(results.map(\.verdict)).count > 1 else { return nil }
            let failing = results.filter { $0.verdict != .allowed }
            guard let worst = failing.first else { return nil }
            let summary = results.map { "\($0.route): \($0.verdict.rawValue)" }.joined(separator: ", ")
            let working = results.first { $0.verdict == .allowed }?.route
            return conflict(.groupDisagrees, target, routes: members, hop: worst.route,
                            evidence: "\(summary). \(worst.route): \(worst.reason)",
                            explanation: "The proxies of \(group) answer differently for \(target.host): a device succeeds or fails depending on which one it reaches.",
                            remediation: working.map { "Make \(worst.route) behave like \($0) for \(Remediation.squidDomain(worst)).\n" } .map { $0 + Self.fix(worst, hop: hopRef(worst.route)) }
                                ?? Self.fix(worst, hop: hopRef(worst.route)))
        }
    }

    /// The fix for a hop that refuses a target, by verdict.
    static func fix(_ result: ProbeResult, hop: Conflict.HopRef) -> String {
        switch result.verdict {
        case .tlsIntercepted: return Remediation.noInspection(result, hop: hop)
        case .authRequired, .authFailed: return Remediation.noAuth(result, hop: hop, previous: nil)
        case .blocked, .blockPage: return Remediation.allow(result, hop: hop)
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
            guard let bad = index[refusing, target.url], Self.refusals.contains(bad.verdict) else { continue }
            // Pair with the first route that allows the endpoint and is an independent way out.
            let partner = candidates.first { other in
                guard other != refusing, let good = index[other, target.url], good.verdict == .allowed, good.policyViolations.isEmpty else { return false }
                let sameProxy = topology.route(other)?.proxyKey == topology.route(refusing)?.proxyKey && topology.route(other) != nil
                let sameGroup = !Set(topology.groups(of: other)).isDisjoint(with: topology.groups(of: refusing))
                return !sameProxy && !sameGroup && !topology.related(other, refusing)
            }
            guard let partner else { continue }
            let hop = attributions[refusing]?[target.url]?.hop ?? refusing
            found.append(conflict(.routesDisagree, target, severity: .warning, routes: [partner, refusing].sorted(), hop: hop == "origin" ? refusing : hop,
                                  evidence: "\(partner): allowed; \(refusing): \(bad.verdict.rawValue): \(bad.reason)",
                                  explanation: "\(partner) lets \(target.host) through but \(refusing) does not: devices behave differently depending on the route they take.",
                                  remediation: Self.fix(bad, hop: hopRef(hop == "origin" ? refusing : hop))))
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
        let fails = Self.refusals.contains(result.verdict) || !result.policyViolations.isEmpty
        guard fails, let working = workingRoute(target, except: used) else { return [] }
        return [conflict(.pacRoutesToFailure, target, routes: [used, working], hop: "pac",
                         evidence: "PAC answer \"\(choice.answer)\" → \(used): \(result.verdict.rawValue)\(result.policyViolations.isEmpty ? "" : " violating \(result.policyViolations.map(\.rawValue).joined(separator: ", "))"): \(result.reason); \(working): allowed",
                         explanation: "The PAC sends \(target.host) to \(used), which fails it, while \(working) lets it through.",
                         remediation: Remediation.pacRoute(result, to: topology.route(working)) + "\nOr fix \(used):\n" + Self.fix(result, hop: hopRef(used)))
                .withHop(Conflict.HopRef(name: "pac", proxy: routing.pacSource, product: "pac"))]
    }

    /// A configured route (not a hop-only parent) that allows the target cleanly.
    private func workingRoute(_ target: ProbeTarget, except: String) -> String? {
        topology.routes.map(\.name).first { name in
            name != except && !topology.hopOnly.contains(name)
                && index[name, target.url].map { $0.verdict == .allowed && $0.policyViolations.isEmpty } ?? false
        }
    }

    // MARK: Policies

    private func policyConflicts(_ target: ProbeTarget) -> [Conflict] {
        guard !target.policy.isEmpty else { return [] }
        // The routes devices use: the effective PAC/default route, or every route that decides readiness.
        let used: [String]
        if let route = effectiveRoute(for: target.url) { used = [route] } else {
            used = (topology.routes.map(\.name)).filter { topology.decidesReadiness($0) }
        }
        var found: [Conflict] = []
        for route in used {
            guard let result = index[route, target.url] else { continue }
            let hop = attributions[route]?[target.url].map { $0.hop == "origin" ? route : $0.hop } ?? route
            if result.policyViolations.contains(.noInspection) {
                let ca = result.evidence.certificate.map { Classifier.commonName($0.issuer) } ?? "an unknown CA"
                found.append(conflict(.inspectionForbidden, target, routes: [route], hop: hop,
                                      evidence: "\(route): \(result.reason)",
                                      explanation: "\(target.host) does not support TLS inspection, but \(hop) intercepts it (certificate issued by \(ca)).",
                                      remediation: Remediation.noInspection(result, hop: hopRef(hop))))
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
