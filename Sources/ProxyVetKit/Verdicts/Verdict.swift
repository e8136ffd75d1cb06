/// What a route did with a target, in a network engineer's terms. The README has the table of meanings.
public enum Verdict: String, Codable, Sendable, CaseIterable, Comparable {
    /// The tunnel or request went through; the origin's own status is recorded but is not a failure.
    case allowed
    /// The proxy refused (403 and similar on CONNECT or GET).
    case blocked
    /// A proxy-generated page or redirect was served instead of the origin.
    case blockPage = "block_page"
    /// The proxy demands authentication and the route has no credentials.
    case authRequired = "auth_required"
    /// The proxy rejected the route's credentials.
    case authFailed = "auth_failed"
    /// The certificate did not come from a trusted issuer: someone re-signed the traffic.
    case tlsIntercepted = "tls_intercepted"
    /// Another TLS failure with the target (expired, wrong name, handshake refused).
    case tlsFailed = "tls_failed"
    /// The proxy could not reach the origin (502/503/504, connect failure at the proxy).
    case upstreamUnreachable = "upstream_unreachable"
    /// The proxy reports it could not resolve the name.
    case dnsFailure = "dns_failure"
    /// No complete answer within the probe's timeout.
    case timeout
    /// The proxy itself cannot be reached.
    case proxyUnreachable = "proxy_unreachable"
    /// The connection was closed or reset without an answer.
    case dropped
    /// Something answered that is not HTTP (or not TLS where TLS was due).
    case protocolError = "protocol_error"

    public static func < (lhs: Verdict, rhs: Verdict) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }

    /// One line for the README table and the HTML legend.
    public var meaning: String {
        switch self {
        case .allowed: return "The tunnel or request went through; the origin's own status is recorded, not judged."
        case .blocked: return "The proxy refused the request (403 and similar on CONNECT or GET), with its reason when known."
        case .blockPage: return "A proxy served its own page or a redirect instead of the origin."
        case .authRequired: return "The proxy demands authentication (407) and the route has no credentials."
        case .authFailed: return "The proxy answered 407 to the route's credentials."
        case .tlsIntercepted: return "The certificate the client saw was not issued by a trusted CA: the traffic is re-signed (inspected)."
        case .tlsFailed: return "TLS with the target failed otherwise: expired or not-yet-valid certificate, wrong name, handshake refused."
        case .upstreamUnreachable: return "The proxy could not reach the origin (502, 503, 504, connect failure beyond the proxy)."
        case .dnsFailure: return "The proxy (or, direct, the resolver) could not resolve the name."
        case .timeout: return "No complete answer within the probe timeout."
        case .proxyUnreachable: return "The proxy itself could not be reached (refused, unresolvable, no TCP connection within the connect timeout, TLS to an https proxy failed)."
        case .dropped: return "The connection was closed or reset without an answer."
        case .protocolError: return "Something answered that is not HTTP, or not TLS where TLS was due."
        }
    }

    /// How the classifier recognises it, for the README table.
    public var detection: String {
        switch self {
        case .allowed: return "Positive evidence that the origin answered: CONNECT 2xx and TLS that verifies to the origin (whatever the origin then says, even a 403 or a page saying \"blocked\"); over plain http an answer that is not a proxy's voice and matches no signature, proven by the origin's voice over verified TLS (high), by independent routes giving the same answer (medium), or unproven (low, counted in the summary); SOCKS: the proxy connected and the origin answered."
        case .blocked: return "Any proxy: an answer to CONNECT (always a proxy's) with 4xx (not 407); a 4xx recognised as a proxy's own by its voice (learnt by calibration), a product signature or Squid's X-Squid-Error, on a plain request or inside an intercepted TLS session; a signature whose meaning is blocked (Palo Alto's 503, mitmproxy's relayed CONNECT refusal); SOCKS reply 2 (not allowed by ruleset)."
        case .blockPage: return "CONNECT answered 3xx; a 2xx/3xx recognised as a proxy's voice or signature (Blue Coat notify, Forcepoint, FortiGate application control); or a plain-http answer that differs from the origin's voice seen over verified TLS (a filter's 200 page)."
        case .authRequired: return "407 (CONNECT or plain) and no credentials sent; schemes from Proxy-Authenticate, with whether a device answers them silently (Negotiate, NTLM); an auth-portal signature (Zscaler's redirect); SOCKS: no acceptable authentication method."
        case .authFailed: return "407 after credentials were sent (Basic, NTLM, or a Kerberos ticket for Negotiate); SOCKS: user rejected."
        case .tlsIntercepted: return "OpenSSL verify result is an issuer error (unable to get local issuer, self-signed in chain), a trusted issuer outside expectedIssuers, or a proxy's own page inside the TLS session; the chain presented in that same handshake, read by an OpenSSL verify callback, names the issuer (no second connection). Where the inspection CA is not trusted, what the proxy does inside the session is not seen: give ProxyVet the CA your devices trust (`trustAnchors`, `--ca-bundle`) to see it."
        case .tlsFailed: return "Verify result expired or not yet valid, host name not in the certificate, a TLS handshake alert, or the proxy's ERR_SECURE_CONNECT_FAIL."
        case .upstreamUnreachable: return "An answer to CONNECT, or a 5xx recognised as a proxy's own (voice, signature, X-Squid-Error), with 500/502/503/504; SOCKS replies 1, 3, 4 (host unreachable, medium: it may be DNS), 5, 6; direct connect refused."
        case .dnsFailure: return "A proxy's own error naming DNS (ERR_DNS_FAIL, or a page saying the name did not resolve); Squid 5.7's own signatures for NXDOMAIN, 500 ERR_CANNOT_FORWARD 0 (CONNECT) and 502 ERR_READ_ERROR 0 (GET), said as inferred; direct or socks5://: libcurl could not resolve."
        case .timeout: return "libcurl timed out after the TCP connection was up (waiting for the CONNECT answer, TLS or the response), including a TLS handshake through an https proxy that timed out."
        case .proxyUnreachable: return "libcurl could not resolve, connect to or complete TLS with the proxy; an https proxy whose own certificate fails verification (CURLINFO_PROXY_SSL_VERIFYRESULT, checked against the route's caBundle) is not trusted for anything."
        case .dropped: return "Empty reply, reset or EOF with no HTTP answer (before or after the tunnel); a SOCKS proxy that closed during its handshake."
        case .protocolError: return "libcurl: weird server reply, HTTP/0.9, CONNECT answered without a status line, headers without end, or TLS 'wrong version number' through an established tunnel."
        }
    }
}

