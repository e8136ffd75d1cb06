import Foundation

/// The certificate the client saw for a TLS target (the leaf) and its chain's issuers, read in the handshake (`PresentedChain`),
/// in the text forms libcurl's CURLINFO_CERTINFO uses.
public struct CertificateEvidence: Codable, Sendable, Equatable {
    public var subject: String
    public var issuer: String
    public var notBefore: String?
    public var notAfter: String?
    public var subjectAltNames: [String]
    /// Issuers of the rest of the presented chain, leaf's issuer first.
    public var chainIssuers: [String]
}

/// Phase timings in seconds, from libcurl's *_TIME_T info (elapsed since the probe started).
public struct ProbeTimings: Codable, Sendable, Equatable {
    public var connect: Double
    public var tls: Double
    public var firstByte: Double
    public var total: Double

    public init(connect: Double = 0, tls: Double = 0, firstByte: Double = 0, total: Double = 0) {
        self.connect = connect; self.tls = tls; self.firstByte = firstByte; self.total = total
    }
}

/// One HTTP response head seen during a probe: the proxy's answer to CONNECT, an auth challenge, the origin's answer.
public struct ResponseHead: Codable, Sendable, Equatable {
    public var status: Int
    public var statusLine: String
    /// Header names lower-cased, in arrival order; repeated headers kept.
    public var headers: [Header]

    public struct Header: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public func value(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    public func values(_ name: String) -> [String] {
        headers.filter { $0.name == name }.map(\.value)
    }
}

/// Everything observed while probing one target through one route: the raw facts a verdict is based on.
public struct ProbeEvidence: Codable, Sendable, Equatable {
    public var curlCode: Int
    public var curlMessage: String
    /// The proxy's answer to CONNECT (CURLINFO_HTTP_CONNECTCODE); 0 when no CONNECT was answered.
    public var connectStatus: Int
    /// The last HTTP status libcurl saw (CURLINFO_RESPONSE_CODE); 0 when none.
    public var httpStatus: Int
    /// The proxy's answers to CONNECT, in order (an auth challenge, then the final answer); empty without a tunnel.
    public var connectResponses: [ResponseHead]
    /// Response heads after the tunnel was up, or to a plain http request through the proxy, in order.
    public var responses: [ResponseHead]
    /// The start of the body, decoded leniently, at most `ProbeEngine.bodyLimit` bytes.
    public var bodySnippet: String
    /// OpenSSL's verify result for the target's certificate (0 = ok); nil when no TLS with the target happened.
    public var verifyResult: Int?
    public var certificate: CertificateEvidence?
    /// libcurl's message when verification failed (`SSL certificate problem: ...`, `SSL: no alternative certificate subject name matches...`).
    public var verifyMessage: String?
    /// True when the TCP connection to the proxy (or to the origin, for direct) was established.
    public var connected: Bool
    public var timings: ProbeTimings
    /// True when the probe sent credentials.
    public var sentCredentials: Bool
    /// The SOCKS proxy's failure as libcurl names it (CURLINFO_PROXY_ERROR, a CURLPX_* code); 0 when none.
    public var proxyReply: Int = 0
    /// OpenSSL's verify result for an https proxy's own certificate (CURLINFO_PROXY_SSL_VERIFYRESULT); nil without one.
    public var proxyVerifyResult: Int?
    /// The TLS version negotiated with the target, or with the inspecting proxy that terminated it (`TLSv1.3`); nil
    /// when no handshake with the target completed.
    public var tlsVersion: String?
    /// The cipher suite of that session, OpenSSL's name (`TLS_AES_256_GCM_SHA384`).
    public var tlsCipher: String?

    public init(curlCode: Int = 0, curlMessage: String = "", connectStatus: Int = 0, httpStatus: Int = 0,
                connectResponses: [ResponseHead] = [], responses: [ResponseHead] = [], bodySnippet: String = "", verifyResult: Int? = nil,
                certificate: CertificateEvidence? = nil, verifyMessage: String? = nil, connected: Bool = true, timings: ProbeTimings = ProbeTimings(),
                sentCredentials: Bool = false, proxyReply: Int = 0, proxyVerifyResult: Int? = nil, tlsVersion: String? = nil,
                tlsCipher: String? = nil) {
        self.curlCode = curlCode; self.curlMessage = curlMessage; self.connectStatus = connectStatus
        self.httpStatus = httpStatus; self.connectResponses = connectResponses; self.responses = responses; self.bodySnippet = bodySnippet
        self.verifyResult = verifyResult; self.certificate = certificate; self.verifyMessage = verifyMessage; self.connected = connected
        self.timings = timings; self.sentCredentials = sentCredentials
        self.proxyReply = proxyReply; self.proxyVerifyResult = proxyVerifyResult
        self.tlsVersion = tlsVersion; self.tlsCipher = tlsCipher
    }

    /// The final response head inside the tunnel or to the plain request: the origin's, or a proxy's reply in its place.
    public var finalResponse: ResponseHead? { responses.last }

    /// The proxy's last answer to CONNECT.
    public var connectResponse: ResponseHead? { connectResponses.last }
}
