import Foundation

/// A verdict with the reason a person reads and the facts it rests on.
public struct Classification: Codable, Sendable, Equatable {
    public var verdict: Verdict
    /// One sentence: what happened and why ProxyVet says so.
    public var reason: String
    /// The proxy's error tag when it sent one (`ERR_ACCESS_DENIED`).
    public var proxyError: String?
    /// Authentication schemes the proxy offered in Proxy-Authenticate.
    public var authSchemes: [String]
    /// The proxy asked for authentication during the probe (even if the credentials then worked).
    public var authChallenged: Bool
    /// The target's TLS was terminated by someone other than the origin.
    public var intercepted: Bool
    /// The issuer of the certificate the client saw.
    public var issuer: String?
    /// A synthesized wildcard name whose failure to resolve still shows the proxy let it through.
    public var allowedByPolicyOnly: Bool
    /// How sure the verdict is, given the evidence it rests on.
    public var confidence: Confidence = .high
    /// Who answered, in words, when a proxy's own answer was recognised (its voice or a product signature).
    public var answeredBy: String?
    /// The product a signature named (`Palo Alto Networks NGFW`).
    public var product: String?
    /// The signature that matched (`paloalto-url-block`).
    public var signature: String?
    /// A plain-http answer taken for the origin's with nothing to prove it yet: the run compares it with the origin's
    /// voice seen over verified TLS and with the other routes' answers (`Corroboration`).
    public var originUnproven = false
    /// The final answer came inside a TLS session that verified to the origin: it is the origin's by proof.
    public var originProven = false
    /// Where in the probe the verdict was decided.
    public var phase: DecisionPhase = .beforeAnswer
}

/// What the classifier needs to know about the target and route besides the evidence.
public struct ProbeContext: Sendable {
    public var scheme: String
    public var host: String
    public var port: Int
    public var viaProxy: Bool
    public var proxyIsHTTPS: Bool
    public var policyProbe: Bool
    /// Issuer name patterns (`*` wildcards) expected for the target's certificate; any other issuer is interception.
    public var expectedIssuers: [String]
    /// The voices of the route's proxies (the route's own calibration, then its upstream hops').
    public var voices: [ProxyVoice]
    /// Known block, portal and error pages of products (the bundled file plus the config's `blockPages:`).
    public var signatures: SignatureSet
    public var proxyIsSOCKS: Bool

    public init(scheme: String, host: String, port: Int, viaProxy: Bool, proxyIsHTTPS: Bool = false, policyProbe: Bool = false,
                expectedIssuers: [String] = [], voices: [ProxyVoice] = [], signatures: SignatureSet = .bundled, proxyIsSOCKS: Bool = false) {
        self.scheme = scheme; self.host = host; self.port = port; self.viaProxy = viaProxy
        self.proxyIsHTTPS = proxyIsHTTPS; self.policyProbe = policyProbe; self.expectedIssuers = expectedIssuers
        self.voices = voices; self.signatures = signatures; self.proxyIsSOCKS = proxyIsSOCKS
    }

    /// Whether any voice is known for the route's proxies.
    var voiceKnown: Bool { voices.contains { !$0.samples.isEmpty } }
}

/// Turns the evidence of one probe into a verdict. A pure function, so every rule is tested by a table.
public enum Classifier {
    // libcurl result codes (curl/curl.h), named here so the rules read as the man page does.
    static let couldntResolveProxy = 5, couldntResolveHost = 6, couldntConnect = 7, weirdServerReply = 8
    static let timedOut = 28, sslConnectError = 35, gotNothing = 52, sendError = 55, recvError = 56
    static let proxyHandshake = 97, unsupportedProtocol = 1, http2Error = 16, outOfMemory = 27

