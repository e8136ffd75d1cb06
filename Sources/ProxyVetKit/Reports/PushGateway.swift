import Foundation
internal import CCurlShim

/// Pushes the Prometheus exposition of a run to a Pushgateway with libcurl: `PUT URL/metrics/job/JOB/instance/INSTANCE`,
/// which replaces every metric of that group, so an endpoint that is no longer probed disappears from it too.
///
/// The push goes direct (no proxy, also none from the environment) and follows no redirect. Credentials in the URL are
/// refused like everywhere else in ProxyVet.
public enum PushGateway {
    /// Why a push failed: the run's reports are written, but its metrics did not reach the Pushgateway.
    public struct PushError: Error, CustomStringConvertible, Sendable {
        public var url: String
        public var message: String
        public var description: String { "\(url): push to the Pushgateway failed: \(message)" }
    }

    /// The URL pushed to: `base` as given when it already names a group (`.../metrics/job/...`), else the base plus
    /// `/metrics/job/JOB/instance/INSTANCE`. Values that are not plain path segments use the Pushgateway's base64 form.
    public static func groupURL(base: String, job: String = "proxyvet", instance: String) -> String {
        if base.contains("/metrics/job/") { return base }
        var url = base
        while url.hasSuffix("/") { url.removeLast() }
        return url + "/metrics/" + segment("job", job) + "/" + segment("instance", instance)
    }

    /// `job/proxyvet`, or `instance@base64/<url-safe base64>` for a value with characters a path segment cannot carry.
    static func segment(_ name: String, _ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._~".unicodeScalars.contains($0)) }
        if plain { return "\(name)/\(value)" }
        let encoded = Data(value.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        // An empty value is spelled `=` in base64 form (the Pushgateway's convention).
        return "\(name)@base64/\(encoded.isEmpty ? "=" : encoded)"
    }

    /// Checks a `--push-gateway` value: http(s), a host, no user information.
    public static func validate(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty else {
            return "--push-gateway takes an http:// or https:// URL, e.g. http://pushgateway.corp.example:9091"
        }
        if components.user != nil || components.password != nil {
            return "--push-gateway must not carry credentials in the URL"
        }
        return nil
    }

    /// Pushes `body` (an exposition) with PUT and returns the Pushgateway's status; throws `PushError` otherwise.
    @discardableResult
    public static func push(_ body: String, to url: String, timeout: Double = 10) throws -> Int {
        guard let upload = PushUpload(url: url, body: body, timeout: timeout) else {
            throw PushError(url: url, message: "libcurl could not start")
        }
        let result = upload.perform()
        guard result.code == CURLE_OK else { throw PushError(url: url, message: result.message) }
        guard (200..<300).contains(result.status) else {
            let detail = String(decoding: upload.response.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let printable = String(String.UnicodeScalarView(detail.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
            throw PushError(url: url, message: "HTTP status \(result.status)" + (printable.isEmpty ? "" : ": \(printable)"))
        }
        return result.status
    }
}

/// One PUT: owns its libcurl easy handle, its header list and the bytes of the answer.
private final class PushUpload {
    /// What the transfer ended with.
    struct Result {
        var code: CURLcode
        var message: String
        var status: Int
    }

    private let handle: UnsafeMutableRawPointer
    private var headers: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// The Pushgateway's answer, at most 64 KiB (it explains a refused push in the body).
    private(set) var response = Data()
    private static let responseLimit = 65_536

    init?(url: String, body: String, timeout: Double) {
        guard Curl.initialized, let handle = curl_easy_init() else { return nil }
        self.handle = handle
        errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        headers = curl_slist_append(nil, "Content-Type: text/plain; version=0.0.4; charset=utf-8")
        configure(url: url, body: body, timeout: timeout)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headers)
        errorBuffer.deallocate()
    }

    private func set(_ option: CURLoption, _ value: Int) { _ = CCurlShim_easy_setopt_long(handle, option, value) }
    private func set(_ option: CURLoption, _ value: String) { _ = CCurlShim_easy_setopt_string(handle, option, value) }

    /// See https://curl.se/libcurl/c/curl_easy_setopt.html. POSTFIELDSIZE must come before COPYPOSTFIELDS,
    /// which copies that many bytes at once; CUSTOMREQUEST turns the upload into a PUT.
    private func configure(url: String, body: String, timeout: Double) {
        _ = CCurlShim_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        set(CURLOPT_URL, url)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_USERAGENT, "ProxyVet/\(ProxyVetVersion.current)")
        set(CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(min(timeout, 5) * 1000))
        set(CURLOPT_PROXY, "")
        set(CURLOPT_FOLLOWLOCATION, 0)
        set(CURLOPT_CUSTOMREQUEST, "PUT")
        set(CURLOPT_POSTFIELDSIZE, body.utf8.count)
        set(CURLOPT_COPYPOSTFIELDS, body)
        _ = CCurlShim_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        _ = CCurlShim_easy_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, PushUpload.responseCallback)
        _ = CCurlShim_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Captureless: finds the upload through the userdata pointer and only appends bytes (the rest is dropped).
    private static let responseCallback: CCurlShimWriteCallback = { data, size, count, userdata in
        let length = size * count
        guard let data, let userdata else { return length }
        let upload = Unmanaged<PushUpload>.fromOpaque(userdata).takeUnretainedValue()
        let room = max(0, responseLimit - upload.response.count)
        upload.response.append(UnsafeRawBufferPointer(start: data, count: min(room, length)).bindMemory(to: UInt8.self))
        return length
    }

    /// Runs the transfer to its end (blocking, bounded by the timeout).
    func perform() -> Result {
        let code = curl_easy_perform(handle)
        var status = 0
        _ = CCurlShim_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let detail = String(cString: errorBuffer)
        return Result(code: code, message: detail.isEmpty ? Curl.message(for: code) : detail, status: status)
    }
}
