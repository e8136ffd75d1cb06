import Foundation
import Testing
@testable import ProxyVetKit

/// Counts of the bundled lists against numbers counted in the source tables, so a transcription error is caught.
@Suite("Bundled lists")
struct BundledListTests {
    static func load(_ name: String) throws -> AllowList {
        try AllowListLoader.load(file: TestFiles.repositoryRoot.appendingPathComponent("AllowLists/\(name)").path)
    }

    static func skipCounts(_ list: AllowList, tenant: String? = nil) -> [SkipKind: Int] {
        var counts: [SkipKind: Int] = [:]
        for entry in TargetPlanner(tenant: tenant).plan([list]).skipped {
            guard let kind = entry.kind else { continue }
            counts[kind, default: 0] += 1
        }
        return counts
    }

    @Test("every bundled list loads, records its source and skips nothing without a reason",
          arguments: ["managed-desktop.yaml", "intune.yaml", "microsoft-365.yaml", "windows-autopatch.yaml"])
    func loads(_ name: String) throws {
        let list = try Self.load(name)
        #expect(list.source?.repository != nil && list.source?.path != nil && list.source?.commit != nil && list.source?.date != nil)
        let plan = TargetPlanner().plan([list])
        #expect(plan.skipped.allSatisfy { $0.kind != nil && !$0.reason.isEmpty })
        // With a tenant, what is left is what no proxy probe can cover: UDP, other protocols, IP ranges.
        let left = TargetPlanner(tenant: "contoso").plan([list]).skipped
        #expect(left.allSatisfy { [.udp, .nonHTTPPort, .addressRange].contains($0.kind) })
    }

    @Test("Microsoft 365: 85 endpoint sets, 253 URL entries, 259 IP ranges as in the generated table")
    func microsoft365() throws {
        let list = try Self.load("microsoft-365.yaml")
        #expect(list.source?.version == "2022072800")
        #expect(list.services.count == 85)
        #expect(list.services.flatMap(\.endpoints).count == 253)
        #expect(Set(list.services.flatMap(\.endpoints).map(\.host)).count == 239)
        #expect(list.services.reduce(0) { $0 + ($1.addresses?.ranges.count ?? 0) } == 259)
        let sets = list.services.compactMap(\.endpointSet)
        #expect(sets.count == 85 && Set(sets.map(\.id)).count == 85)
        #expect(Dictionary(grouping: sets, by: { $0.category ?? "" }).mapValues(\.count) == ["Default": 70, "Allow": 12, "Optimize": 3])
        #expect(Dictionary(grouping: sets, by: { $0.serviceArea ?? "" }).mapValues(\.count)
            == ["Common": 57, "Skype": 12, "Exchange": 9, "SharePoint": 7])
        #expect(sets.filter { $0.required == true }.count == 54)
        #expect(sets.filter { $0.expressRoute == true }.count == 15)
        #expect(list.services.filter { $0.notes != nil }.count == 31)
        #expect(Self.skipCounts(list) == [.addressRange: 259, .tenantPlaceholder: 6, .nonHTTPPort: 8])
        #expect(TargetPlanner().plan([list]).targets.count == 362)
    }

    @Test("Intune: endpoint sets, sections and the consolidated list, with the policy notes as tags")
    func intune() throws {
        let list = try Self.load("intune.yaml")
        let sets = list.services.compactMap(\.endpointSet)
        // 21 table rows, 20 IDs: set 172 is in two tables.
        #expect(sets.map(\.id) == [163, 172, 170, 97, 190, 189, 192, 56, 150, 59, 179, 171, 181, 187, 188, 164, 165, 169, 173, 182])
        #expect(list.services.count == 28)
        let core = try #require(list.services.first { $0.endpointSet?.id == 163 })
        #expect(core.endpoints.map(\.host) == ["*.manage.microsoft.com", "manage.microsoft.com", "*.dm.microsoft.com", "enterpriseenrollment.manage.microsoft.com"])
        // 91 entries in the cell, 20.43.129.0/24 twice.
        #expect(core.addresses?.ranges.count == 90)
        #expect(list.services.first { $0.endpointSet?.id == 181 }?.endpoints.count == 26)
        let consolidated = try #require(list.services.first { $0.name == "Consolidated endpoint list" })
        // 94 FQDN lines (lgmsapeweu.blob.core.windows.net twice) and 88 IP subnets.
        #expect(consolidated.endpoints.count == 93)
        #expect(consolidated.addresses?.ranges.count == 88)
        #expect(list.services.flatMap(\.endpoints).count == 231)
        #expect(Self.skipCounts(list) == [.addressRange: 178, .udp: 2])
        let plan = TargetPlanner().plan([list])
        #expect(plan.targets.count == 170)
        func policy(_ host: String) -> [PolicyTag] { plan.targets.first { $0.host == host }?.policy ?? [] }
        #expect(policy("manage.microsoft.com") == [.noProxyAuth])
        #expect(policy("proxyvet-probe.manage.microsoft.com") == [.noInspection])
        #expect(policy("intunemaape7.neu.attest.azure.net") == [.noInspection])
        #expect(policy("displaycatalog.mp.microsoft.com") == [.noInspection])
        #expect(policy("naprodimedatapri.azureedge.net") == [.noProxyAuth])
        let time = try #require(plan.skipped.first { $0.entry == "time.windows.com" })
        #expect(time.reason.hasPrefix("UDP 123"))
        let ime = try #require(list.services.first { $0.name.hasPrefix("PowerShell scripts") })
        #expect(ime.endpoints.filter { $0.notes?.contains("HTTP partial responses") == true }.count == 18)
        let deliveryOptimization = try #require(list.services.first { $0.endpointSet?.id == 172 })
        #expect(deliveryOptimization.endpoints.allSatisfy { $0.notes?.contains("Byte Range") == true })
    }

    @Test("Windows Autopatch: the four rows of the older Intune table; the mid-label wildcard is a policy probe")
    func autopatch() throws {
        let list = try Self.load("windows-autopatch.yaml")
        #expect(list.services.flatMap(\.endpoints).count == 4)
        let plan = TargetPlanner().plan([list])
        #expect(plan.skipped.isEmpty)
        let probe = try #require(plan.targets.first { $0.policyProbe })
        #expect(probe.host == "payloadprodproxyvet-probe.blob.core.windows.net")
        #expect(HostPattern("payloadprod*.blob.core.windows.net").matches(probe.host))
    }

    @Test("Managed Desktop keeps its counts (the demo's list)")
    func managedDesktop() throws {
        let list = try Self.load("managed-desktop.yaml")
        #expect(list.services.count == 18)
        #expect(list.services.flatMap(\.endpoints).count == 377)
        #expect(Self.skipCounts(list) == [.tenantPlaceholder: 5])
        #expect(TargetPlanner().plan([list]).targets.count == 324)
    }
}
