import Foundation

/// The JSON form of a report, schema 3 (docs/report-schema.md): each result under its target, each run of conflicts
/// under the kind and hop they share, and what many results share (reasons, attributions, evidence, proxy answers,
/// certificates, chains, TLS 1.2 probes) stored once in a table under a short id. `CheckReport` encodes as this and
/// decodes from it, so the report in memory stays typed and every format renders from the same values.
struct ReportDocument: Codable, Equatable {
    /// The top-level keys schema 3 shares with schemas 1 and 2.
    var head: ReportHead
    var targets: [TargetRecord]
    var conflicts: [ConflictGroup]
    var tables: Tables

    private enum CodingKeys: String, CodingKey { case targets, conflicts }

    /// The head, the targets and conflicts, and the tables are keys of one JSON object.
    init(from decoder: any Decoder) throws {
        head = try ReportHead(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        targets = try container.decode([TargetRecord].self, forKey: .targets)
        conflicts = try container.decode([ConflictGroup].self, forKey: .conflicts)
        tables = try Tables(from: decoder)
    }

    /// Writes the head, the targets and conflicts, and the tables as keys of one object.
    func encode(to encoder: any Encoder) throws {
        try head.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(targets, forKey: .targets)
        try container.encode(conflicts, forKey: .conflicts)
        try tables.encode(to: encoder)
    }

    /// What results share, each table from id to entry; a table without entries is left out.
    struct Tables: Codable, Equatable {
        var reasons: [String: String]?
        var attributions: [String: HopAttribution]?
        var evidence: [String: EvidenceRecord]?
        var responses: [String: ReportedEvidence.ReportedResponse]?
        var certificates: [String: CertificateRecord]?
        var chains: [String: [String]]?
        var tls12: [String: TLSVersionProbe]?
    }

    /// A probed URL, what the lists say about it, and its result on every route that probed it. Absent keys take
    /// their defaults (no services, not required, no policy, not a policy probe).
    struct TargetRecord: Codable, Equatable {
        var url: String
        var host: String
        var port: Int
        var services: [String]?
        var requiredBy: [Requirement]?
        var required: Bool?
        var policy: [PolicyTag]?
        var policyProbe: Bool?
        var results: [ResultRecord]
    }

    /// One route's result for the target it sits under; `reason`, `decidedBy`, `evidence`, `certificate` and `tls12`
    /// are ids in the tables. Absent: `confidence` high, no policy violations, and `decidesReadiness` as the report's
    /// rule has it (`ReadinessRule`).
    struct ResultRecord: Codable, Equatable {
        var route: String
        var verdict: Verdict
        /// Absent in reports written before it was recorded.
        var phase: DecisionPhase?
        var reason: String
        var confidence: Confidence?
        var comparison: String?
        var policyViolations: [PolicyTag]?
        var decidedBy: String?
        var pac: PACRouteInfo?
        var evidence: String
        var certificate: String?
        var timings: TimingsRecord?
        var tls12: String?
        var decidesReadiness: Bool?
    }

    /// Phase timings in seconds; a phase that was not reached (0) is left out.
    struct TimingsRecord: Codable, Equatable {
        var connect: Double?
        var tls: Double?
        var firstByte: Double?
        var total: Double?
    }

    /// `ReportedEvidence` without its certificate (a result names that itself), its answers as ids in `responses`, and
    /// without the defaults (false, empty).
    struct EvidenceRecord: Codable, Hashable {
        var curlCode: Int
        var curlMessage: String
        var connectStatus: Int?
        var httpStatus: Int?
        var responses: [String]?
        var proxyError: String?
        var authChallenged: Bool?
        var authSchemes: [String]?
        var intercepted: Bool?
        var allowedByPolicyOnly: Bool?
        var verifyResult: Int?
        var proxyPage: String?
        var generatedBy: String?
        var via: [String]?
        var answeredBy: String?
        var product: String?
        var signature: String?
        var proxyReply: Int?
        var proxyVerifyResult: Int?
        var tlsVersion: String?
        var tlsCipher: String?
    }

    /// A leaf certificate with the issuers of its chain as an id in `chains`.
    struct CertificateRecord: Codable, Hashable {
        var subject: String
        var issuer: String
        var notBefore: String?
        var notAfter: String?
        var subjectAltNames: [String]?
        var chain: String?
    }

    /// Consecutive conflicts of one kind, severity and hop. `routes`, `evidence`, `explanation` and `remediation` are
    /// the values most of its endpoints have; an endpoint states its own only where it differs.
    struct ConflictGroup: Codable, Equatable {
        var kind: Conflict.Kind
        var severity: Conflict.Severity
        var hop: Conflict.HopRef
        var routes: [String]
        var evidence: String
        var explanation: String
        var remediation: String
        var endpoints: [ConflictEndpoint]
    }

    /// One conflict of a group: its URL (host and port are the target's unless stated) and what differs from the group.
    struct ConflictEndpoint: Codable, Equatable {
        var url: String
        var host: String?
        var port: Int?
        var routes: [String]?
        var evidence: String?
        var explanation: String?
        var remediation: String?
    }
}

// MARK: Encoding

extension ReportDocument {
    /// The document of a report: targets by URL, ids numbered in the order the targets' results first use them.
    init(_ report: CheckReport) {
        var tables = Builder(readiness: ReadinessRule(devices: report.devices, routes: report.routes))
        // Results under their target: one record per URL, a second only where a result says otherwise about the URL.
        var groups: [(target: TargetRecord, members: [Int])] = []
        var byURL: [String: [Int]] = [:]
        for (index, result) in report.results.enumerated() {
            let target = TargetRecord(result)
            if let place = byURL[result.url]?.first(where: { groups[$0].target == target }) {
                groups[place].members.append(index)
            } else {
                byURL[result.url, default: []].append(groups.count)
                groups.append((target, [index]))
            }
        }
        let ordered = groups.enumerated().sorted { ($0.element.target.url, $0.offset) < ($1.element.target.url, $1.offset) }
        let targets = ordered.map { group in
            var target = group.element.target
            target.results = group.element.members.map { tables.record(report.results[$0]) }
            return target
        }
        var conflicts: [ConflictGroup] = []
        var run: [Conflict] = []
        let hosts = Self.hosts(targets)
        for conflict in report.conflicts {
            if let first = run.first, first.kind != conflict.kind || first.severity != conflict.severity || first.hop != conflict.hop {
                conflicts.append(ConflictGroup(run, hosts: hosts))
                run = []
            }
            run.append(conflict)
        }
        if !run.isEmpty { conflicts.append(ConflictGroup(run, hosts: hosts)) }
        head = ReportHead(report)
        head.schemaVersion = CheckReport.schemaVersion
        self.targets = targets
        self.conflicts = conflicts
        self.tables = Tables(reasons: tables.reasons.byID, attributions: tables.attributions.byID, evidence: tables.evidence.byID,
                             responses: tables.responses.byID, certificates: tables.certificates.byID, chains: tables.chains.byID,
                             tls12: tables.tls12.byID)
    }

