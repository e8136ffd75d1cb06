import Foundation

/// A report is written as schema 3 (`ReportDocument`: what results share stored once); reports of schemas 1 and 2 (one
/// object per result, each with its whole evidence) are still read, so an archived report or the last report of a
/// schedule written before the upgrade opens.
extension CheckReport: Codable {
    private enum VersionKey: String, CodingKey { case schemaVersion }

    /// Reads a report of schema 1, 2 or 3.
    public init(from decoder: any Decoder) throws {
        let version = try decoder.container(keyedBy: VersionKey.self).decode(Int.self, forKey: .schemaVersion)
        self = version >= 3 ? try ReportDocument(from: decoder).report() : try LegacyReport(from: decoder).report
    }

    /// Writes the report as schema 3.
    public func encode(to encoder: any Encoder) throws {
        try ReportDocument(self).encode(to: encoder)
    }
}

/// The top-level keys every schema has, written and read as keys of the report's one JSON object.
struct ReportHead: Codable, Equatable {
    var schemaVersion: Int
    var tool: CheckReport.ToolInfo
    var generatedAt: String
    var durationSeconds: Double
    var lists: [CheckReport.ListInfo]
    var routes: [CheckReport.RouteInfo]
    var settings: CheckReport.SettingsInfo
    var skipped: [SkippedEntry]
    var calibration: [ProxyVoice]?
    var devices: DeviceRoutingInfo?
    var summary: CheckReport.Summary
    var ready: Bool
    var readinessRule: String
    var changes: RunChanges?

    /// The head of a report.
    init(_ report: CheckReport) {
        schemaVersion = report.schemaVersion; tool = report.tool; generatedAt = report.generatedAt
        durationSeconds = report.durationSeconds; lists = report.lists; routes = report.routes; settings = report.settings
        skipped = report.skipped; calibration = report.calibration; devices = report.devices; summary = report.summary
        ready = report.ready; readinessRule = report.readinessRule; changes = report.changes
    }

    /// The report with these keys and its results and conflicts.
    func report(results: [ProbeResult], conflicts: [Conflict]) -> CheckReport {
        CheckReport(schemaVersion: schemaVersion, tool: tool, generatedAt: generatedAt, durationSeconds: durationSeconds, lists: lists,
                    routes: routes, settings: settings, skipped: skipped, calibration: calibration, devices: devices, results: results,
                    conflicts: conflicts, summary: summary, ready: ready, readinessRule: readinessRule, changes: changes)
    }
}

/// A report of schema 1 or 2: the same head, with `results` and `conflicts` as flat arrays of whole values.
private struct LegacyReport: Decodable {
    var report: CheckReport

    private enum CodingKeys: String, CodingKey { case results, conflicts }

    /// Reads the head and the flat `results` and `conflicts`.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        report = try ReportHead(from: decoder).report(results: try container.decode([ProbeResult].self, forKey: .results),
                                                      conflicts: try container.decode([Conflict].self, forKey: .conflicts))
    }
}
