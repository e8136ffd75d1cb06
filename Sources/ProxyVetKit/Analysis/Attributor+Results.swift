import Foundation

extension Attributor {
    /// The results with each failing one attributed to the hop that decided it (`decidedBy`). The result is the one place
    /// an attribution is kept: conflicts read it from there.
    public static func attributed(_ results: [ProbeResult], topology: Topology) -> [ProbeResult] {
        let index = ResultIndex(results)
        return results.map { result in
            var attributed = result
            attributed.decidedBy = attribute(result, topology: topology, index: index)
            return attributed
        }
    }
}
