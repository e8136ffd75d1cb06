import Foundation

/// A plain-text table with aligned columns, for the terminal. Cells are sanitized: nothing a PAC, a proxy or a list
/// supplied can move the cursor or start a new line.
public struct TextTable: Sendable {
    public var header: [String]
    public var rows: [[String]] = []

    public init(header: [String]) { self.header = header }

    /// Adds a row; missing cells are empty.
    public mutating func append(_ row: [String]) { rows.append(row) }

    /// The table, columns separated by two spaces, the last column not padded.
    public func render() -> String {
        let all = ([header] + rows).map { row in row.map(ConsoleSummary.sanitize) }
        let columns = all.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in all.map { $0.count > column ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            (0..<columns).map { column -> String in
                let cell = column < row.count ? row[column] : ""
                return column == columns - 1 ? cell : ConsoleSummary.pad(cell, widths[column])
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }
}