/// How sure a verdict is, from the evidence it rests on.
public enum Confidence: String, Codable, Sendable, CaseIterable, Comparable {
    /// Nothing known to tell the answer's author: a plain-http answer with no proof and no reference to compare with.
    case low
    /// Inferred: a product's habit (Squid's NXDOMAIN signatures), a voice that shares two traits, agreement between routes.
    case medium
    /// Proven: TLS verified to the origin, an answer to CONNECT, a SOCKS reply, a signature, a libcurl failure.
    case high

    public static func < (lhs: Confidence, rhs: Confidence) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// Where in a probe its verdict was decided: what the proxy's action and the attribution read, instead of verdict names.
public enum DecisionPhase: String, Codable, Sendable, CaseIterable {
    /// Nothing answered: the proxy (or, direct, the origin) could not be reached, did not answer, or the connection
    /// ended before any answer.
    case beforeAnswer = "before_answer"
    /// A proxy answered for itself against the endpoint: a refusal, its own page or redirect, an authentication demand,
    /// a SOCKS refusal (also inside a re-signed session).
    case refused
    /// A proxy answered for itself about the origin: it tried to pass the request on and says the origin failed (an
    /// HTTP proxy's 5xx, a SOCKS reply that the origin refused or was unreachable).
    case upstreamReported = "upstream_reported"
    /// The proxy opened the tunnel or forwarded the request (direct: the connection to the origin was up), and what
    /// decided came through it: the origin's answer, or a timeout or close after that point.
    case tunnelUp = "tunnel_up"
    /// The target's TLS handshake decided: verified to the origin, failed, or re-signed by someone on the path.
    case targetTLS = "target_tls"
}
