import Foundation

/// Runs a whole check: lists → targets → routes × targets → probe engine → classifier → report.
public struct CheckRunner: Sendable {
    public var lists: [AllowList]
    public var routes: [Route]
    public var settings: ProbeSettings
    public var tenant: String?

    public init(lists: [AllowList], routes: [Route], settings: ProbeSettings, tenant: String? = nil) {
        self.lists = lists; self.routes = routes; self.settings = settings; self.tenant = tenant
    }

    /// Probes everything and builds the report. `progress` is called after each finished probe.
    public func run(progress: ((_ done: Int, _ total: Int) -> Void)? = nil) -> CheckReport {
        let started = Date()
        let plan = TargetPlanner(tenant: tenant).plan(lists)
        var pairs: [(route: Route, target: ProbeTarget)] = []
        for route in routes {
            for target in plan.targets { pairs.append((route, target)) }
        }
        let engine = ProbeEngine(settings: settings)
        let evidence = engine.run(pairs.map { ProbeJob(route: $0.route, url: $0.target.url) }, progress: progress)
        let results = zip(pairs, evidence).map { pair, evidence in
            Self.result(route: pair.route, target: pair.target, evidence: evidence)
        }
        return CheckReport.build(lists: lists, routes: routes, settings: settings, plan: plan, results: results,
                                 started: started, finished: Date())
    }

    /// Classifies one probe and keeps the evidence a report needs.
    static func result(route: Route, target: ProbeTarget, evidence: ProbeEvidence) -> ProbeResult {
        let context = ProbeContext(scheme: target.scheme, host: target.host, port: target.port,
                                   viaProxy: route.kind != .direct, proxyIsHTTPS: route.kind == .https,
                                   policyProbe: target.policyProbe)
        let classification = Classifier.classify(evidence, context: context)
        var violations: [PolicyTag] = []
        if target.policy.contains(.noInspection), classification.intercepted { violations.append(.noInspection) }
        if target.policy.contains(.noProxyAuth), classification.authChallenged { violations.append(.noProxyAuth) }
        return ProbeResult(route: route.name, url: target.url, host: target.host, port: target.port, services: target.services,
                           requiredBy: target.requiredBy, required: target.required, policy: target.policy,
                           policyProbe: target.policyProbe, verdict: classification.verdict, reason: classification.reason,
                           policyViolations: violations, evidence: ReportedEvidence(evidence, classification),
                           timings: evidence.timings)
    }
}

extension ReportedEvidence {
    init(_ evidence: ProbeEvidence, _ classification: Classification) {
        func reported(_ head: ResponseHead, phase: String) -> ReportedResponse {
            var headers: [String: String] = [:]
            for name in ReportedEvidence.selectedHeaders {
                let values = head.values(name)
                if !values.isEmpty { headers[name] = values.joined(separator: ", ") }
            }
            return ReportedResponse(phase: phase, status: head.status, statusLine: head.statusLine, headers: headers)
        }
        let proxyGenerated = (evidence.connectResponses + evidence.responses).contains(where: Classifier.isProxyGenerated)
            && classification.verdict != .allowed
        self.init(curlCode: evidence.curlCode, curlMessage: evidence.curlMessage,
                  connectStatus: evidence.connectStatus == 0 ? nil : evidence.connectStatus,
                  httpStatus: evidence.httpStatus == 0 ? nil : evidence.httpStatus,
                  responses: evidence.connectResponses.map { reported($0, phase: "connect") } + evidence.responses.map { reported($0, phase: "response") },
                  proxyError: classification.proxyError, authChallenged: classification.authChallenged,
                  authSchemes: classification.authSchemes, intercepted: classification.intercepted,
                  allowedByPolicyOnly: classification.allowedByPolicyOnly, certificate: evidence.certificate,
                  verifyResult: evidence.verifyResult, proxyPage: proxyGenerated ? Self.pageTitle(evidence.bodySnippet) : nil)
    }

    /// The `<title>` of an HTML page, or its first non-empty line, at most 200 characters.
    static func pageTitle(_ body: String) -> String? {
        if let open = body.range(of: "<title>", options: .caseInsensitive),
           let close = body.range(of: "</title>", options: .caseInsensitive, range: open.upperBound..<body.endIndex) {
            let title = body[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
            if !title.isEmpty { return String(title.prefix(200)) }
        }
        let line = body.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        return line.map { String($0.prefix(200)) }
    }
}

extension CheckReport {
    /// Assembles the report in a deterministic order: routes as configured, then targets by URL.
    static func build(lists: [AllowList], routes: [Route], settings: ProbeSettings, plan: TargetPlan, results: [ProbeResult],
                      started: Date, finished: Date) -> CheckReport {
        let routeOrder = Dictionary(routes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        let sorted = results.sorted { lhs, rhs in
            (routeOrder[lhs.route] ?? 0, lhs.url) < (routeOrder[rhs.route] ?? 0, rhs.url)
        }
        var verdicts: [String: Int] = [:]
        for result in sorted { verdicts[result.verdict.rawValue, default: 0] += 1 }
        let routeSummaries = routes.map { route -> RouteSummary in
            let mine = sorted.filter { $0.route == route.name }
            var counts: [String: Int] = [:]
            for result in mine { counts[result.verdict.rawValue, default: 0] += 1 }
            return RouteSummary(route: route.name, verdicts: counts, failingRequired: mine.filter(\.failsRequirement).count)
        }
        let failingTargets = Set(sorted.filter(\.failsRequirement).map(\.url))
        let formatter = ISO8601DateFormatter()
        return CheckReport(
            schemaVersion: schemaVersion,
            tool: ToolInfo(name: "proxyvet", version: ProxyVetVersion.current, libcurl: Curl.version, tls: Curl.sslVersion),
            generatedAt: formatter.string(from: finished),
            durationSeconds: (finished.timeIntervalSince(started) * 1000).rounded() / 1000,
            lists: lists.map { list in
                ListInfo(id: list.id, name: list.name, file: list.file, source: list.source, contentHash: list.contentHash,
                         services: list.services.count, endpoints: list.services.reduce(0) { $0 + $1.endpoints.count })
            },
            routes: routes.map {
                RouteInfo(name: $0.name, kind: $0.kind, proxy: $0.proxyURL, authenticated: $0.credentials != nil,
                          credentialSource: $0.credentials?.origin)
            },
            settings: SettingsInfo(concurrency: settings.concurrency, perProxy: settings.perProxy, timeoutSeconds: settings.timeout,
                                   connectTimeoutSeconds: settings.connectTimeout, caBundle: settings.caBundle),
            skipped: plan.skipped,
            results: sorted,
            summary: Summary(targets: plan.targets.count, probes: sorted.count, verdicts: verdicts, routes: routeSummaries,
                             failingRequired: failingTargets.count,
                             policyViolations: sorted.filter { !$0.policyViolations.isEmpty }.count),
            ready: !sorted.isEmpty && failingTargets.isEmpty)
    }
}