    // OpenSSL X509 verify results that mean "this chain does not lead to a CA I trust".
    static let untrustedIssuer: Set<Int> = [2, 18, 19, 20, 21, 27]
    static let verifyNames: [Int: String] = [
        2: "unable to get issuer certificate", 9: "certificate is not yet valid", 10: "certificate has expired",
        18: "self-signed certificate", 19: "self-signed certificate in chain", 20: "unable to get local issuer certificate",
        21: "unable to verify the first certificate", 27: "certificate not trusted", 62: "host name mismatch",
    ]

    public static func classify(_ evidence: ProbeEvidence, context: ProbeContext) -> Classification {
        var result = decide(evidence, context: context)
        if context.policyProbe, result.verdict == .dnsFailure || result.verdict == .upstreamUnreachable {
            result.allowedByPolicyOnly = true
            result.reason = "allowed by policy: the proxy passed the synthesized name on (\(result.reason)); the name need not exist"
            result.verdict = .allowed
            result.confidence = min(result.confidence, .medium)
        }
        return result
    }

    private static func decide(_ e: ProbeEvidence, context: ProbeContext) -> Classification {
        let allHeads = e.connectResponses + e.responses
        let challenges = allHeads.filter { $0.status == 407 }
        var base = Classification(
            verdict: .allowed, reason: "", proxyError: allHeads.compactMap(squidError).last,
            authSchemes: Array(Set(challenges.flatMap { $0.values("proxy-authenticate") }.compactMap(scheme))).sorted(),
            authChallenged: !challenges.isEmpty, intercepted: false,
            issuer: e.certificate.map { commonName($0.issuer) }, allowedByPolicyOnly: false)
        func verdict(_ verdict: Verdict, _ reason: String) -> Classification {
            var result = base
            result.verdict = verdict
            result.reason = reason
            return result
        }

        // 0. An answer whose headers never end is not an answer, whatever status it started with. libcurl 7.88 stops
        //    at 300 KB of headers ("Too large response headers") or one header line over 100 KB (out of memory).
        if e.curlMessage.contains("Too large response headers") || e.curlCode == outOfMemory {
            return verdict(.protocolError, "the \(context.viaProxy ? "proxy" : "server") sent headers without end (\(e.curlMessage))")
        }

        // 0b. A SOCKS proxy says why it refused in its reply code (RFC 1928), which libcurl names (CURLINFO_PROXY_ERROR).
        if context.proxyIsSOCKS, e.proxyReply != 0, let judged = judgeSOCKSReply(e, context: context, make: verdict) {
            return judged
        }

        // 0c. An https proxy whose own certificate does not verify: the path cannot be trusted, whatever came after.
        if context.proxyIsHTTPS, let proxyVerify = e.proxyVerifyResult, proxyVerify != 0 {
            return verdict(.proxyUnreachable, "the https proxy's own certificate failed verification: \(verifyNames[proxyVerify] ?? "verify result \(proxyVerify)") (\(e.curlMessage)); give the route the proxy's CA as caBundle")
        }

        // 1. The proxy's answer to CONNECT, when it refused the tunnel.
        if let connect = e.connectResponse, !(200..<300).contains(connect.status) {
            return judgeProxyResponse(connect, recognised: recognition(of: connect, evidence: e, context: context), evidence: e,
                                      context: context, phase: "CONNECT", make: verdict)
                ?? verdict(.blocked, "the proxy refused CONNECT with \(connect.statusLine)")
        }

        // 1b. Certificate verification failed but no presented chain was recorded: the failure stands, unnamed.
        if let message = e.verifyMessage, e.certificate == nil {
            base.phase = .targetTLS
            if let verify = e.verifyResult, untrustedIssuer.contains(verify) {
                base.intercepted = true
                return verdict(.tlsIntercepted, "the certificate for \(context.host) was not issued by a trusted CA (\(verifyNames[verify] ?? "verify result \(verify)")): the connection is inspected (\(message))")
            }
            return verdict(.tlsFailed, "the certificate for \(context.host) failed verification (\(message))")
        }

        // 2. Failures before any answer.
        let tunnelUp = e.connectResponse.map { (200..<300).contains($0.status) } ?? false
        if allHeads.isEmpty && !tunnelUp {
            // libcurl reports a timeout inside a TLS handshake with an https proxy as a TLS error with "timed out".
            if e.curlCode == sslConnectError, Self.saysTimeout(e.curlMessage) {
                return verdict(.timeout, "no answer within the timeout (\(e.curlMessage))")
            }
            switch e.curlCode {
            case couldntResolveProxy:
                return verdict(.proxyUnreachable, "the proxy's name does not resolve (\(e.curlMessage))")
            case couldntConnect where context.viaProxy:
                return verdict(.proxyUnreachable, "nothing accepts connections at the proxy address (\(e.curlMessage))")
            case couldntConnect:
                return verdict(.upstreamUnreachable, "the origin refused the connection (\(e.curlMessage))")
            case couldntResolveHost:
                return verdict(.dnsFailure, "the name \(context.host) does not resolve (\(e.curlMessage))")
            case timedOut where !e.connected:
                return context.viaProxy
                    ? verdict(.proxyUnreachable, "no connection to the proxy within the connect timeout")
                    : verdict(.timeout, "no connection to the origin within the connect timeout")
            case timedOut:
                return verdict(.timeout, context.viaProxy
                    ? "the proxy accepted the connection but did not answer\(e.curlMessage.contains("CONNECT") ? " CONNECT within the connect timeout" : " within the timeout")"
                    : "the origin accepted the connection but did not answer within the timeout")
            case sslConnectError where context.proxyIsHTTPS:
                return verdict(.proxyUnreachable, "TLS with the https proxy failed (\(e.curlMessage))")
            case proxyHandshake:
                return verdict(.upstreamUnreachable, "the SOCKS proxy could not open the connection (\(e.curlMessage))")
            // libcurl 7.88 says "CONNECT tunnel failed, response 0" when the answer to CONNECT has no HTTP status line.
            case recvError where context.viaProxy && e.connectStatus == 0 && e.curlMessage.hasPrefix("CONNECT tunnel failed"):
                return verdict(.protocolError, "the proxy answered CONNECT with something that is not HTTP (\(e.curlMessage))")
            case weirdServerReply, unsupportedProtocol, http2Error:
                return verdict(.protocolError, "the \(context.viaProxy ? "proxy" : "server") answered with something that is not HTTP (\(e.curlMessage))")
            case gotNothing, sendError, recvError:
                return verdict(.dropped, "the \(context.viaProxy ? "proxy" : "server") closed the connection without an answer (\(e.curlMessage))")
            default:
                break
            }
        }

        // 3. TLS with the target (through the tunnel, or direct): decided by the handshake, or, when it stalled or was
        //    closed, after the tunnel (or the connection) was up.
        if context.scheme == "https" {
            base.phase = .tunnelUp
            if e.curlCode == sslConnectError || e.curlCode == timedOut, Self.saysTimeout(e.curlMessage), e.timings.tls == 0, e.certificate == nil {
                return verdict(.timeout, tunnelUp
                    ? "the proxy opened the tunnel but the TLS handshake through it did not finish within the timeout"
                    : "the TLS handshake did not finish within the timeout (\(e.curlMessage))")
            }
            // A handshake that ended because the target's chain failed verification is judged on that chain below
            // (behind an https proxy libcurl 7.88 reports it as SSL_ERROR_SYSCALL).
            if e.curlCode == sslConnectError && e.verifyMessage == nil {
                let lowered = e.curlMessage.lowercased()
                base.phase = .targetTLS
                let stage = tunnelUp ? "after the proxy opened the tunnel" : "with the origin"
                if lowered.contains("wrong version number") || lowered.contains("packet length too long") || lowered.contains("unknown protocol") {
                    return verdict(.protocolError, "the far end \(stage) answered TLS with something that is not TLS")
                }
                if lowered.contains("syscall") || lowered.contains("reset") || lowered.contains("eof") || lowered.contains("closed") {
                    base.phase = .tunnelUp
                    return verdict(.dropped, "the connection was closed during the TLS handshake \(stage) (\(e.curlMessage))")
                }
                return verdict(.tlsFailed, "the TLS handshake \(stage) failed (\(e.curlMessage))")
            }
            if let certificate = e.certificate, let verify = e.verifyResult {
                base.phase = .targetTLS
                // A proxy's own page inside the TLS session means a proxy terminated it. The body read belongs to the
                // final answer, so that is the one recognised, once, here and for the refusal below.
                let finalRecognised = e.responses.last.flatMap { recognise($0, body: e.bodySnippet, context: context) }
                let bumped = finalRecognised != nil
                let nameProblem = !certificateCovers(certificate, host: context.host)
                let issuerName = commonName(certificate.issuer)
                // An inspection CA that this machine trusts still shows: its name is not among the expected issuers.
                let unexpectedIssuer = !context.expectedIssuers.isEmpty && verify == 0
                    && !context.expectedIssuers.contains { HostPattern($0).matchesText(issuerName) }
                base.intercepted = untrustedIssuer.contains(verify) || bumped || unexpectedIssuer
                if unexpectedIssuer && !bumped {
                    return verdict(.tlsIntercepted, "the certificate for \(context.host) was issued by \(issuerName), which this machine trusts but which is not an issuer expected for the service (\(context.expectedIssuers.joined(separator: ", "))): the connection is inspected")
                }
                if base.intercepted {
                    // A proxy that inspects and then refuses: the refusal is what the user must fix first.
                    if let response = e.responses.last, bumped,
                       let judged = judgeProxyResponse(response, recognised: response.status == 407 ? nil : finalRecognised, evidence: e, context: context,
                                                       phase: "request inside the inspected TLS session", make: verdict) {
                        return judged
                    }
                    if e.curlCode == timedOut {
                        return verdict(.timeout, "the TLS session is intercepted (certificate issued by \(commonName(certificate.issuer))) and no answer came within the timeout")
                    }
                    return verdict(.tlsIntercepted, "the certificate for \(context.host) was issued by \(commonName(certificate.issuer)), not by a trusted CA (\(verifyNames[verify] ?? "verify result \(verify)")): the connection is inspected")
                }
                if verify != 0 {
                    return verdict(.tlsFailed, "the certificate for \(context.host) failed verification: \(verifyNames[verify] ?? "verify result \(verify)")\(certificate.notAfter.map { ", valid until \($0)" } ?? "")")
                }
                if nameProblem {
                    return verdict(.tlsFailed, "the certificate (\(commonName(certificate.subject))) does not name \(context.host)")
                }
                // TLS verified to the origin: whatever came through the session is the origin's, even a 403 or a page
                // that says "blocked". Only the transfer's own end remains to judge.
                if e.curlCode == 0 || (e.curlCode != timedOut && !e.responses.isEmpty) {
                    let status = e.responses.last.map { " (origin answered \($0.status))" } ?? ""
                    var result = verdict(.allowed, (tunnelUp ? "the proxy opened the tunnel and TLS verified to the origin" : "TLS verified to the origin") + status)
                    result.originProven = !e.responses.isEmpty
                    return result
                }
            }
        }

        // 4. A response to a plain request, or inside the tunnel: a proxy's own (judged below), else what came through.
        base.phase = tunnelUp || !e.responses.isEmpty ? .tunnelUp : .beforeAnswer
        if let response = e.responses.last {
            if let judged = judgeProxyResponse(response, recognised: recognition(of: response, evidence: e, context: context), evidence: e,
                                               context: context, phase: context.scheme == "https" ? "request" : "request through the proxy", make: verdict) {
                return judged
            }
        }

        // A failed verification is never evidence that the path can be trusted.
        if let message = e.verifyMessage {
            return verdict(.tlsFailed, "the certificate for \(context.host) failed verification (\(message))")
        }
        switch e.curlCode {
        case 0:
            return unprovenOrigin(e, context: context, make: verdict)
        case timedOut:
            return verdict(.timeout, tunnelUp
                ? "the proxy opened the tunnel but no answer came through it within the timeout"
                : "no complete answer within the timeout")
        case gotNothing, sendError, recvError:
            return verdict(.dropped, tunnelUp
                ? "the connection was closed after the proxy opened the tunnel (\(e.curlMessage))"
                : "the connection was closed without an answer (\(e.curlMessage))")
        case weirdServerReply, unsupportedProtocol, http2Error:
            return verdict(.protocolError, "the answer is not HTTP (\(e.curlMessage))")
        default:
            if !e.responses.isEmpty {
                var result = unprovenOrigin(e, context: context, make: verdict)
                result.reason += "; the transfer then ended with: \(e.curlMessage)"
                return result
            }
            return verdict(.dropped, "the probe ended without an answer: \(e.curlMessage)")
        }
    }

