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

    @Test("the schema document names every top-level report key")
    func schemaKeys() throws {
        let schema = try String(contentsOf: TestFiles.repositoryRoot.appendingPathComponent("docs/report-schema.md"), encoding: .utf8)
        let data = try JSONReport.render(ReportTests.sampleReport())
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in object.keys { #expect(schema.contains("`\(key)`"), "\(key)") }
        let result = try #require((object["results"] as? [[String: Any]])?.first)
        for key in result.keys { #expect(schema.contains("`\(key)`"), "results[].\(key)") }
        let evidence = try #require(result["evidence"] as? [String: Any])
        for key in evidence.keys { #expect(schema.contains("`\(key)`"), "evidence.\(key)") }
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
