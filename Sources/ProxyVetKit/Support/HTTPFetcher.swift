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
        let options = CurlRequest.Options(url: url, timeout: timeout, proxy: proxy, maxRedirects: maxRedirects,
                                          sizeLimit: sizeLimit, acceptEncoding: true)
        guard let result = CurlRequest.perform(options) else {
            throw InputError(file: url, "cannot fetch: libcurl could not start")
        }
        if result.tooLarge {
            throw InputError(file: url, "the document is too large (over \(sizeLimit >> 20) MiB)")
        }
        guard result.code == CURLE_OK else { throw InputError(file: url, "cannot fetch: \(result.message)") }
        guard (200..<300).contains(result.status) else {
            var message = "cannot fetch: HTTP status \(result.status)"
            if (300..<400).contains(result.status) { message += " (more than \(maxRedirects) redirects, or a redirect without Location)" }
            throw InputError(file: url, message)
        }
        return result.body
    }
}
