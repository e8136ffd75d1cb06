import Foundation

/// The TLS version check of a run: for targets whose lists set `minTLS: "1.2"`, a second probe that offers only
/// TLS 1.2, sent right after the main probes through the same engine (so under the same per-proxy cap).
///
/// Which pairs get one: only https targets whose main probe completed a TLS handshake (otherwise the route's answer is
/// already the finding). On a route that intercepts any of them, all of them, since there the inspecting proxy
/// terminates TLS and decides for every name; on other routes a few (`samplePerRoute`), since there the origins
/// terminate TLS and a proxy that filters TLS versions shows on any name.
struct TLSVersionCheck {
    /// Targets probed with TLS 1.2 on a route that does not intercept.
    static let samplePerRoute = 3

    /// One pair of the run: its route, its target, the main probe's evidence and whether that probe was intercepted.
    struct Pair {
        var route: Route
        var target: ProbeTarget
        var evidence: ProbeEvidence
        var intercepted: Bool
    }

    /// Indices of the pairs that get a TLS 1.2 probe, in pair order.
    static func selection(_ pairs: [Pair]) -> [Int] {
        let candidates = pairs.indices.filter { index in
            let pair = pairs[index]
            return pair.target.minTLS == .v1_2 && pair.target.scheme == "https" && pair.evidence.tlsVersion != nil
        }
        let intercepting = Set(candidates.filter { pairs[$0].intercepted }.map { pairs[$0].route.name })
        var sampled: [String: Int] = [:]
        return candidates.filter { index in
            let route = pairs[index].route.name
            if intercepting.contains(route) { return true }
            sampled[route, default: 0] += 1
            return sampled[route, default: 0] <= samplePerRoute
        }
    }

    /// Runs the selected TLS 1.2 probes and classifies them, by pair index. `progress` gets the count done and the total.
    static func run(_ pairs: [Pair], engine: ProbeEngine, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) -> [Int: TLSVersionProbe] {
        let chosen = selection(pairs)
        guard !chosen.isEmpty else { return [:] }
        let jobs = chosen.map { index in
            ProbeJob(route: pairs[index].route, url: pairs[index].target.url, verify: false, maxTLS: .v1_2, handshakeOnly: true)
        }
        let evidence = engine.run(jobs) { done, total, _, _ in progress?(done, total) }
        var probes: [Int: TLSVersionProbe] = [:]
        for (position, index) in chosen.enumerated() {
            probes[index] = TLSVersionProbe(offered: .v1_2, evidence: evidence[position], tunnel: jobs[position].usesTunnel)
        }
        return probes
    }
}
