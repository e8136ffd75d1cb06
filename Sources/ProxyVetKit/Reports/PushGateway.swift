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
        // The Pushgateway explains a refused push in the body: keep its first 64 KiB, drop the rest.
        let options = CurlRequest.Options(url: url, timeout: timeout, connectTimeout: 5, sizeLimit: 65_536, failWhenTooLarge: false,
                                          put: (body, "text/plain; version=0.0.4; charset=utf-8"))
        guard let result = CurlRequest.perform(options) else {
            throw PushError(url: url, message: "libcurl could not start")
        }
        guard result.code == CURLE_OK else { throw PushError(url: url, message: result.message) }
        guard (200..<300).contains(result.status) else {
            let detail = String(decoding: result.body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let printable = ConsoleSummary.sanitize(detail)
            throw PushError(url: url, message: "HTTP status \(result.status)" + (printable.isEmpty ? "" : ": \(printable)"))
        }
        return result.status
    }
}
