import Foundation

/// A problem on this machine that stopped the run: never a network finding (exit code 3, "the run could not complete").
///
/// Some libcurl results say nothing about the network: the trust store could not be loaded, a handle could not be
/// made or added, a feature is not in this libcurl build. Reporting them as verdicts would blame proxies or origins
/// "with high confidence" for what the user or the machine must fix.
public struct LocalFailure: Error, CustomStringConvertible, Sendable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }

    /// libcurl results that are this machine's, not the network's (curl/curl.h): failed init (2), a feature not built
    /// in (4), an unknown option (48), a CA file that could not be used (77).
    static let localCodes: [Int: String] = [2: "libcurl could not start the transfer", 4: "a feature this libcurl was built without",
                                            48: "an option this libcurl does not know", 77: "the CA file could not be loaded"]

    /// Throws when any probe ended on a local failure, naming the first and how many there were.
    static func check(_ evidence: [ProbeEvidence], what: String) throws {
        let local = evidence.filter { localCodes[$0.curlCode] != nil }
        guard let first = local.first else { return }
        throw LocalFailure("\(what) could not run on this machine: \(localCodes[first.curlCode] ?? "") (curl \(first.curlCode): \(first.curlMessage)); \(local.count) of \(evidence.count) probes ended this way. This is not a network finding: fix the local problem and run again.")
    }

    /// Checks that a trust file is a PEM bundle before anything is probed: a readable file that is not PEM would make
    /// every TLS probe fail with curl 77.
    static func checkPEM(_ path: String, what: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(file: path, "\(what) cannot be read") }
        guard String(decoding: data.prefix(4 << 20), as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
            throw InputError(file: path, "\(what) is not a PEM certificate bundle (no -----BEGIN CERTIFICATE----- block)")
        }
    }
}