    /// An answer that nothing recognised as a proxy's: the origin's, as far as this probe can tell. Over plain http
    /// nothing proves it (no TLS), so the run still compares it with the origin's voice and the other routes' answers.
    private static func unprovenOrigin(_ e: ProbeEvidence, context: ProbeContext,
                                       make verdict: (Verdict, String) -> Classification) -> Classification {
        let status = e.responses.last.map { " (answered \($0.status))" } ?? ""
        guard context.viaProxy else {
            var result = verdict(.allowed, "the request went through\(status); direct, so no configured proxy could answer in the origin's place")
            result.confidence = context.scheme == "https" ? .high : .medium
            return result
        }
        if context.scheme == "https" {
            var result = verdict(.allowed, "the request went through\(status); the origin's certificate was not seen")
            result.confidence = .low
            return result
        }
        let voice = context.voiceKnown ? "not the proxy's voice" : "no voice is known for this proxy (calibration got no answer of its own)"
        var result = verdict(.allowed, "the request went through\(status): \(voice), no known block page; plain http, so nothing yet proves the origin answered")
        result.confidence = .low
        result.originUnproven = true
        return result
    }

    /// How an answer was recognised as a proxy's own.
    struct Recognition {
        var how: String
        var signature: SignatureMatch?
        var strong: Bool
    }

