import Foundation
internal import CCurlShim

/// One blocking libcurl transfer outside the probe engine: fetching a PAC file or a published list, pushing metrics.
/// Bounded in time and size, http(s) only, direct unless a proxy is named (proxies from the environment are ignored,
/// so a test or a lab is never routed elsewhere).
final class CurlRequest {
    struct Options {
        var url: String
        /// Seconds for the whole transfer; the connect timeout is the smaller of this and `connectTimeout`.
        var timeout: Double
        var connectTimeout: Double = 10
        /// A proxy URL to go through, else direct.
        var proxy: String?
        /// Redirects followed (0: none; the 3xx answer is then the result).
        var maxRedirects = 0
        /// Most body bytes kept.
        var sizeLimit: Int
        /// True: a larger body stops the transfer (`tooLarge`); false: the rest of the body is read and dropped.
        var failWhenTooLarge = true
        /// Ask for compressed bodies (libcurl decodes them).
        var acceptEncoding = false
        /// Sent with PUT instead of a GET.
        var put: (body: String, contentType: String)?
    }

    struct Result {
        var code: CURLcode
        /// libcurl's detailed message (CURLOPT_ERRORBUFFER), else its text for the code.
        var message: String
        var status: Int
        var redirect: String?
        var contentType: String?
        var body: Data
        /// True when the body passed the limit and the transfer was stopped for it.
        var tooLarge: Bool
    }

    /// Runs one transfer to its end; nil when libcurl cannot start one.
    static func perform(_ options: Options) -> Result? {
        CurlRequest(options)?.run()
    }

    private let easy: EasyHandle
    private let options: Options
    private var body = Data()
    private var tooLarge = false

    private init?(_ options: Options) {
        guard let easy = EasyHandle() else { return nil }
        self.easy = easy
        self.options = options
        configure()
    }

    private func set(_ option: CURLoption, _ value: Int) { easy.set(option, value) }
    private func set(_ option: CURLoption, _ value: String) { easy.set(option, value) }

    /// See https://curl.se/libcurl/c/curl_easy_setopt.html.
    private func configure() {
        set(CURLOPT_URL, options.url)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_USERAGENT, "ProxyVet/\(ProxyVetVersion.current)")
        set(CURLOPT_TIMEOUT_MS, Int(options.timeout * 1000))
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(min(options.timeout, options.connectTimeout) * 1000))
        // An empty proxy string turns proxies off, including any from the environment.
        set(CURLOPT_PROXY, options.proxy ?? "")
        set(CURLOPT_FOLLOWLOCATION, options.maxRedirects > 0 ? 1 : 0)
        set(CURLOPT_MAXREDIRS, options.maxRedirects)
        if options.failWhenTooLarge {
            // Fails early when the server announces a larger body; the write callback catches the rest.
            set(CURLOPT_MAXFILESIZE, options.sizeLimit)
        }
        if options.acceptEncoding { set(CURLOPT_ACCEPT_ENCODING, "") }
        if let put = options.put {
            // POSTFIELDSIZE must come before COPYPOSTFIELDS, which copies that many bytes at once; CUSTOMREQUEST
            // turns the upload into a PUT.
            easy.set(CURLOPT_HTTPHEADER, list: ["Content-Type: \(put.contentType)"])
            set(CURLOPT_CUSTOMREQUEST, "PUT")
            set(CURLOPT_POSTFIELDSIZE, put.body.utf8.count)
            set(CURLOPT_COPYPOSTFIELDS, put.body)
        }
        easy.set(CURLOPT_WRITEFUNCTION, callback: CurlRequest.bodyCallback)
        easy.set(CURLOPT_WRITEDATA, pointer: Unmanaged.passUnretained(self).toOpaque())
    }

    /// Captureless: finds the request through the userdata pointer and only appends bytes.
    private static let bodyCallback: CCurlShimWriteCallback = { data, size, count, userdata in
        let length = size * count
        guard let data, let userdata else { return length }
        let request = Unmanaged<CurlRequest>.fromOpaque(userdata).takeUnretainedValue()
        return request.append(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
    }

    /// Returns false (which makes libcurl stop) once the body is over the limit and that is a failure.
    private func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let room = max(0, options.sizeLimit - body.count)
        if bytes.count > room && options.failWhenTooLarge {
            tooLarge = true
            return false
        }
        body.append(contentsOf: bytes.prefix(room))
        return true
    }

    private func run() -> Result {
        let code = curl_easy_perform(easy.handle)
        return Result(code: code, message: easy.message(for: code), status: easy.long(CURLINFO_RESPONSE_CODE),
                      redirect: easy.string(CURLINFO_REDIRECT_URL), contentType: easy.string(CURLINFO_CONTENT_TYPE),
                      body: body, tooLarge: tooLarge || code == CURLE_FILESIZE_EXCEEDED)
    }
}
