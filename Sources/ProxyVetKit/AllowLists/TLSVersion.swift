import Foundation

/// A TLS protocol version, as allow lists name it (`minTLS: "1.2"`) and as ProxyVet offers it in a probe.
public enum TLSVersion: String, Codable, Sendable, CaseIterable, Comparable {
    case v1_2 = "1.2"
    case v1_3 = "1.3"

    public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool { lhs.rawValue < rhs.rawValue }

    /// OpenSSL's name for the version, as libcurl reports a negotiated session (`TLSv1.2`).
    public var protocolName: String { "TLSv" + rawValue }

    /// `TLS 1.2`, for sentences.
    public var label: String { "TLS " + rawValue }

    /// Parses a list's `minTLS` value; the error names what is accepted.
    ///
    /// Versions before 1.2 are refused rather than checked: Microsoft's services and current TLS libraries have
    /// retired them, so a probe offering only TLS 1.0 or 1.1 would fail on the prober's side and prove nothing.
    static func parseMinimum(_ text: String) -> Result<TLSVersion, MinimumError> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let number = trimmed.lowercased().hasPrefix("tlsv") ? String(trimmed.dropFirst(4))
            : trimmed.lowercased().hasPrefix("tls") ? trimmed.dropFirst(3).trimmingCharacters(in: .whitespaces) : trimmed
        if let version = TLSVersion(rawValue: number) { return .success(version) }
        if ["1.0", "1", "1.1"].contains(number) {
            return .failure(MinimumError(message: "minTLS \"\(text)\" is not checked: TLS 1.0 and 1.1 are retired; write \"1.2\" or \"1.3\""))
        }
        return .failure(MinimumError(message: "unknown minTLS \"\(text)\" (write \"1.2\" or \"1.3\")"))
    }

    /// A `minTLS` value that is not a version ProxyVet checks.
    struct MinimumError: Error {
        let message: String
    }
}
