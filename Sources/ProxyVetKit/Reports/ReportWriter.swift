import Foundation

/// The report formats `--format` accepts.
public enum ReportFormat: String, CaseIterable, Sendable {
    case json, md, html
    /// JUnit XML for CI, CSV for spreadsheets, Prometheus text exposition for node_exporter's textfile collector.
    case junit, csv, prometheus

    /// What `--format` writes when none is named.
    public static let defaults: [ReportFormat] = [.json, .md, .html]

    public var fileName: String {
        switch self {
        case .json: return "proxyvet-report.json"
        case .md: return "proxyvet-report.md"
        case .html: return "proxyvet-report.html"
        case .junit: return "proxyvet-junit.xml"
        case .csv: return "proxyvet-report.csv"
        // The textfile collector reads only `*.prom`; the temporary file of an atomic write does not end so.
        case .prometheus: return "proxyvet.prom"
        }
    }

    public func render(_ report: CheckReport) throws -> Data {
        switch self {
        case .json: return try JSONReport.render(report)
        case .md: return Data(MarkdownReport.render(report).utf8)
        case .html: return Data(try HTMLReport.render(report).utf8)
        case .junit: return Data(JUnitReport.render(report).utf8)
        case .csv: return Data(CSVReport.render(report).utf8)
        case .prometheus: return Data(PrometheusReport.render(report).utf8)
        }
    }
}

/// Writes reports atomically: a temporary file in the same folder, then a rename over the old report,
/// so an interrupted run never leaves half a report where the last good one was.
public enum ReportWriter {
    public static func write(_ report: CheckReport, formats: [ReportFormat], to directory: String) throws -> [String] {
        let folder = URL(fileURLWithPath: directory, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw InputError(file: directory, "cannot create the output folder: \((error as NSError).localizedDescription)")
        }
        var written: [String] = []
        for format in formats {
            let target = folder.appendingPathComponent(format.fileName)
            try writeAtomically(try format.render(report), to: target)
            written.append(target.path)
        }
        return written
    }

    /// `what` names the file in error messages ("the report", "the converted list").
    public static func writeAtomically(_ data: Data, to target: URL, what: String = "the report") throws {
        let temporary = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            try data.write(to: temporary)
            if rename(temporary.path, target.path) != 0 {
                throw InputError(file: target.path, "cannot replace \(what): \(String(cString: strerror(errno)))")
            }
        } catch let error as InputError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw InputError(file: target.path, "cannot write \(what): \((error as NSError).localizedDescription)")
        }
    }
}

/// The JSON report: sorted keys and stable order, so two runs diff cleanly.
public enum JSONReport {
    /// The same bytes as encoding the whole report at once, but the results (most of a big report: ~2.7 KB each
    /// with their evidence) are encoded one at a time and spliced in, so the encoder never holds the whole tree:
    /// at 10,000 probes the peak memory of a run was the encoding, not the probing.
    public static func render(_ report: CheckReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var shell = report
        shell.results = []
        var data = try encoder.encode(shell)
        if !report.results.isEmpty {
            // Top-level keys are indented by two spaces; `results` is an array of objects one level deeper.
            let open = Data("\n  \"results\" : [".utf8)
            guard let key = data.range(of: open),
                  let close = data[key.upperBound...].firstIndex(of: UInt8(ascii: "]")) else {
                var whole = try encoder.encode(report)
                whole.append(0x0A)
                return whole
            }
            var results = Data("\n".utf8)
            for (index, result) in report.results.enumerated() {
                let element = try encoder.encode(result)
                // Re-indent the element's lines by the four spaces of its depth (the encoder leaves blank lines,
                // inside empty arrays, without indentation).
                for (number, line) in element.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
                    if number > 0 { results.append(0x0A) }
                    if !line.isEmpty { results.append(contentsOf: [0x20, 0x20, 0x20, 0x20]) }
                    results.append(contentsOf: line)
                }
                results.append(contentsOf: Array((index + 1 < report.results.count ? ",\n" : "\n").utf8))
            }
            results.append(contentsOf: [0x20, 0x20])
            data.replaceSubrange(key.upperBound..<close, with: results)
        }
        data.append(0x0A)
        return data
    }

    public static func decode(_ data: Data) throws -> CheckReport {
        try JSONDecoder().decode(CheckReport.self, from: data)
    }
}
