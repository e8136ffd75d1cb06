import Foundation

/// Runs a whole check: lists → targets → routes (config, chains, PAC) → probe engine → classifier →
/// attribution and conflicts → report.
public struct CheckRunner: Sendable {
    public var lists: [AllowList]
    public var config: RouteConfig
    public var settings: ProbeSettings
    public var tenant: String?
    public var environment: [String: String]

    public init(lists: [AllowList], config: RouteConfig, settings: ProbeSettings, tenant: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.lists = lists; self.config = config; self.settings = settings; self.tenant = tenant; self.environment = environment
    }

    /// A check of plain routes, with no chains, groups or device routing.
    public init(lists: [AllowList], routes: [Route], settings: ProbeSettings, tenant: String? = nil) {
        self.init(lists: lists, config: RouteConfig(routes: routes), settings: settings, tenant: tenant, environment: [:])
    }

    /// How far a run is, for a progress line.
    public struct Progress: Sendable, Equatable {
        public var done: Int
        public var total: Int
        /// Finished probes whose verdict is not `allowed`.
        public var failures: Int
    }

    /// Probes everything and builds the report. `progress` is called after each finished probe.
    /// Throws only for bad input found before probing (a PAC file that cannot be loaded or evaluated).
    public func run(progress: ((Progress) -> Void)? = nil) throws -> CheckReport {
        let started = Date()
        // One planning step, shared with `check --plan`: targets, routes, device routing and the pairs to probe.
        let checkPlan = try CheckPlan(lists: lists, config: config, tenant: tenant, environment: environment)
        let (plan, routing, pairs, routes) = (checkPlan.targets, checkPlan.routing, checkPlan.pairs, checkPlan.routes)
        var probeSettings = settings
        probeSettings.resolve += config.resolve
        // Trust files that are not PEM are the user's to fix (exit 2), before anything is sent.
        if let bundle = settings.caBundle { try LocalFailure.checkPEM(bundle, what: "the CA bundle") }
        for anchor in config.trustAnchors { try LocalFailure.checkPEM(anchor, what: "the trust anchor") }
        for route in routes { if let bundle = route.caBundle { try LocalFailure.checkPEM(bundle, what: "proxy \(route.name)'s caBundle") } }
        let anchors = try TrustBundle(base: settings.caBundle, extra: config.trustAnchors)
        defer { anchors?.remove() }
        if let anchors { probeSettings.caBundle = anchors.path }
        let engine = ProbeEngine(settings: probeSettings)
        let expected = config.expectedIssuers
        let topology = Topology(routes: routes, groups: config.groups, deviceRoutes: routing?.deviceRoutes ?? [])
        // Without the bundled signatures known block pages could pass as allowed: a run does not start without them.
        let signatures = try SignatureSet.loadBundled().adding(config.blockPages)

        // Learn every proxy's voice first, so each answer can be told apart as the proxy's own or the origin's.
        let voices = try Calibrator.calibrate(routes: routes, engine: engine)
        let routeVoices = Dictionary(uniqueKeysWithValues: routes.map { route in
            (route.name, topology.chain(of: route.name).compactMap { voices[$0] })
        })
        func classify(_ index: Int, _ evidence: ProbeEvidence) -> (result: ProbeResult, classification: Classification) {
            Self.classified(route: pairs[index].route, target: pairs[index].target, evidence: evidence,
                            expectedIssuers: expected + pairs[index].target.expectedIssuers,
                            voices: routeVoices[pairs[index].route.name] ?? [], signatures: signatures)
        }
        // Each probe is classified once, as it finishes, so the progress line can count failures without a second pass.
        var classified = [(result: ProbeResult, classification: Classification)?](repeating: nil, count: pairs.count)
        var failures = 0
        let evidence = engine.run(pairs.map { ProbeJob(route: $0.route, url: $0.target.url) }) { done, total, finished, evidence in
            let first = classify(finished, evidence)
            classified[finished] = first
            if first.result.verdict != .allowed { failures += 1 }
            progress?(Progress(done: done, total: total, failures: failures))
        }
        // Lists with minTLS: right after, a TLS 1.2-only probe for some of each route's targets (all where it intercepts).
        let tls12 = TLSVersionCheck.run(evidence.indices.map { index in
            TLSVersionCheck.Pair(route: pairs[index].route, target: pairs[index].target, evidence: evidence[index],
                                 intercepted: classified[index]?.classification.intercepted ?? false)
        }, engine: engine) { done, total in
            progress?(Progress(done: pairs.count + done, total: pairs.count + total, failures: failures))
        }
        // A probe that failed on this machine (CA file, libcurl itself) stops the run: it is not a network finding.
        try LocalFailure.check(evidence, what: "the probes")
        // Plain-http answers that nothing proved yet are settled against the other results.
        var results = Corroboration.apply(evidence.indices.map { index in
            let first = classified[index] ?? classify(index, evidence[index])
            return Corroboration.Entry(result: first.result, evidence: evidence[index], unproven: first.classification.originUnproven,
                                       provenOrigin: first.classification.originProven)
        }, hops: topology.chain(of:))
        for (index, probe) in tls12 { results[index].tls12 = probe }
        results = Attributor.attributed(results, topology: topology)
        for index in results.indices {
            if let choice = routing?.choices[results[index].url], let position = choice.routes.firstIndex(of: results[index].route) {
                results[index].pac = PACRouteInfo(answer: choice.answer, position: position + 1)
            }
        }
        let analyzer = ConflictAnalyzer(topology: topology, routing: routing, results: results, calibration: Array(voices.values))
        let conflicts = analyzer.analyze(targets: plan.targets)
        let devices = routing.map { routing in
            DeviceRoutingInfo(source: routing.source.rawValue, pac: routing.pacSource, endpoints: plan.targets.compactMap { target in
                routing.choices[target.url].map {
                    DeviceRoutingInfo.EndpointRoute(url: target.url, answer: $0.answer, alternatives: $0.routes,
                                                    usedRoute: analyzer.effectiveRoute(for: target.url))
                }
            })
        }
        // The report names the user's trust (--ca-bundle), not the temporary copy that adds the config's anchors: two
        // runs with the same settings must compare equal.
        var reported = probeSettings
        reported.caBundle = settings.caBundle
        var report = CheckReport.build(lists: lists, routes: routes, topology: topology, settings: reported, plan: plan,
                                       results: results, conflicts: conflicts, devices: devices, started: started, finished: Date())
        report.calibration = routes.compactMap { voices[$0.name] }
        return report
    }

