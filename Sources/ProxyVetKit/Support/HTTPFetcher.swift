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

    /// One completed HTTP answer, whatever its status.
    public struct Answer: Sendable {
        public var status: Int
        public var contentType: String?
        public var body: Data
    }

    /// The body of a 2xx answer; anything else is an InputError naming the URL.
    public func fetch(_ url: String) throws -> Data {
        let answer = try self.answer(url)
        guard (200..<300).contains(answer.status) else {
            var message = "cannot fetch: HTTP status \(answer.status)"
            if (300..<400).contains(answer.status) { message += " (more than \(maxRedirects) redirects, or a redirect without Location)" }
            throw InputError(file: url, message)
        }
        return answer.body
    }

    /// Whatever the server answered (status, content type, body), for callers that explain a failed answer
    /// themselves; no answer at all (or one over the size limit) is an InputError naming the URL.
    public func answer(_ url: String) throws -> Answer {
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
        return Answer(status: result.status, contentType: result.contentType, body: result.body)
    }
}
