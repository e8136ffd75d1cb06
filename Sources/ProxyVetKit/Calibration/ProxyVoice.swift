import Foundation

/// One answer a proxy gave to a calibration request: a request no origin can answer, so the answer is a proxy's own.
public struct VoiceSample: Codable, Sendable, Equatable {
    /// The request, in words (`GET http://<random>.invalid/ through the proxy`); the random name is not kept.
    public var request: String
    /// Which hop can have answered: `first hop` or `hop that resolves names`.
    public var hop: String
    /// The phase the answer came in: `connect` (the answer to CONNECT) or `response`.
    public var phase: String
    public var fingerprint: AnswerFingerprint
}

/// What calibration learnt about a route's proxies: how they speak when they answer themselves.
public struct ProxyVoice: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// At least one answer of the proxy's own was recorded.
        case calibrated
        /// Every calibration request was answered with an authentication demand: the voice is the 407 page.
        case refusesEverything = "refuses_everything"
        /// No HTTP answer came (the proxy is unreachable, or closed every connection): nothing to compare with.
        case noAnswer = "no_answer"
        /// The route needs no voice: direct, or SOCKS (refusals come as SOCKS replies, not pages).
        case notNeeded = "not_needed"
    }

    public var route: String
    public var status: Status
    /// What the proxy said about itself, in words, or why calibration was skipped.
    public var note: String
    public var samples: [VoiceSample]
    /// Requests sent to the proxy for calibration.
    public var requests: Int

    /// The sample this answer matches (two or more shared traits) and the traits in words; nil when it is not this voice.
    public func match(_ fingerprint: AnswerFingerprint) -> VoiceMatch? {
        var best: VoiceMatch?
        for sample in samples {
            let traits = fingerprint.sharedTraits(with: sample.fingerprint)
            guard traits.count >= 2, traits.count > best?.traits.count ?? 0 else { continue }
            best = VoiceMatch(route: route, sample: sample, traits: traits)
        }
        return best
    }
}

/// An answer recognised as a proxy's own.
public struct VoiceMatch: Sendable, Equatable {
    public var route: String
    public var sample: VoiceSample
    public var traits: [String]

    /// `the voice of edge's first hop (Server squid/5.7, the same 12 header names in the same order)`.
    public var description: String {
        "the voice of \(route)'s \(sample.hop) (\(traits.joined(separator: ", ")))"
    }
}