    /// Classifies one probe and keeps the evidence a report needs.
    static func result(route: Route, target: ProbeTarget, evidence: ProbeEvidence, expectedIssuers: [String] = [],
                       voices: [ProxyVoice] = [], signatures: SignatureSet = .bundled) -> ProbeResult {
        classified(route: route, target: target, evidence: evidence, expectedIssuers: expectedIssuers, voices: voices, signatures: signatures).result
    }

    static func classified(route: Route, target: ProbeTarget, evidence: ProbeEvidence, expectedIssuers: [String],
                           voices: [ProxyVoice], signatures: SignatureSet) -> (result: ProbeResult, classification: Classification) {
        let context = ProbeContext(scheme: target.scheme, host: target.host, port: target.port,
                                   viaProxy: route.kind != .direct, proxyIsHTTPS: route.kind == .https,
                                   policyProbe: target.policyProbe, expectedIssuers: expectedIssuers, voices: voices,
                                   signatures: signatures, proxyIsSOCKS: route.kind == .socks5 || route.kind == .socks5h)
        let classification = Classifier.classify(evidence, context: context)
        var violations: [PolicyTag] = []
        if target.policy.contains(.noInspection), classification.intercepted { violations.append(.noInspection) }
        if target.policy.contains(.noProxyAuth), classification.authChallenged { violations.append(.noProxyAuth) }
        return (ProbeResult(route: route.name, url: target.url, host: target.host, port: target.port, services: target.services,
                           requiredBy: target.requiredBy, required: target.required, policy: target.policy,
                           policyProbe: target.policyProbe, verdict: classification.verdict, reason: classification.reason,
                           phase: classification.phase,
                           confidence: classification.confidence,
                           policyViolations: violations, evidence: ReportedEvidence(evidence, classification),
                           timings: evidence.timings), classification)
    }
}

/// A temporary CA bundle: the base trust (`--ca-bundle` or the system store) plus the config's extra anchors.
/// libcurl takes one CA file, so extra anchors are appended to a copy; the copy is removed after the run.
struct TrustBundle {
    /// libcurl's default store on Debian (curl-config --ca).
    static let systemStore = "/etc/ssl/certs/ca-certificates.crt"
    let path: String

    init?(base: String?, extra: [String]) throws {
        guard !extra.isEmpty else { return nil }
        var pem = Data()
        for file in [base ?? Self.systemStore] + extra {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw InputError(file: file, "cannot read trust anchors")
            }
            pem.append(data)
            pem.append(0x0A)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("proxyvet-trust-\(UUID().uuidString).pem")
        do { try pem.write(to: url) } catch { throw InputError(file: url.path, "cannot write the combined trust bundle") }
        path = url.path
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
