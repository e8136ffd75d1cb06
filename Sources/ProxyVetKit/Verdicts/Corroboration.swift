import Foundation

/// Settles what one probe alone cannot: whether a plain-http answer that no proxy voice or signature claimed really
/// came from the origin, and which answer is the odd one when routes disagree on a URL.
///
/// Plain http carries no proof of its author. Two references can give one: the origin's own voice, seen for the same
/// host inside a TLS session that verified to the origin (on any route, or direct), and the answers other routes got
/// for the same URL through proxies that share no hop with this route. An answer that matches the origin's voice is
/// the origin's; one that matches an independent route's answer is very likely the origin's; one that matches
/// neither while the origin's voice is known was written by someone on the path, whatever its status says.
public enum Corroboration {
    /// One classified probe with the raw answer it got.
    public struct Entry {
        public var result: ProbeResult
        public var evidence: ProbeEvidence
        /// A plain-http answer taken for the origin's without proof (the classifier's `originUnproven`).
        public var unproven: Bool
        /// The TLS session verified to the origin, so the final answer is the origin's by proof.
        public var provenOrigin: Bool
    }

    /// Re-judges the unproven answers and marks odd answers; `hops(route)` is a route's chain (itself first).
    public static func apply(_ entries: [Entry], hops: (String) -> [String]) -> [ProbeResult] {
        var originVoices: [String: [(route: String, fingerprint: AnswerFingerprint)]] = [:]
        var answers: [String: [(route: String, fingerprint: AnswerFingerprint)]] = [:]
        // Each final answer is fingerprinted once: for the references below and to judge it.
        let fingerprints = entries.map { entry in
            entry.evidence.responses.last.map { AnswerFingerprint(head: $0, body: entry.evidence.bodySnippet) }
        }
        for (entry, fingerprint) in zip(entries, fingerprints) {
            guard let fingerprint else { continue }
            if entry.provenOrigin { originVoices[entry.result.host.lowercased(), default: []].append((entry.result.route, fingerprint)) }
            if entry.unproven || entry.provenOrigin { answers[entry.result.url, default: []].append((entry.result.route, fingerprint)) }
        }
        var results = zip(entries, fingerprints).map { entry, fingerprint -> ProbeResult in
            guard entry.unproven, let fingerprint else { return entry.result }
            return judge(entry.result, fingerprint,
                         origin: originVoices[entry.result.host.lowercased()] ?? [], peers: answers[entry.result.url] ?? [], hops: hops)
        }
        settleForwardingFailures(&results, hops: hops)
        markOddOnes(&results)
        return results
    }

    /// Squid's "cannot forward" (`ERR_CANNOT_FORWARD`) means the name did not resolve at the hop that resolves names,
    /// or a hop could not reach its parent; on CONNECT the two look the same (no Via, no page). The parent's own probe
    /// of the same URL tells them apart: if the parent, probed on its own, says the same, the name failed; if it passes
    /// the URL on or cannot be reached, the hop in front of it could not forward. A down parent must never make a
    /// policy probe pass.
    static func settleForwardingFailures(_ results: inout [ProbeResult], hops: (String) -> [String]) {
        let byRouteAndURL = ResultIndex(results)
        for index in results.indices where results[index].evidence.proxyError == "ERR_CANNOT_FORWARD" {
            let chain = hops(results[index].route)
            guard chain.count >= 2, let parent = byRouteAndURL[chain[1], results[index].url] else { continue }
            let parentSaysSame = parent.evidence.proxyError == "ERR_CANNOT_FORWARD" || parent.verdict == .dnsFailure
                || parent.evidence.allowedByPolicyOnly
            guard !parentSaysSame else { continue }
            let what = parent.verdict == .proxyUnreachable ? "cannot be reached" : "answers \(parent.verdict.rawValue)"
            results[index].verdict = .upstreamUnreachable
            results[index].confidence = .medium
            results[index].evidence.allowedByPolicyOnly = false
            results[index].reason = "\(results[index].route) could not forward to its parent \(chain[1]) (ERR_CANNOT_FORWARD): probed on its own, \(chain[1]) \(what) for this URL, so the parent, not the name, failed"
        }
    }

    static func judge(_ result: ProbeResult, _ fingerprint: AnswerFingerprint, origin: [(route: String, fingerprint: AnswerFingerprint)],
                      peers: [(route: String, fingerprint: AnswerFingerprint)], hops: (String) -> [String]) -> ProbeResult {
        var result = result
        if let match = origin.lazy.map({ ($0.route, fingerprint.originTraits(with: $0.fingerprint)) }).first(where: { $0.1.count >= 2 }) {
            result.confidence = .high
            result.reason = "the request went through (answered \(fingerprint.status)); the answer is the origin's own voice, seen over TLS verified to the origin on route \(match.0) (\(match.1.joined(separator: ", ")))"
            return result
        }
        let mine = Set(hops(result.route))
        let agreeing = peers.filter { peer in
            peer.route != result.route && mine.isDisjoint(with: hops(peer.route)) && peer.fingerprint.status == fingerprint.status
                && !fingerprint.originTraits(with: peer.fingerprint).isEmpty
        }.map(\.route)
        if !agreeing.isEmpty {
            result.confidence = .medium
            result.reason = "the request went through (answered \(fingerprint.status)); routes that share no proxy with this one got the same answer (\(agreeing.sorted().joined(separator: ", "))), so it is very likely the origin's"
            return result
        }
        if let reference = origin.first {
            result.verdict = fingerprint.status >= 500 ? .upstreamUnreachable : fingerprint.status >= 400 ? .blocked : .blockPage
            result.phase = fingerprint.status >= 500 ? .upstreamReported : .refused
            result.confidence = .medium
            result.reason = "a proxy on the route answered in the origin's place: this answer (\(fingerprint.summary)) is not the origin's, which over TLS verified to the origin on route \(reference.route) answers \(reference.fingerprint.summary)"
            result.evidence.answeredBy = "someone on the path, not the origin (compared with the origin's voice over verified TLS)"
            return result
        }
        return result
    }

    /// Where at least three routes answered a URL and most agree on the verdict, the others are marked as the odd ones.
    static func markOddOnes(_ results: inout [ProbeResult]) {
        var byURL: [String: [Int]] = [:]
        for index in results.indices { byURL[results[index].url, default: []].append(index) }
        for indices in byURL.values where indices.count >= 3 {
            var counts: [Verdict: [String]] = [:]
            for index in indices { counts[results[index].verdict, default: []].append(results[index].route) }
            guard counts.count > 1, let (majority, routes) = counts.max(by: { $0.value.count < $1.value.count }),
                  routes.count * 2 > indices.count else { continue }
            for index in indices where results[index].verdict != majority {
                results[index].comparison = "the odd one: \(routes.count) of \(indices.count) routes got \(majority.rawValue) (\(routes.sorted().joined(separator: ", ")))"
            }
        }
    }
}
