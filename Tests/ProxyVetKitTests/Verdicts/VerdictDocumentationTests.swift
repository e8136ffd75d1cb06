import Foundation
import Testing
@testable import ProxyVetKit

/// The README's verdict table is the user's reference: it must say exactly what the code says.
@Suite("Documentation")
struct VerdictDocumentationTests {
    @Test("the README has one row per verdict with the code's meaning and detection", arguments: Verdict.allCases)
    func readmeRow(_ verdict: Verdict) throws {
        let readme = try String(contentsOf: TestFiles.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("| `\(verdict.rawValue)` | \(verdict.meaning) | \(verdict.detection) |"))
    }

    @Test("the schema document names every report key: top level, targets, results, the tables' entries, conflict groups")
    func schemaKeys() throws {
        let schema = try String(contentsOf: TestFiles.repositoryRoot.appendingPathComponent("docs/report-schema.md"), encoding: .utf8)
        let conflicts = [SyntheticRuns.conflict(.hopIntercepts, host: "h00000.lab.test", hop: "inspect"),
                         SyntheticRuns.conflict(.hopIntercepts, host: "h00001.lab.test", hop: "inspect", routes: ["inspect"])]
        let data = try JSONReport.render(ReportDocumentTests.report(hosts: 6, routes: ["edge", "inspect"], failures: true, conflicts: conflicts))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        func keys(_ value: Any?) -> Set<String> {
            switch value {
            case let object as [String: Any]: return Set(object.keys)
            case let array as [Any]: return array.reduce(into: Set<String>()) { $0.formUnion(keys($1)) }
            default: return []
            }
        }
        var named: [(String, Set<String>)] = [("", keys(object))]
        let targets = object["targets"] as? [[String: Any]] ?? []
        named.append(("targets[]", keys(targets)))
        named.append(("targets[].results[]", keys(targets.flatMap { $0["results"] as? [Any] ?? [] })))
        for table in ["evidence", "certificates", "attributions", "responses", "tls12"] {
            named.append((table, keys((object[table] as? [String: Any])?.values.map { $0 })))
        }
        let groups = object["conflicts"] as? [[String: Any]] ?? []
        named.append(("conflicts[]", keys(groups)))
        named.append(("conflicts[].endpoints[]", keys(groups.flatMap { $0["endpoints"] as? [Any] ?? [] })))
        for (place, names) in named {
            #expect(!names.isEmpty, "\(place) has keys")
            for key in names { #expect(schema.contains("`\(key)`"), "\(place).\(key)") }
        }
        for kind in SkipKind.allCases { #expect(schema.contains("`\(kind.rawValue)`"), "skipped[].kind \(kind)") }
    }
}

/// The README's conflict table must say what the code says.
@Suite("Conflict documentation")
struct ConflictDocumentationTests {
    @Test("the README has one row per conflict kind", arguments: Conflict.Kind.allCases)
    func readmeRow(_ kind: Conflict.Kind) throws {
        let readme = try String(contentsOf: TestFiles.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("| `\(kind.rawValue)` | \(kind.meaning) |"))
    }
}
