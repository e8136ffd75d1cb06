import Foundation
internal import CCurlShim

/// One probe in flight: owns its libcurl easy handle and collects what the callbacks deliver.
///
/// The callbacks are captureless C functions that find the transfer again through the userdata pointer and only
/// append bytes; when the body limit is reached they return 0, which makes libcurl stop the transfer
/// (CURLE_WRITE_ERROR), and the transfer remembers that it stopped on purpose.
///
/// The negotiated TLS version and cipher come from libcurl's own informational lines (CURLOPT_VERBOSE with a
/// CURLOPT_DEBUGFUNCTION that keeps only "SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384" and the
/// "Server certificate:" / "Proxy certificate:" line libcurl writes right after it): libcurl 7.88 has no CURLINFO for
/// the version, and CURLINFO_TLS_SSL_PTR would need OpenSSL's headers and a callback that queries the live connection
/// (every probe's connection is closed when it ends, CURLOPT_FORBID_REUSE), where callbacks here only append bytes.
final class Transfer {
    let index: Int
    let job: ProbeJob
    let handle: UnsafeMutableRawPointer
    /// When the transfer started, on a monotonic clock: a step of the wall clock (NTP, a timer that fires at boot)
    /// must not end probes in flight as timeouts.
    let started: ContinuousClock.Instant
    private let bodyLimit: Int
    private var headLines: [[String]] = []
    /// libcurl's TLS info lines for this transfer, in order (at most `tlsLineLimit`).
    private var tlsLines: [String] = []
    private var body = Data()
    private(set) var stoppedReading = false
    /// libcurl's detailed message for the failure (CURLOPT_ERRORBUFFER), owned by this transfer.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    /// False for the second look at a certificate that failed verification: then the handshake is completed
    /// without verifying, only to collect the presented chain (libcurl fills CURLINFO_CERTINFO only after a handshake).
    let verifyPeer: Bool

    /// Kept alive while libcurl may read it.
    private let resolve: CurlStringList?

    init?(index: Int, job: ProbeJob, settings: ProbeSettings, verifyPeer: Bool = true, resolve: CurlStringList? = nil,
          live: Counter? = nil) {
        guard Curl.initialized, let handle = curl_easy_init() else { return nil }
        self.index = index
        self.job = job
        self.verifyPeer = verifyPeer
        self.resolve = resolve
        self.handle = handle
        self.started = ContinuousClock.now
        self.bodyLimit = settings.bodyLimit
        self.live = live
        live?.add(1)
        configure(settings)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
        live?.add(-1)
    }

    /// The engine's count of transfers alive (each owns an easy handle): a run that ends above zero leaked one.
    private let live: Counter?

    private func set(_ option: CURLoption, _ value: Int) {
        _ = CCurlShim_easy_setopt_long(handle, option, value)
    }

    private func set(_ option: CURLoption, _ value: String) {
        _ = CCurlShim_easy_setopt_string(handle, option, value)
    }

