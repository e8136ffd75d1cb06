import Foundation

/// Before probing, asks every proxy a few questions that only a proxy can answer, to learn its voice.
///
/// A name under `.invalid` never resolves (RFC 6761), so no origin can answer for it: a GET or a CONNECT for such a
/// name is answered by whichever hop resolves names (often the last of a chain) or refuses it by policy. A request in
/// origin form sent to the proxy's own address, and a CONNECT to port 1 (refused by every port policy), are answered
/// by the first hop. Four requests a route, through the engine, so they count against `--per-proxy` and obey the
/// timeouts like every probe.
public enum Calibrator {
    struct Request {
        var job: ProbeJob
        var words: String
        var hop: String
    }

    static func requests(for route: Route, label: String) -> [Request] {
        guard route.kind == .http || route.kind == .https, let host = route.proxyHost, let port = route.proxyPort else { return [] }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return [
            Request(job: ProbeJob(route: route, url: "http://\(label).invalid/"),
                    words: "GET http://<random>.invalid/ through the proxy", hop: "hop that resolves names"),
            Request(job: ProbeJob(route: route, url: "https://\(label).invalid/", verify: false),
                    words: "CONNECT <random>.invalid:443", hop: "hop that resolves names"),
            Request(job: ProbeJob(route: route, url: "\(route.kind == .https ? "https" : "http")://\(hostPart):\(port)/", toProxyItself: true),
                    words: "GET / sent to the proxy's own address", hop: "first hop"),
            Request(job: ProbeJob(route: route, url: "https://\(label).invalid:1/", verify: false),
                    words: "CONNECT <random>.invalid:1 (a port every policy refuses)", hop: "first hop"),
        ]
    }

    /// Calibrates every route that needs it, in one engine run; the result has an entry for every route.
    public static func calibrate(routes: [Route], engine: ProbeEngine) throws -> [String: ProxyVoice] {
        let label = "proxyvet-calibration-" + UUID().uuidString.prefix(8).lowercased()
        var planned: [(route: Route, requests: [Request])] = []
        for route in routes { planned.append((route, requests(for: route, label: label))) }
        let jobs = planned.flatMap { $0.requests.map(\.job) }
        let evidence = engine.run(jobs)
        try LocalFailure.check(evidence, what: "calibration")
        var voices: [String: ProxyVoice] = [:]
        var offset = 0
        for (route, requests) in planned {
            let answers = Array(evidence[offset..<offset + requests.count])
            offset += requests.count
            voices[route.name] = voice(of: route, requests: requests, answers: answers)
        }
        return voices
    }

    /// The voice of one route from the answers to its calibration requests.
    static func voice(of route: Route, requests: [Request], answers: [ProbeEvidence]) -> ProxyVoice {
        guard !requests.isEmpty else {
            let why = route.kind == .direct ? "direct: no proxy to calibrate"
                : "SOCKS: a SOCKS proxy refuses with a reply code, not a page of its own, so there is no voice to learn"
            return ProxyVoice(route: route.name, status: .notNeeded, note: why, samples: [], requests: 0)
        }
        var samples: [VoiceSample] = []
        for (request, evidence) in zip(requests, answers) {
            if let connect = evidence.connectResponse, !(200..<300).contains(connect.status) {
                samples.append(VoiceSample(request: request.words, hop: request.hop, phase: "connect",
                                           fingerprint: AnswerFingerprint(head: connect, body: evidence.bodySnippet)))
            } else if let response = evidence.responses.last {
                // Inside a tunnel to a name that cannot exist, only an intercepting hop can have answered.
                let hop = evidence.connectResponse == nil ? request.hop : "intercepting hop"
                samples.append(VoiceSample(request: request.words, hop: hop, phase: "response",
                                           fingerprint: AnswerFingerprint(head: response, body: evidence.bodySnippet)))
            }
        }
        if samples.isEmpty {
            let why = answers.first.map { $0.curlMessage.isEmpty ? "no answer" : $0.curlMessage } ?? "no answer"
            return ProxyVoice(route: route.name, status: .noAnswer,
                              note: "calibration skipped: the proxy gave no HTTP answer to any of \(requests.count) requests (\(ConsoleSummary.sanitize(why)))",
                              samples: [], requests: requests.count)
        }
        let distinct = samples.reduce(into: [String]()) { list, sample in
            let line = sample.fingerprint.summary
            if !list.contains(line) { list.append(line) }
        }
        // An https proxy whose certificate does not verify still answered the request sent to it without verification.
        let untrusted = answers.compactMap(\.proxyVerifyResult).first { $0 != 0 }.map {
            "; the proxy's own certificate did not verify (verify result \($0)), so nothing through it is trusted"
        } ?? ""
        if samples.allSatisfy({ $0.fingerprint.status == 407 }) {
            return ProxyVoice(route: route.name, status: .refusesEverything,
                              note: "the proxy demands authentication for every calibration request, so only its 407 page is known: \(distinct.joined(separator: " | "))\(untrusted)",
                              samples: samples, requests: requests.count)
        }
        return ProxyVoice(route: route.name, status: .calibrated,
                          note: "\(samples.count) of \(requests.count) answers were the proxy's own: \(distinct.joined(separator: " | "))\(untrusted)",
                          samples: samples, requests: requests.count)
    }
}