    /// The tables a document is built with.
    struct Builder {
        let readiness: ReadinessRule
        var reasons = SharedTable<String>(prefix: "r")
        var attributions = SharedTable<HopAttribution>(prefix: "a", key: { $0.hop + " " + $0.detail })
        var evidence = SharedTable<EvidenceRecord>(prefix: "e")
        var responses = SharedTable<ReportedEvidence.ReportedResponse>(prefix: "h")
        var certificates = SharedTable<CertificateRecord>(prefix: "c")
        var chains = SharedTable<[String]>(prefix: "k")
        var tls12 = SharedTable<TLSVersionProbe>(prefix: "t", key: \.detail)

        /// The record of one result, its shared parts added to the tables.
        mutating func record(_ result: ProbeResult) -> ResultRecord {
            let timings = result.timings
            let phases = TimingsRecord(connect: nonZero(timings.connect), tls: nonZero(timings.tls),
                                       firstByte: nonZero(timings.firstByte), total: nonZero(timings.total))
            return ResultRecord(
                route: result.route, verdict: result.verdict, phase: result.phase, reason: reasons.id(result.reason),
                // A result of an older report without a confidence or a readiness flag takes the defaults: high, and
                // counted (as `blocksReadiness` already treats it).
                confidence: result.confidence == .high || result.confidence == nil ? nil : result.confidence,
                comparison: result.comparison, policyViolations: nonEmpty(result.policyViolations),
                decidedBy: result.decidedBy.map { attributions.id($0) }, pac: result.pac, evidence: evidence.id(record(result.evidence)),
                certificate: result.evidence.certificate.map { certificates.id(record($0)) },
                timings: phases == TimingsRecord() ? nil : phases, tls12: result.tls12.map { tls12.id($0) },
                // An older report's result without the flag counted for readiness.
                decidesReadiness: readiness.states(result.decidesReadiness ?? true, route: result.route, url: result.url))
        }