    private func configure(_ settings: ProbeSettings) {
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        _ = CCurlShim_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
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
            _ = CCurlShim_easy_setopt_pointer(handle, CURLOPT_CAPATH, nil)
        }
        if job.route.caBundle != nil || Curl.defaultCAInfo != nil {
            _ = CCurlShim_easy_setopt_pointer(handle, CURLOPT_PROXY_CAPATH, nil)
        }
        if let list = resolve?.list { _ = CCurlShim_easy_setopt_slist(handle, CURLOPT_RESOLVE, list) }
        // Verify as a managed device would. When verification fails, the engine probes once more with verification
        // off to collect the chain, so the classifier can name the issuer (e.g. an inspecting proxy's CA).
        set(CURLOPT_SSL_VERIFYPEER, verifyPeer && !job.toProxyItself ? 1 : 0)
        set(CURLOPT_SSL_VERIFYHOST, verifyPeer && !job.toProxyItself ? 2 : 0)
        set(CURLOPT_CERTINFO, 1)
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
        // libcurl writes its informational lines only when verbose; the debug function keeps the TLS ones and
        // drops the rest, so nothing reaches stderr (https://curl.se/libcurl/c/CURLOPT_DEBUGFUNCTION.html).
        // Verbose costs ~0.2 ms of CPU per probe (libcurl formats every line), so only https targets pay it.
        if job.url.lowercased().hasPrefix("https:") {
            _ = CCurlShim_easy_setopt_debug_callback(handle, CURLOPT_DEBUGFUNCTION, Transfer.debugCallback)
            _ = CCurlShim_easy_setopt_pointer(handle, CURLOPT_DEBUGDATA, userdata)
            set(CURLOPT_VERBOSE, 1)
        }
        _ = CCurlShim_easy_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION, Transfer.headerCallback)
        _ = CCurlShim_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, userdata)
        _ = CCurlShim_easy_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, Transfer.bodyCallback)
        _ = CCurlShim_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, userdata)
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

    /// Most TLS info lines kept per probe (an https proxy's session and the target's take four).
    static let tlsLineLimit = 8

    /// The starts of libcurl's informational lines that name a TLS session (lib/vtls/openssl.c, 7.88): the session
    /// line, then whose certificate follows, the target's (`Server`) or an https proxy's (`Proxy`).
    private static let tlsLinePrefixes: [[UInt8]] = [Array("SSL connection using ".utf8), Array("Server certificate:".utf8),
                                                     Array("Proxy certificate:".utf8)]

    private static let debugCallback: curl_debug_callback = { _, type, data, size, userdata in
        guard type == CURLINFO_TEXT, let data, let userdata, size >= 18 else { return 0 }
        let bytes = UnsafeRawBufferPointer(start: data, count: size)
        guard bytes[0] == UInt8(ascii: "S") || bytes[0] == UInt8(ascii: "P"),
              tlsLinePrefixes.contains(where: { bytes.starts(with: $0) }) else { return 0 }
        Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue().appendTLSLine(bytes)
        return 0
    }

    private func appendTLSLine(_ bytes: UnsafeRawBufferPointer) {
        guard tlsLines.count < Self.tlsLineLimit else { return }
        tlsLines.append(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The version and cipher of the session whose certificate was the target's (`Server certificate:` follows it);
    /// an https proxy's own session is followed by `Proxy certificate:` instead.
    static func negotiatedTLS(_ lines: [String]) -> (version: String, cipher: String?)? {
        var pending: String?
        var target: (version: String, cipher: String?)?
        for line in lines {
            if line.hasPrefix("SSL connection using ") {
                pending = String(line.dropFirst("SSL connection using ".count))
            } else if line.hasPrefix("Server certificate:"), let session = pending {
                // `TLSv1.3 / TLS_AES_256_GCM_SHA384`; libcurl 8 adds ` / X25519 / RSASSA-PSS`.
                let parts = session.components(separatedBy: " / ").map { $0.trimmingCharacters(in: .whitespaces) }
                if let version = parts.first, !version.isEmpty {
                    target = (version, parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil)
                }
                pending = nil
            } else {
                pending = nil
            }
        }
        return target
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

    private func long(_ info: CURLINFO) -> Int {
        var value = 0
        _ = CCurlShim_easy_getinfo_long(handle, info, &value)
        return value
    }

    private func seconds(_ info: CURLINFO) -> Double {
        var value: curl_off_t = 0
        _ = CCurlShim_easy_getinfo_off_t(handle, info, &value)
        return Double(value) / 1_000_000
    }

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
        let detail = String(cString: errorBuffer)
        var message = detail.isEmpty ? Curl.message(for: code) : detail
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
        // Through an https proxy, CURLINFO_CERTINFO holds the proxy's own certificate until a handshake with the target
        // completes (measured with libcurl 7.88): only then is the chain the target's.
        let certificate = job.route.kind != .https || toTargetCompleted(code: code, responses: responseHeads) ? certificateChain() : nil
        let sawTargetTLS = job.url.hasPrefix("https:") && (tlsTime > 0 || certificate != nil || code == CURLE_PEER_FAILED_VERIFICATION)
        let session = Self.negotiatedTLS(tlsLines)
        return ProbeEvidence(
            curlCode: curlCode, curlMessage: message,
            connectStatus: long(CURLINFO_HTTP_CONNECTCODE), httpStatus: long(CURLINFO_RESPONSE_CODE),
            connectResponses: connectHeads, responses: responseHeads,
            bodySnippet: String(decoding: body, as: UTF8.self),
            verifyResult: sawTargetTLS ? long(CURLINFO_SSL_VERIFYRESULT) : nil,
            certificate: certificate,
            // CONNECT_TIME stays 0 through a proxy tunnel in libcurl 7.88; the local port is set once TCP is up.
            connected: connectTime > 0 || long(CURLINFO_LOCAL_PORT) != 0 || !heads.isEmpty,
            timings: ProbeTimings(connect: connectTime, tls: tlsTime, firstByte: seconds(CURLINFO_STARTTRANSFER_TIME_T),
                                  total: forcedTimeout ? Self.seconds(since: started) : seconds(CURLINFO_TOTAL_TIME_T)),
            sentCredentials: job.route.authenticates && !job.toProxyItself,
            proxyReply: long(CURLINFO_PROXY_ERROR),
            proxyVerifyResult: job.route.kind == .https && !job.toProxyItself ? long(CURLINFO_PROXY_SSL_VERIFYRESULT) : nil,
            tlsVersion: session?.version, tlsCipher: session?.cipher)
    }

    /// Seconds elapsed on the monotonic clock since `instant`.
    static func seconds(since instant: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - instant
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private func toTargetCompleted(code: CURLcode, responses: [ResponseHead]) -> Bool {
        code == CURLE_OK || !responses.isEmpty || (code == CURLE_WRITE_ERROR && stoppedReading)
    }

    /// The presented chain from CURLINFO_CERTINFO: leaf first.
    private func certificateChain() -> CertificateEvidence? {
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard CCurlShim_easy_getinfo_certinfo(handle, CURLINFO_CERTINFO, &info) == CURLE_OK, let info,
              info.pointee.num_of_certs > 0, let lists = info.pointee.certinfo else { return nil }
        var certs: [[String: String]] = []
        for index in 0..<Int(info.pointee.num_of_certs) {
            var fields: [String: String] = [:]
            var item = lists[index]
            while let node = item {
                if let data = node.pointee.data {
                    let text = String(cString: data)
                    if let colon = text.firstIndex(of: ":") {
                        fields[String(text[..<colon])] = String(text[text.index(after: colon)...])
                    }
                }
                item = node.pointee.next
            }
            certs.append(fields)
        }
        guard let leaf = certs.first else { return nil }
        let names = (leaf["X509v3 Subject Alternative Name"] ?? "")
            .split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("DNS:") }
            .map { String($0.dropFirst(4)) }
        return CertificateEvidence(subject: leaf["Subject"] ?? "", issuer: leaf["Issuer"] ?? "",
                                   notBefore: leaf["Start date"], notAfter: leaf["Expire date"],
                                   subjectAltNames: names, chainIssuers: certs.compactMap { $0["Issuer"] })
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
