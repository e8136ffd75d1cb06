import Foundation
internal import CCurlShim

/// Fetches one document over http(s) with libcurl: bounded in size and time, for lists published on the web
/// (the Microsoft 365 web service's JSON with `allowlist --fetch`).
///
/// Direct unless `proxy` is given (proxies from the environment are ignored, so a test or a lab is never routed
/// elsewhere), follows at most `maxRedirects` redirects, and accepts only a 2xx answer.
public struct HTTPFetcher: Sendable {
    /// Largest document accepted.
    public var sizeLimit = 16 << 20
    /// Seconds for the whole transfer.
    public var timeout: Double = 30
    /// Redirects followed (0: none).
    public var maxRedirects = 3
    /// A proxy URL to fetch through (`http://proxy:3128`), else direct.
    public var proxy: String?

    public init(sizeLimit: Int = 16 << 20, timeout: Double = 30, maxRedirects: Int = 3, proxy: String? = nil) {
        self.sizeLimit = sizeLimit; self.timeout = timeout; self.maxRedirects = maxRedirects; self.proxy = proxy
    }

    /// The body of a 2xx answer; anything else is an InputError naming the URL.
    public func fetch(_ url: String) throws -> Data {
        let lowered = url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw InputError(file: url, "cannot fetch: only http:// and https:// URLs")
        }
        guard let download = Download(url: url, fetcher: self) else {
            throw InputError(file: url, "cannot fetch: libcurl could not start")
        }
        let result = download.perform()
        if download.tooLarge || result.code == CURLE_FILESIZE_EXCEEDED {
            throw InputError(file: url, "the document is too large (over \(sizeLimit >> 20) MiB)")
        }
        guard result.code == CURLE_OK else { throw InputError(file: url, "cannot fetch: \(result.message)") }
        guard (200..<300).contains(result.status) else {
            var message = "cannot fetch: HTTP status \(result.status)"
            if (300..<400).contains(result.status) { message += " (more than \(maxRedirects) redirects, or a redirect without Location)" }
            throw InputError(file: url, message)
        }
        return download.body
    }
}

/// One transfer: owns its libcurl easy handle and the bytes received so far.
private final class Download {
    struct Result {
        var code: CURLcode
        var message: String
        var status: Int
    }

    private let handle: UnsafeMutableRawPointer
    private let limit: Int
    private(set) var body = Data()
    /// True once the body passed `limit` and the write callback stopped the transfer.
    private(set) var tooLarge = false
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init?(url: String, fetcher: HTTPFetcher) {
        guard Curl.initialized, let handle = curl_easy_init() else { return nil }
        self.handle = handle
        limit = fetcher.sizeLimit
        errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        configure(url: url, fetcher: fetcher)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    private func set(_ option: CURLoption, _ value: Int) { _ = CCurlShim_easy_setopt_long(handle, option, value) }
    private func set(_ option: CURLoption, _ value: String) { _ = CCurlShim_easy_setopt_string(handle, option, value) }

    /// See https://curl.se/libcurl/c/curl_easy_setopt.html.
    private func configure(url: String, fetcher: HTTPFetcher) {
        _ = CCurlShim_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        set(CURLOPT_URL, url)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_USERAGENT, "ProxyVet/\(ProxyVetVersion.current)")
        set(CURLOPT_TIMEOUT_MS, Int(fetcher.timeout * 1000))
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(min(fetcher.timeout, 10) * 1000))
        // An empty proxy string turns proxies off, including any from the environment.
        set(CURLOPT_PROXY, fetcher.proxy ?? "")
        set(CURLOPT_FOLLOWLOCATION, fetcher.maxRedirects > 0 ? 1 : 0)
        set(CURLOPT_MAXREDIRS, fetcher.maxRedirects)
        set(CURLOPT_MAXFILESIZE, limit)
        set(CURLOPT_ACCEPT_ENCODING, "")
        _ = CCurlShim_easy_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, Download.bodyCallback)
        _ = CCurlShim_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Captureless: finds the download through the userdata pointer and only appends bytes.
    private static let bodyCallback: CCurlShimWriteCallback = { data, size, count, userdata in
        let length = size * count
        guard let data, let userdata else { return length }
        let download = Unmanaged<Download>.fromOpaque(userdata).takeUnretainedValue()
        return download.append(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
    }

    /// Returns false (which makes libcurl stop) once the body is over the limit.
    private func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= limit else {
            tooLarge = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
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