    /// Recognises a proxy's own answer, whatever the product: a known product signature, Squid's error tag (a header
    /// Squid writes only on pages it generates), or the voice calibration learnt from the route's proxies.
    static func recognise(_ head: ResponseHead, body: String, context: ProbeContext) -> Recognition? {
        if let match = context.signatures.match(head, body: body) {
            return Recognition(how: match.description, signature: match, strong: true)
        }
        if let tag = squidError(head) {
            return Recognition(how: "Squid's own error page (X-Squid-Error \(tag))", signature: nil, strong: true)
        }
        guard context.viaProxy, !context.voices.isEmpty else { return nil }
        let fingerprint = AnswerFingerprint(head: head, body: body)
        let best = context.voices.compactMap { $0.match(fingerprint) }.max { $0.traits.count < $1.traits.count }
        return best.map { Recognition(how: $0.description, signature: nil, strong: $0.traits.count >= 3) }
    }

    /// How an answer is recognised as a proxy's own; a 407 is a proxy's by its status alone.
    private static func recognition(of head: ResponseHead, evidence e: ProbeEvidence, context: ProbeContext) -> Recognition? {
        head.status == 407 ? nil : recognise(head, body: e.bodySnippet, context: context)
    }

    /// Judges a response that a proxy may have generated, given how it was recognised. Returns nil when it is the
    /// origin's answer.
    private static func judgeProxyResponse(_ head: ResponseHead, recognised: Recognition?, evidence e: ProbeEvidence, context: ProbeContext,
                                           phase: String, make verdict: (Verdict, String) -> Classification) -> Classification? {
        let fromProxy = phase == "CONNECT" || head.status == 407 || recognised != nil
        guard fromProxy else { return nil }
        let tag = squidError(head).map { " (\($0))" } ?? ""
        var result = judgeProxyStatus(head, evidence: e, context: context, phase: phase, tag: tag, recognised: recognised, make: verdict)
        // The proxy answered for itself: against the endpoint, or about the origin it tried to reach.
        result.phase = [.upstreamUnreachable, .dnsFailure, .tlsFailed].contains(result.verdict) ? .upstreamReported : .refused
        if let recognised {
            result.answeredBy = recognised.how
            if !recognised.strong && phase != "CONNECT" { result.confidence = min(result.confidence, .medium) }
        } else if phase == "CONNECT" {
            result.answeredBy = "the proxy (an answer to CONNECT is always a proxy's)"
        }
        return result
    }

