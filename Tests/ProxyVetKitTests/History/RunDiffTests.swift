import Foundation
import Testing
@testable import ProxyVetKit

@Suite("Run diff")
struct RunDiffTests {
    @Test("identical runs: no change")
    func identical() {
        let report = SyntheticRuns.report(verdicts: ["edge a.test": .blocked])
        var earlier = RunSnapshot(report: report, run: 1)
        earlier.generatedAt = "2024-01-01T00:00:00Z"
        let comparison = RunDiff.compare(earlier, RunSnapshot(report: report))
        #expect(comparison.isEmpty)
        #expect(comparison.headline == "no change")
        #expect(comparison.lines() == ["since run 1 (run 1 finished 2024-01-01T00:00:00Z, not ready): no change"])
    }

    @Test("routes and endpoints that appear or disappear")
    func routesAndProbes() {
        let earlier = RunSnapshot(report: SyntheticRuns.report(routes: ["edge", "inspect"]), run: 4)
        let later = RunSnapshot(report: SyntheticRuns.report(verdicts: ["tiny b.test": .blocked], routes: ["edge", "tiny"]))
        let comparison = RunDiff.compare(earlier, later)
        #expect(comparison.routesAdded == ["tiny"])
        #expect(comparison.routesRemoved == ["inspect"])
        #expect(comparison.probesAdded == 4)
        #expect(comparison.probesRemoved == 4)
        // A pair not probed before that fails now is newly failing ("not probed" → blocked); a new pair that works is not a change.
        #expect(comparison.newlyFailing.map(\.transition) == ["not probed → blocked"])
        #expect(comparison.recovered.isEmpty)
    }

    @Test("a policy violation that appears on an allowed endpoint is newly failing; one that goes away is recovered")
    func violations() {
        let earlier = RunSnapshot(report: SyntheticRuns.report(violations: ["inspect c.test": [.noProxyAuth]]), run: 2)
        let later = RunSnapshot(report: SyntheticRuns.report(violations: ["inspect a.test": [.noInspection]]))
        let comparison = RunDiff.compare(earlier, later)
        #expect(comparison.newlyFailing.map { "\($0.url) \($0.transition)" } == ["https://a.test/ allowed → allowed (violates noInspection)"])
        #expect(comparison.recovered.map { "\($0.url) \($0.transition)" } == ["https://c.test/ allowed (violates noProxyAuth) → allowed"])
    }

    @Test("a conflict whose wording changed is the same conflict; another hop makes it a new one")
    func conflictIdentity() {
        var reworded = SyntheticRuns.conflict(.hopBlocks, host: "a.test")
        reworded.explanation = "new wording"
        let earlier = RunSnapshot(report: SyntheticRuns.report(conflicts: [SyntheticRuns.conflict(.hopBlocks, host: "a.test")]), run: 1)
        let same = RunDiff.compare(earlier, RunSnapshot(report: SyntheticRuns.report(conflicts: [reworded])))
        #expect(same.newConflicts.isEmpty && same.resolvedConflicts.isEmpty)
        let moved = RunDiff.compare(earlier, RunSnapshot(report: SyntheticRuns.report(conflicts: [SyntheticRuns.conflict(.hopBlocks, host: "a.test", hop: "inspect")])))
        #expect(moved.newConflicts.map(\.hop) == ["inspect"])
        #expect(moved.resolvedConflicts.map(\.hop) == ["edge"])
    }
}
