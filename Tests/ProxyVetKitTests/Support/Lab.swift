import Foundation
@testable import ProxyVetKit

/// The loopback lab of real proxies started by `Scripts/lab/lab start` (Scripts/test does it and sets PROXYVET_LAB).
struct Lab: Sendable, Decodable {
    let net: String
    let dir: String
    let originCA: String
    let inspectionCA: String
    let inspectionCAName: String
    let proxies: [String: String]
    let credentials: [String: String]
    let config: String

    /// The lab described by PROXYVET_LAB, or nil when the suite runs without one.
    static let current: Lab? = {
        guard let path = ProcessInfo.processInfo.environment["PROXYVET_LAB"],
              let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(Lab.self, from: data)
    }()

    static var available: Bool { current != nil }
    static var required: Bool { ProcessInfo.processInfo.environment["PROXYVET_REQUIRE_LAB"] == "1" }

    /// The lab's routes as ProxyVet reads them from the generated config.
    func routes() throws -> [Route] {
        try RouteConfig.load(file: config).routes
    }

    func settings(timeout: Double = 4) -> ProbeSettings {
        var settings = ProbeSettings()
        settings.timeout = timeout
        settings.connectTimeout = min(3, timeout)
        settings.caBundle = originCA
        return settings
    }
}
