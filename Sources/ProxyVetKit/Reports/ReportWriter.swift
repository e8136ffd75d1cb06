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

/// The JSON report: sorted keys and stable order, so two runs diff cleanly; no indentation, but one line per
/// top-level key and per element of a top-level array or table (a target with its results, a conflict group, an
/// evidence record), so a diff shows which ones changed.
public enum JSONReport {
    /// The report as schema 3 JSON (`ReportDocument`), laid out a line per element.
    public static func render(_ report: CheckReport) throws -> Data {
        lines(try JSONEncoder.sorted.encode(report))
    }

    /// Compact JSON with a line break after the opening and each comma of the top-level object and of the arrays and
    /// objects directly in it, and before their closing brackets (empty ones stay `[]`). Strings are copied as they are.
    static func lines(_ compact: Data) -> Data {
        var out = Data(capacity: compact.count + compact.count / 64)
        var depth = 0
        var inString = false
        var escaped = false
        var previous: UInt8 = 0
        // Read in place (Data's own indices), without a second copy of the encoded report.
        let bytes = compact
        for (index, byte) in zip(bytes.indices, bytes) {
            defer { previous = byte }
            if inString {
                out.append(byte)
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                out.append(byte)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                out.append(byte)
                let next = index + 1 < bytes.endIndex ? bytes[index + 1] : 0
                if depth <= 2 && next != UInt8(ascii: "}") && next != UInt8(ascii: "]") { out.append(0x0A) }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth <= 2 && previous != UInt8(ascii: "{") && previous != UInt8(ascii: "[") { out.append(0x0A) }
                depth -= 1
                out.append(byte)
            case UInt8(ascii: ","):
                out.append(byte)
                if depth <= 2 { out.append(0x0A) }
            default:
                out.append(byte)
            }
        }
        out.append(0x0A)
        return out
    }

    /// Reads a report of schema 1, 2 or 3.
    public static func decode(_ data: Data) throws -> CheckReport {
        try JSONDecoder().decode(CheckReport.self, from: data)
    }
}
