import Foundation
internal import CCurlShim

/// One probe in flight: holds its libcurl easy handle (`EasyHandle`, the owner) and collects what the callbacks deliver.
///
/// The callbacks are captureless C functions that find the transfer again through the userdata pointer and only
/// append bytes; when the body limit is reached they return 0, which makes libcurl stop the transfer
/// (CURLE_WRITE_ERROR), and the transfer remembers that it stopped on purpose.
///
/// The TLS version, cipher and presented chain of each handshake are read inside the handshake by an OpenSSL verify
/// callback (see `PresentedChain`); libcurl's verbose lines are not needed.
final class Transfer {
    let index: Int
    let job: ProbeJob
    private let easy: EasyHandle
    /// The easy handle, for the multi handle the engine adds it to and removes it from.
    var handle: UnsafeMutableRawPointer { easy.handle }
    /// When the transfer started, on a monotonic clock: a step of the wall clock (NTP, a timer that fires at boot)
    /// must not end probes in flight as timeouts.
    let started: ContinuousClock.Instant
    private let bodyLimit: Int
    private var headLines: [[String]] = []
    private var body = Data()
    private(set) var stoppedReading = false

    /// The chain each TLS handshake of this transfer presented, in the order libcurl started them: an https proxy's
    /// own handshake first, then the target's.
    private var handshakes: [PresentedChain] = []

    /// Kept alive while libcurl may read it.
    private let resolve: CurlStringList?

    init?(index: Int, job: ProbeJob, settings: ProbeSettings, resolve: CurlStringList? = nil, live: Counter? = nil) {
        guard let easy = EasyHandle() else { return nil }
        self.index = index
        self.job = job
        self.resolve = resolve
        self.easy = easy
        self.started = ContinuousClock.now
        self.bodyLimit = settings.bodyLimit
        self.live = live
        live?.add(1)
        configure(settings)
    }

    deinit {
        live?.add(-1)
    }

    /// The engine's count of transfers alive (each owns an easy handle): a run that ends above zero leaked one.
    private let live: Counter?

    private func set(_ option: CURLoption, _ value: Int) { easy.set(option, value) }
    private func set(_ option: CURLoption, _ value: String) { easy.set(option, value) }

