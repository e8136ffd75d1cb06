import Foundation
internal import CCurlShim

/// One (route, URL) pair to probe.
public struct ProbeJob: Sendable {
    public var route: Route
    public var url: String
    /// True for a calibration request sent to the proxy's own address in origin form (`GET / HTTP/1.1`), not through
    /// it: only the first hop can answer it. Counts against the proxy's politeness cap like every other request.
    public var toProxyItself: Bool
    /// Verify the target's certificate (false for calibration, which wants to see an intercepting proxy's answer, and
    /// for a TLS version probe, which asks only whether the handshake is accepted).
    public var verify: Bool
    /// Offer the target exactly this TLS version (libcurl's CURLOPT_SSLVERSION as minimum and maximum), to learn whether
    /// the hop that terminates the target's TLS accepts a client that cannot go higher; nil offers what libcurl
    /// supports (TLS 1.2 and 1.3). An https proxy's own TLS is not restricted (CURLOPT_PROXY_SSLVERSION stays default).
    public var maxTLS: TLSVersion?
    /// Stop once the TLS handshake with the target is done (CURLOPT_CONNECT_ONLY): no request is sent.
    public var handshakeOnly: Bool

    public init(route: Route, url: String, toProxyItself: Bool = false, verify: Bool = true, maxTLS: TLSVersion? = nil,
                handshakeOnly: Bool = false) {
        self.route = route; self.url = url; self.toProxyItself = toProxyItself; self.verify = verify
        self.maxTLS = maxTLS; self.handshakeOnly = handshakeOnly
    }

    /// https through an http(s) proxy goes through a CONNECT tunnel; plain http is an absolute-URI request.
    var usesTunnel: Bool {
        !toProxyItself && url.lowercased().hasPrefix("https:") && (route.kind == .http || route.kind == .https)
    }
}

/// How hard and how long the engine probes.
public struct ProbeSettings: Sendable {
    /// Most probes in flight in total.
    public var concurrency: Int = 64
    /// Most probes in flight through one proxy address, because production proxies are shared.
    public var perProxy: Int = 8
    /// Whole-probe limit in seconds.
    public var timeout: Double = 10
    /// Limit for reaching the proxy (or, for direct, the origin) in seconds.
    public var connectTimeout: Double = 5
    /// Trust anchors for targets' certificates instead of the system store.
    public var caBundle: String?
    /// Body bytes read before the probe stops on purpose: enough to recognise a block page.
    public var bodyLimit: Int = 4096
    public var userAgent: String = "ProxyVet/\(ProxyVetVersion.current)"
    /// `host:port:address` pins (CURLOPT_RESOLVE) for names libcurl resolves itself: direct probes and proxy names.
    public var resolve: [String] = []

    public init() {}
}

/// Probes many (route, URL) pairs concurrently with one libcurl multi handle and a small event loop.
///
/// The loop keeps at most `concurrency` transfers in flight and at most `perProxy` per proxy address,
/// starting the next waiting probe of a proxy as soon as one of its probes finishes. Each transfer has
/// libcurl's own timeouts; a watchdog also stops any transfer that outlives `timeout` by a margin, so the
/// loop always ends.
public final class ProbeEngine {
    public let settings: ProbeSettings
    /// The most probes that were in flight through one proxy address at once, per address (for tests and benchmarks).
    public private(set) var peakInFlight: [String: Int] = [:]
    /// Transfers (easy handles) alive; zero whenever `run` has returned.
    let liveTransfers = Counter()

    public init(settings: ProbeSettings) {
        self.settings = settings
    }