    private static func judgeProxyStatus(_ head: ResponseHead, evidence e: ProbeEvidence, context: ProbeContext, phase: String, tag: String,
                                         recognised: Recognition?, make verdict: (Verdict, String) -> Classification) -> Classification {
        if head.status == 407 {
            let offered = head.values("proxy-authenticate")
            let names = offered.compactMap(scheme)
            let silent = names.filter { ["negotiate", "ntlm", "kerberos"].contains($0.lowercased()) }
            let device = names.isEmpty ? "" : silent.isEmpty
                ? " (a device can answer these only with a stored password, which services that forbid proxy authentication do not have)"
                : " (a domain-joined device answers \(silent.joined(separator: "/")) with its logon, without a prompt; services that forbid proxy authentication still fail)"
            let schemes = offered.isEmpty ? "no Proxy-Authenticate header, so no way to authenticate" : "offers \(names.joined(separator: ", "))\(device)"
            // libcurl asks first and answers a challenge it can answer (CURLAUTH_ANY): a second 407 means the route's
            // credentials were sent and refused; a single one means libcurl could answer none of the offered schemes,
            // so nothing was sent.
            let challenges = (e.connectResponses + e.responses).filter { $0.status == 407 }.count
            if e.sentCredentials && challenges >= 2 {
                return verdict(.authFailed, "the proxy rejected the route's credentials on \(phase): 407 again after they were sent, \(schemes)")
            }
            if e.sentCredentials {
                return verdict(.authRequired, "the proxy demands authentication on \(phase): 407, \(schemes); the route has credentials, but libcurl can answer none of the offered schemes with them, so nothing was sent")
            }
            return verdict(.authRequired, "the proxy demands authentication on \(phase): 407, \(schemes)")
        }
        if let match = recognised?.signature {
            var result = verdict(match.signature.meaning, "\(match.description) on \(phase): \(head.statusLine) (\(match.matched))")
            result.product = match.signature.product
            result.signature = match.signature.id
            return result
        }
        let who = recognised.map { ", recognised as \($0.how)" } ?? ""
        switch head.status {
        case 300..<400:
            let location = head.value("location").map { " to \($0)" } ?? ""
            return verdict(.blockPage, "the proxy redirected the \(phase)\(location) instead of passing it on\(tag)\(who)")
        case 200..<300:
            return verdict(.blockPage, "the proxy served its own page (\(head.statusLine)) instead of the origin's\(tag)\(who)")
        case 500..<600:
            var result = judgeUpstreamFailure(head, body: e.bodySnippet, context: context, make: verdict)
            result.reason += who
            return result
        default:
            let portNote = (context.port != 443 && context.port != 80 && phase == "CONNECT")
                ? "; CONNECT to port \(context.port) is commonly refused by Safe_ports/SSL_ports rules" : ""
            return verdict(.blocked, "the proxy refused the \(phase) with \(head.statusLine)\(tag)\(portNote)\(who)")
        }
    }

