import Foundation
import Testing
@testable import ProxyVetKit

extension Optional where Wrapped == CheckReport {
    /// The result of one (route, URL) pair in a lab run's report; a missing run or pair is a test failure naming it.
    func result(_ route: String, _ url: String, run: String = "the lab run") throws -> ProbeResult {
        let report = try #require(self, "\(run) produced no report")
        return try #require(report.results.first { $0.route == route && $0.url == url }, "no result for \(route) \(url)")
    }
}