    /// Probes every job and returns the evidence in job order. `progress` is called after each finished probe
    /// with the count done, the total, and the job that finished with its evidence.
    public func run(_ jobs: [ProbeJob], progress: ((_ done: Int, _ total: Int, _ finished: Int, _ evidence: ProbeEvidence) -> Void)? = nil) -> [ProbeEvidence] {
        var results = [ProbeEvidence?](repeating: nil, count: jobs.count)
        guard !jobs.isEmpty else { return [] }
        guard Curl.initialized, let multi = curl_multi_init() else {
            let failed = ProbeEvidence(curlCode: Int(CURLE_FAILED_INIT.rawValue), curlMessage: "libcurl could not be initialised", connected: false)
            return jobs.map { _ in failed }
        }
        defer { curl_multi_cleanup(multi) }
        let resolveList = CurlStringList(settings.resolve)

        // Waiting probes per proxy address, served round-robin so one slow proxy does not hold up the others.
        var queues: [String: [Int]] = [:]
        var proxyOrder: [String] = []
        for (index, job) in jobs.enumerated() {
            if queues[job.route.proxyKey] == nil { proxyOrder.append(job.route.proxyKey) }
            queues[job.route.proxyKey, default: []].append(index)
        }
        var queueHeads: [String: Int] = [:]
        var inFlight: [UnsafeMutableRawPointer: Transfer] = [:]
        var perProxyCount: [String: Int] = [:]
        var done = 0
        let perProxy = max(1, settings.perProxy)
        let concurrency = max(1, settings.concurrency)
        let watchdogLimit = Duration.milliseconds(Int((settings.timeout + max(2, settings.timeout * 0.2)) * 1000))

        func finish(_ transfer: Transfer, code: CURLcode, forcedTimeout: Bool = false) {
            let evidence = transfer.evidence(code: code, forcedTimeout: forcedTimeout)
            curl_multi_remove_handle(multi, transfer.handle)
            inFlight[transfer.handle] = nil
            perProxyCount[transfer.job.route.proxyKey, default: 1] -= 1
            results[transfer.index] = evidence
            done += 1
            progress?(done, jobs.count, transfer.index, evidence)
        }

        // A probe libcurl could not even start is a local failure (CURLE_FAILED_INIT), never a network finding:
        // `LocalFailure.check` stops the run on it.
        func notStarted(_ index: Int, _ why: String) {
            let failed = ProbeEvidence(curlCode: Int(CURLE_FAILED_INIT.rawValue), curlMessage: why, connected: false)
            results[index] = failed
            done += 1
            progress?(done, jobs.count, index, failed)
        }

        func start(_ index: Int, key: String) {
            guard let transfer = Transfer(index: index, job: jobs[index], settings: settings, resolve: resolveList, live: liveTransfers) else {
                notStarted(index, "libcurl could not create a handle")
                return
            }
            let added = curl_multi_add_handle(multi, transfer.handle)
            guard added == CURLM_OK else {
                notStarted(index, "libcurl refused the transfer (curl_multi_add_handle: \(String(cString: curl_multi_strerror(added))))")
                return
            }
            inFlight[transfer.handle] = transfer
            perProxyCount[key, default: 0] += 1
            peakInFlight[key] = max(peakInFlight[key, default: 0], perProxyCount[key, default: 0])
        }

        func startWaiting() {
            var started = true
            while started && inFlight.count < concurrency {
                started = false
                for key in proxyOrder where inFlight.count < concurrency && perProxyCount[key, default: 0] < perProxy {
                    let head = queueHeads[key, default: 0]
                    guard let queue = queues[key], head < queue.count else { continue }
                    queueHeads[key] = head + 1
                    start(queue[head], key: key)
                    started = true
                }
            }
        }

        startWaiting()
        while !inFlight.isEmpty {
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                      let transfer = inFlight[handle] else { continue }
                finish(transfer, code: message.pointee.data.result)
            }
            let now = ContinuousClock.now
            for transfer in inFlight.values where now - transfer.started > watchdogLimit {
                finish(transfer, code: CURLE_OPERATION_TIMEDOUT, forcedTimeout: true)
            }
            startWaiting()
            if !inFlight.isEmpty {
                var ready: Int32 = 0
                curl_multi_poll(multi, nil, 0, 100, &ready)
            }
        }
        return results.map { $0 ?? ProbeEvidence(curlCode: Int(CURLE_FAILED_INIT.rawValue), curlMessage: "not probed", connected: false) }
    }
}

/// A curl_slist owned by Swift: built once, freed when the last transfer using it is gone.
final class CurlStringList {
    let list: UnsafeMutablePointer<curl_slist>?

    init(_ strings: [String]) {
        var list: UnsafeMutablePointer<curl_slist>?
        for string in strings { list = curl_slist_append(list, string) }
        self.list = list
    }

    deinit { curl_slist_free_all(list) }
}