    private func configure(_ settings: ProbeSettings) {
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        set(CURLOPT_URL, job.url)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_USERAGENT, settings.userAgent)
        set(CURLOPT_TIMEOUT_MS, Int(settings.timeout * 1000))
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout * 1000))
        // An empty proxy string turns proxies off, including any from the environment (direct route, or a request
        // addressed to the proxy itself).
        set(CURLOPT_PROXY, job.toProxyItself ? "" : job.route.proxyURL ?? "")
        // No connection, TLS session or authenticated state crosses probes, and so none crosses routes: NTLM and
        // Negotiate authenticate a connection, and a connection another route verified with its own CA must not
        // carry this route's probe (https://curl.se/libcurl/c/CURLOPT_FORBID_REUSE.html, CURLOPT_FRESH_CONNECT,
        // CURLOPT_SSL_SESSIONID_CACHE).
        set(CURLOPT_FRESH_CONNECT, 1)
        set(CURLOPT_FORBID_REUSE, 1)
        set(CURLOPT_SSL_SESSIONID_CACHE, 0)
        if let credentials = job.route.credentials, !job.toProxyItself {
            set(CURLOPT_PROXYUSERNAME, credentials.username)
            set(CURLOPT_PROXYPASSWORD, credentials.password)
            // CURLAUTH_ANY makes libcurl ask first and answer the challenge, so the 407 is observed and recorded.
            set(CURLOPT_PROXYAUTH, Int(bitPattern: UInt(CCurlShim_auth_any())))
        } else if job.route.negotiate, !job.toProxyItself {
            // Negotiate with the Kerberos ticket of the account running ProxyVet: libcurl's GSS-API takes the ticket
            // from the credential cache (KRB5CCNAME) when the user name is empty.
            set(CURLOPT_PROXYUSERNAME, "")
            set(CURLOPT_PROXYPASSWORD, "")
            set(CURLOPT_PROXYAUTH, Int(bitPattern: UInt(CCurlShim_auth_negotiate())))
        }
        if let ca = job.route.caBundle { set(CURLOPT_PROXY_CAINFO, ca) }
        if let ca = settings.caBundle { set(CURLOPT_CAINFO, ca) }
        // Debian's libcurl also has a default CA folder, and with one set libcurl does not cache the CA store
        // (7.87+): every handshake rebuilt it from the bundle, ~40 ms of CPU per probe with the system's ~140 CAs.
        // The bundle holds the same anchors as the folder, so the folder is dropped whenever a bundle is in use.
        if settings.caBundle != nil || Curl.defaultCAInfo != nil {
            easy.set(CURLOPT_CAPATH, pointer: nil)
        }
        if job.route.caBundle != nil || Curl.defaultCAInfo != nil {
            easy.set(CURLOPT_PROXY_CAPATH, pointer: nil)
        }
        if let list = resolve?.list { easy.set(CURLOPT_RESOLVE, sharedList: list) }
        // Verify as a managed device would. The chain the server presents is read inside the same handshake (a verify
        // callback on each SSL_CTX, see PresentedChain), so the issuer of a certificate that fails verification (e.g.
        // an inspecting proxy's CA) is named without a second connection. CURLOPT_CERTINFO is not needed: libcurl
        // would format every certificate in full (keys, signatures, PEM) after each handshake.
        set(CURLOPT_SSL_VERIFYPEER, job.verify && !job.toProxyItself ? 1 : 0)
        set(CURLOPT_SSL_VERIFYHOST, job.verify && !job.toProxyItself ? 2 : 0)
        _ = CCurlShim_easy_setopt_ssl_ctx_callback(handle, CURLOPT_SSL_CTX_FUNCTION, Transfer.contextCallback)
        easy.set(CURLOPT_SSL_CTX_DATA, pointer: userdata)
        set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        set(CURLOPT_FOLLOWLOCATION, 0)
        if let version = job.maxTLS {
            // Exactly one version for the target (https://curl.se/libcurl/c/CURLOPT_SSLVERSION.html): the minimum and,
            // shifted by 16 bits, the maximum. An https proxy's own handshake is CURLOPT_PROXY_SSLVERSION, left alone.
            let (minimum, maximum) = version == .v1_2 ? (Int(CURL_SSLVERSION_TLSv1_2), Int(CURL_SSLVERSION_MAX_TLSv1_2))
                : (Int(CURL_SSLVERSION_TLSv1_3), Int(CURL_SSLVERSION_MAX_TLSv1_3))
            set(CURLOPT_SSLVERSION, minimum | maximum)
        }
        // Through a proxy libcurl still opens the tunnel and completes the target's handshake, then stops
        // (https://curl.se/libcurl/c/CURLOPT_CONNECT_ONLY.html).
        if job.handshakeOnly { set(CURLOPT_CONNECT_ONLY, 1) }
        easy.set(CURLOPT_HEADERFUNCTION, callback: Transfer.headerCallback)
        easy.set(CURLOPT_HEADERDATA, pointer: userdata)
        easy.set(CURLOPT_WRITEFUNCTION, callback: Transfer.bodyCallback)
        easy.set(CURLOPT_WRITEDATA, pointer: userdata)
    }

    /// Most header lines kept per probe; a proxy that sends endless headers cannot grow memory without bound.
    static let headerLineLimit = 200

    private static let headerCallback: CCurlShimWriteCallback = { data, size, count, userdata in
        let length = size * count
        guard let data, let userdata else { return length }
        let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
            .trimmingCharacters(in: .newlines)
        transfer.appendHeader(line)
        return length
    }

    private static let bodyCallback: CCurlShimWriteCallback = { data, size, count, userdata in
        let length = size * count
        guard let data, let userdata else { return length }
        let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
        return transfer.appendBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
    }

    /// libcurl calls this with each SSL_CTX it creates for this transfer, just before the handshake: one more
    /// presented chain to record, attached to that context.
    private static let contextCallback: curl_ssl_ctx_callback = { _, sslContext, userdata in
        guard let sslContext, let userdata else { return CURLE_OK }
        let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
        guard transfer.handshakes.count < 2 else { return CURLE_OK }
        let chain = PresentedChain()
        transfer.handshakes.append(chain)
        PresentedChain.attach(chain, to: sslContext)
        return CURLE_OK
    }

    /// The target's handshake: through an https proxy the proxy's own comes first.
    private var targetHandshake: PresentedChain? {
        let position = job.route.kind == .https && !job.toProxyItself ? 1 : 0
        return handshakes.indices.contains(position) ? handshakes[position] : nil
    }

    private func appendHeader(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headLines.append([line])
        } else if !line.isEmpty, !headLines.isEmpty, headLines[headLines.count - 1].count < Self.headerLineLimit {
            headLines[headLines.count - 1].append(line)
        }
    }

    /// Returns false to stop the transfer once enough of the body has been read.
    private func appendBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let room = bodyLimit - body.count
        if room > 0 { body.append(contentsOf: bytes.prefix(room)) }
        if body.count >= bodyLimit {
            stoppedReading = true
            return false
        }
        return true
    }

    // MARK: Reading the result

    private func long(_ info: CURLINFO) -> Int { easy.long(info) }
    private func seconds(_ info: CURLINFO) -> Double { easy.seconds(info) }

    /// The evidence of a finished transfer; `code` is libcurl's result for it.
    func evidence(code: CURLcode, forcedTimeout: Bool = false) -> ProbeEvidence {
        let heads = headLines.compactMap(ResponseHead.init(lines:)).filter { !(100..<200).contains($0.status) }
        var connectHeads: [ResponseHead] = []
        var responseHeads = heads
        if job.usesTunnel {
            // libcurl delivers the proxy's CONNECT answers first; everything after the first 2xx came through the tunnel.
            if let established = heads.firstIndex(where: { (200..<300).contains($0.status) }) {
                connectHeads = Array(heads[...established])
                responseHeads = Array(heads[heads.index(after: established)...])
            } else {
                connectHeads = heads
                responseHeads = []
            }
        }
        var curlCode = Int(code.rawValue)
        var message = easy.message(for: code)
        if code == CURLE_WRITE_ERROR && stoppedReading {
            curlCode = 0
            message = "stopped after the first \(body.count) bytes of the body (enough to judge)"
        }
        if forcedTimeout {
            curlCode = Int(CURLE_OPERATION_TIMEDOUT.rawValue)
            message = "the probe outlived its timeout and was stopped"
        }
        let connectTime = seconds(CURLINFO_CONNECT_TIME_T)
        let tlsTime = seconds(CURLINFO_APPCONNECT_TIME_T)
        let target = job.url.lowercased().hasPrefix("https:") ? targetHandshake : nil
        let certificate = target?.evidence
        let sawTargetTLS = job.url.lowercased().hasPrefix("https:") && (tlsTime > 0 || certificate != nil || code == CURLE_PEER_FAILED_VERIFICATION)
        // OpenSSL's own result for the target's chain, seen in the handshake; libcurl's CURLINFO_SSL_VERIFYRESULT is
        // not the target's behind an https proxy (libcurl 7.88 reports a failed target certificate there as
        // SSL_ERROR_SYSCALL).
        // Through an https proxy without a target handshake, libcurl's result is the proxy's own.
        let proxyOnlyTLS = job.route.kind == .https && target == nil
        let verifyResult = target?.verifyError ?? (sawTargetTLS && !proxyOnlyTLS ? long(CURLINFO_SSL_VERIFYRESULT) : nil)
        // Verification was asked for and failed (the chain, or libcurl's host name check after it): never evidence
        // that the path can be trusted, whatever else the transfer shows.
        let verificationFailed = job.verify && !job.toProxyItself
            && ((code == CURLE_PEER_FAILED_VERIFICATION && !proxyOnlyTLS) || (verifyResult ?? 0) != 0)
        return ProbeEvidence(
            curlCode: curlCode, curlMessage: message,
            connectStatus: long(CURLINFO_HTTP_CONNECTCODE), httpStatus: long(CURLINFO_RESPONSE_CODE),
            connectResponses: connectHeads, responses: responseHeads,
            bodySnippet: String(decoding: body, as: UTF8.self),
            verifyResult: verifyResult,
            certificate: certificate,
            verifyMessage: verificationFailed ? message : nil,
            // CONNECT_TIME stays 0 through a proxy tunnel in libcurl 7.88; the local port is set once TCP is up.
            connected: connectTime > 0 || long(CURLINFO_LOCAL_PORT) != 0 || !heads.isEmpty,
            timings: ProbeTimings(connect: connectTime, tls: tlsTime, firstByte: seconds(CURLINFO_STARTTRANSFER_TIME_T),
                                  total: forcedTimeout ? Self.seconds(since: started) : seconds(CURLINFO_TOTAL_TIME_T)),
            sentCredentials: job.route.authenticates && !job.toProxyItself,
            proxyReply: long(CURLINFO_PROXY_ERROR),
            proxyVerifyResult: job.route.kind == .https && !job.toProxyItself ? long(CURLINFO_PROXY_SSL_VERIFYRESULT) : nil,
            tlsVersion: target?.version, tlsCipher: target?.cipher)
    }

    /// Seconds elapsed on the monotonic clock since `instant`.
    static func seconds(since instant: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - instant
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

extension ResponseHead {
    /// Parses a status line and its header lines; nil when the status line is not HTTP.
    init?(lines: [String]) {
        guard let statusLine = lines.first else { return nil }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        self.status = status
        self.statusLine = statusLine
        self.headers = lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return Header(name: line[..<colon].lowercased(),
                          value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
    }
}

/// A thread-safe count.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func add(_ delta: Int) { lock.withLock { count += delta } }
    var value: Int { lock.withLock { count } }
}