    // CURLPX_* codes (curl/curl.h, CURLINFO_PROXY_ERROR), in the order libcurl declares them.
    static let socksClosed = 3, socksNoAuth = 12, socksRecvConnect = 15, socksConnectionRefused = 19, socksGeneralFailure = 20
    static let socksHostUnreachable = 21, socksNetworkUnreachable = 22, socksNotAllowed = 23, socksTTLExpired = 24
    static let socksResolveHost = 27, socksUserRejected = 33

    /// A SOCKS proxy's refusal, from its reply code (RFC 1928 section 6) as libcurl reports it.
    private static func judgeSOCKSReply(_ e: ProbeEvidence, context: ProbeContext,
                                        make verdict: (Verdict, String) -> Classification) -> Classification? {
        let target = "\(context.host):\(context.port)"
        var result: Classification
        switch e.proxyReply {
        case socksNotAllowed:
            result = verdict(.blocked, "the SOCKS proxy refused \(target) by rule (reply 2, connection not allowed by ruleset)")
        case socksHostUnreachable:
            result = verdict(.upstreamUnreachable, "the SOCKS proxy could not resolve or reach \(context.host) (reply 4, host unreachable)")
            result.confidence = .medium
        case socksNetworkUnreachable:
            result = verdict(.upstreamUnreachable, "the SOCKS proxy has no route to \(context.host) (reply 3, network unreachable)")
        case socksConnectionRefused:
            result = verdict(.upstreamUnreachable, "\(target) refused the SOCKS proxy's connection (reply 5, connection refused)")
        case socksTTLExpired:
            result = verdict(.upstreamUnreachable, "the SOCKS proxy's connection to \(target) timed out (reply 6, TTL expired)")
        case socksGeneralFailure:
            result = verdict(.upstreamUnreachable, "the SOCKS proxy failed to connect to \(target) (reply 1, general SOCKS server failure)")
            result.confidence = .medium
        case socksNoAuth:
            result = e.sentCredentials
                ? verdict(.authFailed, "the SOCKS proxy accepts none of the authentication methods offered (with the route's credentials)")
                : verdict(.authRequired, "the SOCKS proxy demands an authentication method the route did not offer (no acceptable method)")
        case socksUserRejected:
            result = verdict(.authFailed, "the SOCKS proxy rejected the route's user name and password")
        case socksResolveHost:
            result = verdict(.dnsFailure, "\(context.host) does not resolve here, and socks5:// resolves names locally (use socks5h:// to let the proxy resolve)")
        case socksClosed, socksRecvConnect:
            result = verdict(.dropped, "the SOCKS proxy closed the connection during its handshake (\(e.curlMessage))")
        default:
            return nil
        }
        result.answeredBy = "the SOCKS proxy's reply (\(e.curlMessage))"
        // Replies that report the origin after the proxy tried it (RFC 1928 section 6); a general failure says nothing
        // about whose decision it was, and a name socks5:// failed to resolve here never reached the proxy.
        switch e.proxyReply {
        case socksConnectionRefused, socksHostUnreachable, socksNetworkUnreachable, socksTTLExpired: result.phase = .upstreamReported
        case socksGeneralFailure, socksResolveHost, socksClosed, socksRecvConnect: result.phase = .beforeAnswer
        default: result.phase = .refused
        }
        return result
    }

