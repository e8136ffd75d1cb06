import Foundation

extension ProbeResult {
    /// Allowed, without a policy violation, not on low confidence and not the odd one among the routes: a result whose
    /// evidence the HTML report shows once per group, where every other result gets a row of its own.
    var isClean: Bool { verdict == .allowed && policyViolations.isEmpty && confidence != .low && comparison == nil }
}

extension Verdict {
    /// Two letters for a cell of the HTML report's endpoint × route matrix; its legend spells them out.
    var code: String {
        switch self {
        case .allowed: return "ok"
        case .blocked: return "bl"
        case .blockPage: return "bp"
        case .authRequired: return "ar"
        case .authFailed: return "af"
        case .tlsIntercepted: return "ti"
        case .tlsFailed: return "tf"
        case .upstreamUnreachable: return "uu"
        case .dnsFailure: return "dn"
        case .timeout: return "to"
        case .proxyUnreachable: return "pu"
        case .dropped: return "dr"
        case .protocolError: return "pe"
        }
    }
}

/// Results of one route that went the same way (verdict, confidence, libcurl code, statuses, the proxy's error tag,
/// what the proxy did, the hop that decided, the TLS 1.2 probe's outcome): the HTML report shows what they share once, then per result only what
/// differs, so 300 endpoints refused the same way read as one finding with 300 rows, not 300 cards.
struct ResultGroup {
    var results: [ProbeResult]
    /// For clean allowed results: false for the route's biggest such group, whose endpoints are the rest of the route's
    /// allowed cells in the matrix, so only the smaller groups list their URLs.
    var listsURLs = true

    /// One line of evidence: `name` as shown, `key` telling apart lines of the same name (the first and second answer).
    struct Fact: Equatable {
        var key: String
        var name: String
        var value: String
    }

    /// The groups of one route's results: groups with results to look at first (those that keep the run from being
    /// ready, then by verdict, then the biggest), clean allowed ones last; in each, results that block readiness first.
    static func of(_ results: [ProbeResult]) -> [ResultGroup] {
        let groups = results.groupedInOrder(by: \.groupKey).map { group in
            ResultGroup(results: group.members.sorted { ($0.blocksReadiness ? 0 : 1, $0.url) < ($1.blocksReadiness ? 0 : 1, $1.url) })
        }
        let keyed: [(key: [Int], group: ResultGroup)] = groups.enumerated().map { ($0.element.sortKey + [$0.offset], $0.element) }
        var sorted = keyed.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map(\.group)
        if let biggest = sorted.firstIndex(where: { $0.results[0].isClean }) { sorted[biggest].listsURLs = false }
        return sorted
    }

    private var sortKey: [Int] {
        let first = results[0]
        return [first.isClean ? 1 : 0, results.contains(where: \.blocksReadiness) ? 0 : 1,
                Verdict.allCases.firstIndex(of: first.verdict) ?? 0, -results.count]
    }

    /// What the template renders: the facts every result shares, then a row per result with what is its own (clean
    /// allowed results only by URL: what differs among them is the certificate's subject and the timings).
    var context: [String: Any] {
        let all = results.map(Self.facts)
        let shared = all[0].filter { fact in all.allSatisfy { $0.contains(fact) } }
        let why = shared.first { $0.key == "why" }?.value
        let clean = results[0].isClean
        let failing = results.filter(\.blocksReadiness).count
        var context: [String: Any] = [
            "verdict": results[0].failureKey,
            "good": clean,
            "count": results.count,
            "hasFailing": failing > 0,
            "failing": failing,
            "headline": why ?? "reasons differ per endpoint, e.g. \(results[0].reason)",
            "shared": shared.filter { $0.key != "why" }.map { ["name": $0.name, "value": $0.value] },
            "open": !clean && results.count <= 3,
            "hasRows": !clean,
            "hasURLs": clean && listsURLs,
            "isRest": clean && !listsURLs,
        ]
        if clean {
            context["urls"] = results.map(\.url).joined(separator: "  ")
        } else {
            context["rows"] = zip(results, all).map { result, facts -> [String: Any] in
                [
                    "url": result.url,
                    "required": result.required ? "required" : "optional",
                    "policyProbe": result.policyProbe,
                    "policy": result.policy.isEmpty ? [] : [result.policy.map(\.rawValue).joined(separator: ", ")],
                    "violations": result.policyViolations.isEmpty ? [] : [result.policyViolations.map { "violates \($0.rawValue)" }.joined(separator: ", ")],
                    "facts": facts.filter { !shared.contains($0) }.map { ["name": $0.name, "value": $0.value] },
                    "timings": String(format: "%.3f / %.3f / %.3f / %.3f", result.timings.connect, result.timings.tls,
                                      result.timings.firstByte, result.timings.total),
                ]
            }
        }
        return context
    }

    /// Everything the report says about one result, as lines of evidence.
    static func facts(_ result: ProbeResult) -> [Fact] {
        var facts: [Fact] = []
        func add(_ name: String, _ value: String?, key: String? = nil) {
            if let value { facts.append(Fact(key: key ?? name, name: name, value: value)) }
        }
        let evidence = result.evidence
        add("why", result.reason)
        add("decided by", result.decidedBy.map { decided in
            // The detail often repeats the reason just given; it is said once.
            let detail = result.reason.isEmpty ? decided.detail : decided.detail.replacingOccurrences(of: result.reason, with: "…")
            return "\(decided.hop) (\(decided.position); \(decided.method), \(decided.confidence) confidence): \(detail)"
        })
        add("confidence", result.confidence?.rawValue)
        add("what the proxy did", result.proxyAction.label)
        add("other routes", result.comparison)
        add("device routing", result.pac.map { "\($0.answer) (alternative \($0.position))" })
        add("libcurl", "\(evidence.curlCode): \(evidence.curlMessage)")
        for (index, response) in evidence.responses.enumerated() {
            let headers = response.headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            add(response.phase == "connect" ? "CONNECT answer" : "response", response.statusLine + (headers.isEmpty ? "" : " — " + headers),
                key: "answer \(index)")
        }
        if let certificate = evidence.certificate {
            add("certificate", "subject \(certificate.subject)" + (certificate.notAfter.map { "; expires \($0)" } ?? ""))
            add("issuer", certificate.issuer + (certificate.chainIssuers.isEmpty ? "" : "; chain issuers " + certificate.chainIssuers.joined(separator: " / ")))
        }
        add("TLS verify result", evidence.verifyResult.map(String.init))
        add("TLS", evidence.tlsVersion.map { version in evidence.tlsCipher.map { "\(version), \($0)" } ?? version })
        add("TLS 1.2 probe", result.tls12.map { "\($0.outcome.rawValue): \($0.detail)" })
        add("proxy page", evidence.proxyPage)
        add("answered by", evidence.answeredBy)
        add("SOCKS reply", evidence.proxyReply.map(String.init))
        add("proxy's own certificate", evidence.proxyVerifyResult.map { "verify result \($0)" })
        return facts
    }
}

private extension ProbeResult {
    /// What results of one group have in common.
    var groupKey: String {
        let evidence = self.evidence
        return [String(isClean), failureKey, confidence?.rawValue ?? "", String(evidence.curlCode), String(evidence.connectStatus ?? 0),
                String(evidence.httpStatus ?? 0), evidence.proxyError ?? "", proxyAction.rawValue, decidedBy?.hop ?? "",
                tls12?.outcome.rawValue ?? ""].joined(separator: "\u{1F}")
    }
}