        /// The evidence entry of a result, its answers added to `responses`.
        mutating func record(_ evidence: ReportedEvidence) -> EvidenceRecord {
            EvidenceRecord(
                curlCode: evidence.curlCode, curlMessage: evidence.curlMessage, connectStatus: evidence.connectStatus,
                httpStatus: evidence.httpStatus, responses: nonEmpty(evidence.responses.map { responses.id($0) }),
                proxyError: evidence.proxyError, authChallenged: evidence.authChallenged ? true : nil,
                authSchemes: nonEmpty(evidence.authSchemes), intercepted: evidence.intercepted ? true : nil,
                allowedByPolicyOnly: evidence.allowedByPolicyOnly ? true : nil, verifyResult: evidence.verifyResult,
                proxyPage: evidence.proxyPage, generatedBy: evidence.generatedBy, via: nonEmpty(evidence.via),
                answeredBy: evidence.answeredBy, product: evidence.product, signature: evidence.signature,
                proxyReply: evidence.proxyReply, proxyVerifyResult: evidence.proxyVerifyResult, tlsVersion: evidence.tlsVersion,
                tlsCipher: evidence.tlsCipher)
        }

        /// The certificate entry of a result, its chain added to `chains`.
        mutating func record(_ certificate: CertificateEvidence) -> CertificateRecord {
            CertificateRecord(subject: certificate.subject, issuer: certificate.issuer, notBefore: certificate.notBefore,
                              notAfter: certificate.notAfter, subjectAltNames: nonEmpty(certificate.subjectAltNames),
                              chain: certificate.chainIssuers.isEmpty ? nil : chains.id(certificate.chainIssuers))
        }
    }
}

extension ReportDocument.TargetRecord {
    /// The target fields of a result, without results yet.
    init(_ result: ProbeResult) {
        self.init(url: result.url, host: result.host, port: result.port, services: nonEmpty(result.services),
                  requiredBy: nonEmpty(result.requiredBy), required: result.required ? true : nil, policy: nonEmpty(result.policy),
                  policyProbe: result.policyProbe ? true : nil, results: [])
    }
}

extension ReportDocument.ConflictGroup {
    /// A group of conflicts that share kind, severity and hop; `hosts` give each target URL's host and port.
    init(_ conflicts: [Conflict], hosts: [String: (host: String, port: Int)]) {
        let routes = mostCommon(conflicts.map(\.routes))
        let evidence = mostCommon(conflicts.map(\.evidence))
        let explanation = mostCommon(conflicts.map(\.explanation))
        let remediation = mostCommon(conflicts.map(\.remediation))
        self.init(kind: conflicts[0].kind, severity: conflicts[0].severity, hop: conflicts[0].hop, routes: routes, evidence: evidence,
                  explanation: explanation, remediation: remediation, endpoints: conflicts.map { conflict in
            let known = hosts[conflict.endpoint.url].map { $0.host == conflict.endpoint.host && $0.port == conflict.endpoint.port } ?? false
            return ReportDocument.ConflictEndpoint(
                url: conflict.endpoint.url, host: known ? nil : conflict.endpoint.host, port: known ? nil : conflict.endpoint.port,
                routes: conflict.routes == routes ? nil : conflict.routes, evidence: conflict.evidence == evidence ? nil : conflict.evidence,
                explanation: conflict.explanation == explanation ? nil : conflict.explanation,
                remediation: conflict.remediation == remediation ? nil : conflict.remediation)
        })
    }
}

// MARK: Decoding

extension ReportDocument {
    /// Each target URL's host and port (the first entry's), which conflict endpoints leave out when they agree.
    static func hosts(_ targets: [TargetRecord]) -> [String: (host: String, port: Int)] {
        var hosts: [String: (host: String, port: Int)] = [:]
        for target in targets where hosts[target.url] == nil { hosts[target.url] = (target.host, target.port) }
        return hosts
    }

