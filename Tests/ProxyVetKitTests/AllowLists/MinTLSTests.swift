import Foundation
import Testing
@testable import ProxyVetKit

/// `minTLS` in the list format: per list, per service (the service's wins), validated with file:line, carried to the
/// targets (the oldest version of every list and service that requires a target wins), and on for the bundled MMD list.
@Suite("Allow lists: minTLS")
struct MinTLSTests {
    static let list = """
    version: 1
    name: Lab list
    minTLS: "1.2"
    services:
      - name: Intune
        endpoints:
          - host: a.example.test
      - name: Modern
        minTLS: "1.3"
        endpoints:
          - host: b.example.test
          - host: a.example.test
    """

    @Test("minTLS is read per list and per service; the service's own wins")
    func loads() throws {
        let list = try AllowListLoader.load(file: try TestFiles.write(Self.list, name: "tls.yaml"))
        #expect(list.minTLS == .v1_2)
        #expect(list.services[0].minTLS == nil && list.minTLS(for: list.services[0]) == .v1_2)
        #expect(list.services[1].minTLS == .v1_3 && list.minTLS(for: list.services[1]) == .v1_3)
    }

    @Test("targets take the oldest minTLS of every list and service that requires them, named by who sets it")
    func targets() throws {
        let list = try AllowListLoader.load(file: try TestFiles.write(Self.list, name: "tls.yaml"))
        let plan = TargetPlanner().plan([list])
        let a = try #require(plan.targets.first { $0.host == "a.example.test" })
        let b = try #require(plan.targets.first { $0.host == "b.example.test" })
        #expect(a.minTLS == .v1_2 && a.minTLSBy == ["Lab list"])
        #expect(b.minTLS == .v1_3 && b.minTLSBy == ["Lab list (Modern)"])
        let none = TargetPlanner().plan([AllowList(id: "x", name: "x", file: "x", services: [Service(name: "s", endpoints: [Endpoint(host: "c.test")])], contentHash: "")])
        #expect(none.targets[0].minTLS == nil && none.targets[0].minTLSBy.isEmpty)
    }

    @Test("the accepted spellings", arguments: [("\"1.2\"", TLSVersion.v1_2), ("1.2", .v1_2), ("TLSv1.3", .v1_3), ("\"TLS 1.2\"", .v1_2)])
    func spellings(_ text: String, _ version: TLSVersion) throws {
        let yaml = "version: 1\nname: x\nminTLS: \(text)\nservices:\n  - name: s\n    endpoints:\n      - host: a.test\n"
        #expect(try AllowListLoader.load(file: try TestFiles.write(yaml, name: "ok.yaml")).minTLS == version)
    }

    @Test("bad minTLS values name the file, line and what is accepted", arguments: [
        ("version: 1\nname: x\nminTLS: \"1.1\"\nservices:\n  - name: s\n    endpoints:\n      - host: a.test\n",
         "bad.yaml:3: minTLS \"1.1\" is not checked: TLS 1.0 and 1.1 are retired; write \"1.2\" or \"1.3\""),
        ("version: 1\nname: x\nservices:\n  - name: s\n    minTLS: modern\n    endpoints:\n      - host: a.test\n",
         "bad.yaml:5: unknown minTLS \"modern\" (write \"1.2\" or \"1.3\")"),
        ("version: 1\nname: x\nminTLS: [\"1.2\"]\nservices:\n  - name: s\n    endpoints:\n      - host: a.test\n",
         "bad.yaml:3: minTLS must be a TLS version such as \"1.2\""),
        ("version: 1\nname: x\nservices:\n  - name: s\n    endpoints:\n      - host: a.test\n        minTLS: \"1.2\"\n",
         "bad.yaml:7: unknown key \"minTLS\" in an endpoint"),
    ])
    func bad(_ text: String, _ expected: String) throws {
        let file = try TestFiles.write(text, name: "bad.yaml")
        do {
            _ = try AllowListLoader.load(file: file)
            Issue.record("expected an error")
        } catch let error as InputError {
            let message = error.description.replacingOccurrences(of: file, with: "bad.yaml")
            #expect(message.hasPrefix(expected), "\(message)")
        }
    }

    @Test("allowlist convert writes minTLS back, and the written list reads the same")
    func roundTrip() throws {
        let list = try AllowListLoader.load(file: try TestFiles.write(Self.list, name: "tls.yaml"))
        let yaml = AllowListWriter.yaml(list)
        #expect(yaml.contains("\nminTLS: \"1.2\"\n") && yaml.contains("\n    minTLS: \"1.3\"\n"))
        let again = try AllowListLoader.load(file: try TestFiles.write(yaml, name: "again.yaml"))
        #expect(again.minTLS == .v1_2 && again.services.map(\.minTLS) == [nil, .v1_3])
    }

    @Test("the bundled MMD list requires TLS 1.2 on every target")
    func bundled() throws {
        let file = TestFiles.repositoryRoot.appendingPathComponent("AllowLists/managed-desktop.yaml").path
        let list = try AllowListLoader.load(file: file)
        #expect(list.minTLS == .v1_2)
        let plan = TargetPlanner().plan([list])
        #expect(!plan.targets.isEmpty && plan.targets.allSatisfy { $0.minTLS == .v1_2 && $0.minTLSBy == [list.name] })
    }
}
