import Foundation

/// What a second probe that offered only one TLS version (TLS 1.2 for a list's `minTLS: "1.2"`) showed about the hop
/// that terminates the target's TLS: the origin through a tunnel, or the inspecting proxy that re-signs it.
///
/// Kept beside the main result; it never changes the main verdict. The probe stops after the handshake and does not
/// verify the certificate: it asks only whether the version is accepted.
public struct TLSVersionProbe: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable, CaseIterable {
        /// The handshake completed with the offered version.
        case accepted
        /// The route let the probe reach a TLS handshake (tunnel open, or a direct connection) and the handshake failed:
        /// a TLS alert (`protocol version`), or the connection closed during it.
        case refused
        /// The probe never reached a TLS handshake (the proxy refused the CONNECT, timed out, could not be reached):
        /// it says nothing about the version.
        case untested
    }

    /// The version offered, the only one (`1.2`).
    public var offered: TLSVersion
    public var outcome: Outcome
    /// The negotiated version, as OpenSSL names it (`TLSv1.2`), when the handshake completed.
    public var version: String?
    public var cipher: String?
    /// The TLS alert that refused it, as OpenSSL names it (`protocol version`), when one was received.
    public var alert: String?
    /// One sentence: what happened, with libcurl's message when the handshake failed.
    public var detail: String
    public var curlCode: Int

    public init(offered: TLSVersion, outcome: Outcome, version: String? = nil, cipher: String? = nil, alert: String? = nil,
                detail: String, curlCode: Int = 0) {
        self.offered = offered; self.outcome = outcome; self.version = version; self.cipher = cipher; self.alert = alert
        self.detail = detail; self.curlCode = curlCode
    }

    /// A few words for sentences: `is refused (TLS alert "protocol version")`, `is accepted (TLSv1.2)`.
    public var summary: String {
        switch outcome {
        case .accepted: return "is accepted" + (version.map { " (\($0))" } ?? "")
        case .refused: return "is refused" + (alert.map { " (TLS alert \"\($0)\")" } ?? " during the handshake")
        case .untested: return "was not tested (no TLS handshake reached)"
        }
    }

    /// Classifies the evidence of a probe that offered only `offered`; `tunnel` is true when the probe went through an
    /// HTTP(S) proxy's CONNECT tunnel. A pure function of the evidence.
    public init(offered: TLSVersion, evidence e: ProbeEvidence, tunnel: Bool) {
        self.offered = offered
        curlCode = e.curlCode
        if let version = e.tlsVersion {
            outcome = .accepted
            self.version = version
            cipher = e.tlsCipher
            detail = "a client offering only \(offered.label) completed the handshake (\(version)\(e.tlsCipher.map { ", \($0)" } ?? ""))"
            return
        }
        // The handshake was reached when the tunnel was open, or, without a tunnel (direct, SOCKS), once connected
        // without a SOCKS failure.
        let reachedTLS = tunnel ? (200..<300).contains(e.connectStatus) : e.connected && e.proxyReply == 0
        let handshakeFailed = e.curlCode == Classifier.sslConnectError
            || (e.curlCode == Classifier.recvError || e.curlCode == Classifier.gotNothing || e.curlCode == Classifier.sendError)
        if reachedTLS && handshakeFailed {
            outcome = .refused
            alert = Self.alert(in: e.curlMessage)
            detail = "a client offering only \(offered.label) was refused"
                + (alert.map { " with TLS alert \"\($0)\"" } ?? " during the handshake")
                + (e.curlMessage.isEmpty ? "" : " (\(e.curlMessage))")
            return
        }
        outcome = .untested
        detail = "the \(offered.label) probe did not reach a TLS handshake with the target"
            + (tunnel && e.connectStatus != 0 ? " (CONNECT answered \(e.connectStatus))" : "")
            + (e.curlMessage.isEmpty ? "" : ": \(e.curlMessage)")
    }

    /// The alert OpenSSL names in libcurl's message (`...:tlsv1 alert protocol version` → `protocol version`).
    static func alert(in message: String) -> String? {
        guard let range = message.range(of: "alert ", options: .backwards) else { return nil }
        let name = message[range.upperBound...].prefix { $0 != "," && $0 != ")" && $0 != "(" && !$0.isNewline }
            .trimmingCharacters(in: .whitespaces)
        return name.isEmpty ? nil : name
    }
}