    /// The report the document describes, its ids resolved; results in the report's order (routes as listed, then URL).
    func report() throws -> CheckReport {
        let routeOrder = Dictionary(head.routes.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        let readiness = ReadinessRule(devices: head.devices, routes: head.routes)
        var unordered: [ProbeResult] = []
        for target in targets {
            for record in target.results { unordered.append(try result(record, of: target, readiness: readiness)) }
        }
        let results = unordered.enumerated().sorted { lhs, rhs in
            (routeOrder[lhs.element.route] ?? 0, lhs.element.url, lhs.offset) < (routeOrder[rhs.element.route] ?? 0, rhs.element.url, rhs.offset)
        }.map(\.element)
        let hosts = Self.hosts(targets)
        let conflicts = try self.conflicts.flatMap { group in
            try group.endpoints.map { endpoint in
                guard let host = endpoint.host ?? hosts[endpoint.url]?.host, let port = endpoint.port ?? hosts[endpoint.url]?.port else {
                    throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "conflict endpoint \(endpoint.url) has no host and is no target"))
                }
                return Conflict(kind: group.kind, severity: group.severity, endpoint: .init(url: endpoint.url, host: host, port: port),
                                routes: endpoint.routes ?? group.routes, hop: group.hop, evidence: endpoint.evidence ?? group.evidence,
                                explanation: endpoint.explanation ?? group.explanation, remediation: endpoint.remediation ?? group.remediation)
            }
        }
        return head.report(results: results, conflicts: conflicts)
    }

    /// One result with its target's fields and its ids resolved.
    func result(_ record: ResultRecord, of target: TargetRecord, readiness: ReadinessRule) throws -> ProbeResult {
        let timings = record.timings ?? TimingsRecord()
        let reason: String = try Self.entry(record.reason, in: tables.reasons, "reasons")
        let decidedBy: HopAttribution? = try record.decidedBy.map { try Self.entry($0, in: tables.attributions, "attributions") }
        let evidence: ReportedEvidence = try evidence(record.evidence, certificate: record.certificate)
        let tls12: TLSVersionProbe? = try record.tls12.map { try Self.entry($0, in: tables.tls12, "tls12") }
        let probeTimings = ProbeTimings(connect: timings.connect ?? 0, tls: timings.tls ?? 0, firstByte: timings.firstByte ?? 0,
                                        total: timings.total ?? 0)
        let decides: Bool = record.decidesReadiness ?? readiness.decides(route: record.route, url: target.url)
        return ProbeResult(
            route: record.route, url: target.url, host: target.host, port: target.port, services: target.services ?? [],
            requiredBy: target.requiredBy ?? [], required: target.required ?? false, policy: target.policy ?? [],
            policyProbe: target.policyProbe ?? false, verdict: record.verdict, reason: reason, phase: record.phase,
            confidence: record.confidence ?? .high, comparison: record.comparison, policyViolations: record.policyViolations ?? [],
            decidedBy: decidedBy, pac: record.pac, evidence: evidence, timings: probeTimings, tls12: tls12, decidesReadiness: decides)
    }

