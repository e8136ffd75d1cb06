import Foundation
import Testing
@testable import ProxyVetKit

@Suite("Allow-list diff")
struct AllowListDiffTests {
    static func mmd() throws -> (old: AllowList, new: AllowList) {
        (try AllowListLoader.load(file: AllowListFixtures.path("mmd-2018.csv")),
         try AllowListLoader.load(file: AllowListFixtures.path("mmd-current.csv")))
    }

    @Test("2018 → current MMD: the MMD service hosts arrive, the Store for Business hosts go")
    func mmdVersions() throws {
        let (old, new) = try Self.mmd()
        let diff = AllowListDiff.compare(old, new, services: false)
        #expect(diff.added.map(\.host) == [
            "*.api.diagnostics.office.com", "*.apibasic.diagnostics.office.com", "admin.microsoft.com", "clientlog.admin.microsoft.com",
            "concierge.live.com", "learn.microsoft.com", "logcollection.mmd.microsoft.com", "mmdcustomer.microsoft.com",
            "mmdls.microsoft.com", "rave.office.net", "support.mmd.microsoft.com",
        ])
        #expect(diff.removed.map(\.host) == [
            "*.hotmail.com", "*.msftncsi.com/ncsi.txt", "*.outlook.com", "*.wns.windows.com", "account.live.com", "clientconfig.passport.net",
            "clientlog.portal.office.com", "docs.microsoft.com", "portal.office.com", "powerbi.uservoice.com",
        ])
        #expect(diff.changed.isEmpty)
        #expect(diff.unchanged == 331)
        // With services compared, renamed services (Office 365 → Microsoft 365) show as moves.
        let full = AllowListDiff.compare(old, new)
        let aria = try #require(full.changed.first { $0.host == "*.aria.microsoft.com" })
        #expect(aria.changes == [AllowListDiff.FieldChange(field: "services", old: "Office 365, OneDrive for Business", new: "Microsoft 365, OneDrive for Business")])
    }

    @Test("ports, required and tags changes are reported per field")
    func fields() throws {
        let old = AllowList(id: "a", name: "A", file: "a.yaml", services: [Service(name: "S", endpoints: [
            Endpoint(host: "a.test", ports: [443]), Endpoint(host: "b.test", required: true), Endpoint(host: "c.test"),
        ])], contentHash: "11")
        var udp = Endpoint(host: "c.test")
        udp.udpPorts = [PortRange(3478, 3481)]
        let new = AllowList(id: "a", name: "A", file: "b.yaml", policies: [PolicyRule(tag: .noInspection, patterns: ["b.test"])],
                            services: [Service(name: "S", endpoints: [Endpoint(host: "a.test", ports: [80, 443]), Endpoint(host: "b.test", required: false), udp])],
                            contentHash: "22")
        let diff = AllowListDiff.compare(old, new)
        #expect(diff.changed.map(\.host) == ["a.test", "b.test", "c.test"])
        #expect(diff.changed[0].changes == [.init(field: "ports", old: "443", new: "80, 443")])
        #expect(diff.changed[1].changes == [.init(field: "required", old: "true", new: "false"), .init(field: "tags", old: "none", new: "noInspection")])
        #expect(diff.changed[2].changes == [.init(field: "udpPorts", old: "none", new: "3478-3481")])
        #expect(diff.text().contains("  ~ b.test: required true -> false; tags none -> noInspection"))
        #expect(AllowListDiff.compare(old, old).isEmpty)
        #expect(AllowListDiff.compare(old, old).text().contains("No differences (3 endpoints unchanged)."))
    }

    @Test("JSON output is deterministic and decodes back")
    func json() throws {
        let (old, new) = try Self.mmd()
        let diff = AllowListDiff.compare(old, new)
        let text = try diff.json()
        #expect(text == (try AllowListDiff.compare(old, new).json()))
        let decoded = try JSONDecoder().decode(AllowListDiff.self, from: Data(text.utf8))
        #expect(decoded == diff)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["old", "new", "added", "removed", "changed", "addressesAdded", "addressesRemoved", "unchanged"])
    }

    @Test("IP ranges are compared as sets")
    func addresses() {
        var before = Service(name: "S", endpoints: [])
        before.addresses = AddressBlock(ranges: ["10.0.0.0/8", "192.0.2.0/24"])
        var after = before
        after.addresses = AddressBlock(ranges: ["192.0.2.0/24", "198.51.100.0/24"])
        let diff = AllowListDiff.compare(AllowList(id: "x", name: "x", file: "x", services: [before], contentHash: ""),
                                         AllowList(id: "x", name: "x", file: "x", services: [after], contentHash: ""))
        #expect(diff.addressesAdded == ["198.51.100.0/24"])
        #expect(diff.addressesRemoved == ["10.0.0.0/8"])
    }
}