    /// A proxy's 5xx: what went wrong beyond the proxy, read from Squid's error tag where there is one.
    ///
    /// Squid 5.7 (measured in the lab) never sends ERR_DNS_FAIL for a name that does not resolve: it answers CONNECT
    /// with `500 ERR_CANNOT_FORWARD 0` and GET with `502 ERR_READ_ERROR 0` (errno 0, where a real read error
    /// carries one, e.g. 104). ERR_CANNOT_FORWARD also means "no parent proxy reachable", so the reason says so.
    private static func judgeUpstreamFailure(_ head: ResponseHead, body: String, context: ProbeContext,
                                             make verdict: (Verdict, String) -> Classification) -> Classification {
        let (tag, detail) = squidErrorParts(head)
        let tagText = tag.map { " (\($0)\(detail.map { " \($0)" } ?? ""))" } ?? ""
        if indicatesDNSFailure(head, body: body) {
            return verdict(.dnsFailure, "the proxy could not resolve \(context.host): \(head.statusLine)\(tagText)")
        }
        switch tag {
        case "ERR_CANNOT_FORWARD":
            return verdict(.dnsFailure, "the proxy could not forward to \(context.host): \(head.statusLine)\(tagText); Squid reports an unresolvable name this way (it also means no parent proxy was reachable)")
        case "ERR_READ_ERROR" where detail == "0":
            return verdict(.dnsFailure, "the proxy got nothing to read from \(context.host) with no system error: \(head.statusLine)\(tagText); Squid reports an unresolvable name this way")
        case "ERR_SECURE_CONNECT_FAIL":
            return verdict(.tlsFailed, "the proxy's own TLS connection to \(context.host) failed: \(head.statusLine)\(tagText)")
        default:
            break
        }
        if head.status == 504 || tag?.contains("TIMEOUT") == true {
            return verdict(.upstreamUnreachable, "the proxy got no answer from \(context.host) in time: \(head.statusLine)\(tagText)")
        }
        return verdict(.upstreamUnreachable, "the proxy could not reach \(context.host):\(context.port): \(head.statusLine)\(tagText)")
    }

