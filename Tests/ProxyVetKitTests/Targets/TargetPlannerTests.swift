import Foundation
import Testing
@testable import ProxyVetKit

@Suite("Targets")
struct TargetPlannerTests {
    static func list(_ id: String, _ endpoints: [Endpoint], policies: [PolicyRule] = []) -> AllowList {
        AllowList(id: id, name: id, file: "\(id).yaml", policies: policies, services: [Service(name: "svc-\(id)", endpoints: endpoints)], contentHash: "")
    }

    @Test("ports choose the scheme; other ports keep https")
    func schemes() {
        let plan = TargetPlanner().plan([Self.list("a", [Endpoint(host: "h.test", ports: [443, 80, 8443])])])
        #expect(plan.targets.map(\.url) == ["https://h.test/", "http://h.test/", "https://h.test:8443/"])
    }

    @Test("wildcards use samples, else a synthesized policy probe")
    func wildcards() {
        let plan = TargetPlanner().plan([Self.list("a", [
            Endpoint(host: "*.manage.test", samples: ["x.manage.test"]),
            Endpoint(host: "*.other.test"),
            Endpoint(host: "*cdn.note.test"),
        ])])
        #expect(plan.targets.map(\.url) == ["https://x.manage.test/", "https://proxyvet-probe.other.test/", "https://proxyvet-probecdn.note.test/"])
        #expect(plan.targets.map(\.policyProbe) == [false, true, true])
        #expect(HostPattern("*cdn.note.test").matches(plan.targets[2].host))
    }

    @Test("duplicates across lists merge and keep every requirement")
    func dedup() {
        let plan = TargetPlanner().plan([
            Self.list("a", [Endpoint(host: "h.test", required: false)]),
            Self.list("b", [Endpoint(host: "h.test", tags: [.noInspection])]),
        ])
        #expect(plan.targets.count == 1)
        #expect(plan.targets[0].requiredBy.map(\.list) == ["a", "b"])
        #expect(plan.targets[0].required)
        #expect(plan.targets[0].policy == [.noInspection])
    }

    @Test("tenant placeholders are substituted or skipped with the reason")
    func tenant() {
        let list = Self.list("a", [Endpoint(host: "<tenant>.sharepoint.test")])
        #expect(TargetPlanner().plan([list]).targets.isEmpty)
        #expect(TargetPlanner().plan([list]).skipped.first?.reason.contains("--tenant") == true)
        #expect(TargetPlanner(tenant: "Contoso").plan([list]).targets.map(\.url) == ["https://contoso.sharepoint.test/"])
    }
}
