import Foundation
internal import CCurlShim

/// Process-wide libcurl facts and its one-time global initialisation.
public enum Curl {
    /// curl_global_init runs once, before the first handle is created (Swift runs a static initialiser exactly once).
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    /// The libcurl version in use, e.g. `7.88.1`.
    public static var version: String {
        guard let info = CCurlShim_version_info(), let text = info.pointee.version else { return "unknown" }
        return String(cString: text)
    }

    /// The TLS library libcurl was built with, e.g. `OpenSSL/3.0.19`.
    public static var sslVersion: String {
        guard let info = CCurlShim_version_info(), let text = info.pointee.ssl_version else { return "none" }
        return String(cString: text)
    }

    /// The CA bundle libcurl was built to use when none is named (Debian: `/etc/ssl/certs/ca-certificates.crt`).
    static let defaultCAInfo: String? = {
        guard let info = CCurlShim_version_info(), let path = info.pointee.cainfo else { return nil }
        return String(cString: path)
    }()

    /// libcurl's own text for a result code.
    static func message(for code: CURLcode) -> String {
        guard let text = curl_easy_strerror(code) else { return "curl error \(code.rawValue)" }
        return String(cString: text)
    }
}