    /// libcurl's words for a timeout inside a TLS handshake ("SSL connection timeout", "Connection timed out after …").
    static func saysTimeout(_ message: String) -> Bool {
        let lowered = message.lowercased()
        return lowered.contains("timed out") || lowered.contains("timeout")
    }

    /// `X-Squid-Error: ERR_READ_ERROR 104` → (`ERR_READ_ERROR`, `104`).
    static func squidErrorParts(_ head: ResponseHead) -> (tag: String?, detail: String?) {
        guard let value = head.value("x-squid-error") else { return (nil, nil) }
        let parts = value.split(separator: " ", maxSplits: 1).map(String.init)
        return (parts.first, parts.count > 1 ? parts[1] : nil)
    }

    /// Squid's `X-Squid-Error: ERR_ACCESS_DENIED 0` → `ERR_ACCESS_DENIED`.
    static func squidError(_ head: ResponseHead) -> String? {
        head.value("x-squid-error").flatMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// Whether a proxy's error reply says the name did not resolve. Squid 5.7 reports NXDOMAIN as
    /// `500 ERR_CANNOT_FORWARD` (CONNECT) or `502 ERR_READ_ERROR` (GET), not ERR_DNS_FAIL, so the body is read too.
    static func indicatesDNSFailure(_ head: ResponseHead, body: String) -> Bool {
        if squidError(head) == "ERR_DNS_FAIL" { return true }
        let lowered = body.lowercased()
        return ["unable to determine ip address", "dns_fail", "name or service not known", "nxdomain", "could not resolve",
                "dns lookup", "unable to resolve"].contains { lowered.contains($0) }
    }

    /// `Basic realm="x"` → `Basic`.
    static func scheme(_ challenge: String) -> String? {
        challenge.split(separator: " ").first.map(String.init)
    }

    /// `C = US, O = X, CN = Name` or `CN=Name,O=X` → `Name`; the whole text when there is no CN.
    public static func commonName(_ distinguishedName: String) -> String {
        for part in distinguishedName.split(whereSeparator: { $0 == "," || $0 == "/" }) {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0] == "CN" { return pair[1] }
        }
        return distinguishedName.trimmingCharacters(in: .whitespaces)
    }

    /// Host-name check (RFC 6125: a `*` covers exactly one left-most label), done here because libcurl's is off.
    static func certificateCovers(_ certificate: CertificateEvidence, host: String) -> Bool {
        let host = host.lowercased()
        let names = certificate.subjectAltNames.isEmpty ? [commonName(certificate.subject)] : certificate.subjectAltNames
        return names.contains { name in
            let name = name.lowercased()
            if name == host { return true }
            guard name.hasPrefix("*.") else { return false }
            guard let dot = host.firstIndex(of: ".") else { return false }
            return host[dot...] == name.dropFirst()
        }
    }
}