    /// The evidence under `id` with the certificate under `certificate`.
    func evidence(_ id: String, certificate: String?) throws -> ReportedEvidence {
        let record = try Self.entry(id, in: tables.evidence, "evidence")
        let leaf = try certificate.map { id -> CertificateEvidence in
            let record = try Self.entry(id, in: tables.certificates, "certificates")
            return CertificateEvidence(subject: record.subject, issuer: record.issuer, notBefore: record.notBefore, notAfter: record.notAfter,
                                       subjectAltNames: record.subjectAltNames ?? [],
                                       chainIssuers: try record.chain.map { try Self.entry($0, in: tables.chains, "chains") } ?? [])
        }
        var reported = ReportedEvidence(
            curlCode: record.curlCode, curlMessage: record.curlMessage, connectStatus: record.connectStatus, httpStatus: record.httpStatus,
            responses: try (record.responses ?? []).map { try Self.entry($0, in: tables.responses, "responses") }, proxyError: record.proxyError,
            authChallenged: record.authChallenged ?? false, authSchemes: record.authSchemes ?? [], intercepted: record.intercepted ?? false,
            allowedByPolicyOnly: record.allowedByPolicyOnly ?? false, certificate: leaf, verifyResult: record.verifyResult,
            proxyPage: record.proxyPage, generatedBy: record.generatedBy, via: record.via ?? [], answeredBy: record.answeredBy,
            product: record.product, signature: record.signature, proxyReply: record.proxyReply, proxyVerifyResult: record.proxyVerifyResult)
        reported.tlsVersion = record.tlsVersion
        reported.tlsCipher = record.tlsCipher
        return reported
    }
}

extension ReportDocument {
    /// The entry under `id` in a decoded table; a missing id is a corrupt report, named with the table.
    static func entry<Value>(_ id: String, in table: [String: Value]?, _ name: String) throws -> Value {
        guard let value = table?[id] else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(name) has no entry \(id)"))
        }
        return value
    }
}

/// Whether a result decides readiness, as `CheckReport.build` sets it: with device routing the route a device ends up on
/// for the endpoint (`devices.endpoints[].usedRoute`), without it every route that is not only another proxy's
/// upstream (role `hop`). A result states the flag only where it differs.
struct ReadinessRule {
    private let usedRoutes: [String: String]?
    private let hops: Set<String>

    /// The rule of a report with this device routing and these routes.
    init(devices: DeviceRoutingInfo?, routes: [CheckReport.RouteInfo]) {
        usedRoutes = devices.map { devices in
            Dictionary(devices.endpoints.compactMap { entry in entry.usedRoute.map { (entry.url, $0) } }, uniquingKeysWith: { first, _ in first })
        }
        hops = Set(routes.filter { $0.role == "hop" }.map(\.name))
    }

    /// What the rule says for one result.
    func decides(route: String, url: String) -> Bool {
        usedRoutes.map { $0[url] == route } ?? !hops.contains(route)
    }

    /// The flag as written: nil where the rule says the same.
    func states(_ value: Bool, route: String, url: String) -> Bool? {
        value == decides(route: route, url: url) ? nil : value
    }
}

/// nil for 0, so a phase not reached is left out.
private func nonZero(_ value: Double) -> Double? { value == 0 ? nil : value }

/// nil for an empty collection, so an empty one is left out.
private func nonEmpty<C: Collection>(_ values: C) -> C? { values.isEmpty ? nil : values }

/// The value most elements have; of equally common ones the first seen.
private func mostCommon<Value: Hashable>(_ values: [Value]) -> Value {
    var counts: [Value: Int] = [:]
    for value in values { counts[value, default: 0] += 1 }
    var best = values[0]
    for value in values where counts[value, default: 0] > counts[best, default: 0] { best = value }
    return best
}
