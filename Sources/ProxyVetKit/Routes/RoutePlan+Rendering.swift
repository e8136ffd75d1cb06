import Foundation

/// The formats `proxyvet route --format` writes.
public enum RouteFormat: String, CaseIterable, Sendable {
    case text, json, md
}

extension RoutePlan {
    /// The plan in `format`, ending with a newline.
    public func render(_ format: RouteFormat) throws -> String {
        switch format {
        case .text: return text()
        case .json: return try json()
        case .md: return markdown()
        }
    }

    /// Deterministic JSON: sorted keys, endpoints in list order, sites in the order given.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// An aligned table for the terminal: one row per endpoint, one column per site.
    public func text() -> String {
        var lines = headline().map(ConsoleSummary.sanitize)
        lines.append("")
        var table = TextTable(header: ["ENDPOINT", "REQUIRED"] + sites.map { "SITE \($0)" })
        for endpoint in endpoints {
            table.append([endpoint.url, endpoint.required ? "yes" : "no"] + endpoint.sites.map(cell))
        }
        lines.append(table.render())
        lines += SkippedEntry.textLines(skipped)
        return lines.joined(separator: "\n") + "\n"
    }

    /// A Markdown page for a ticket: the same table, everything from the PAC, the config and the lists escaped.
    public func markdown() -> String {
        let escape = MarkdownReport.cell
        var lines = ["# Where devices send each endpoint", ""]
        lines += headline().map { "- " + escape($0) }
        lines.append("")
        lines.append("| Endpoint | Required | " + sites.map { "Site \(escape($0))" }.joined(separator: " | ") + " |")
        lines.append("|---|---|" + String(repeating: "---|", count: sites.count))
        for endpoint in endpoints {
            let cells = [escape(endpoint.url), endpoint.required ? "yes" : "no"] + endpoint.sites.map { escape(cell($0)) }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        if !skipped.isEmpty {
            lines += ["", "## Skipped list entries", ""]
            lines += skipped.map { "- \(escape($0.entry)): \(escape($0.reason))" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What the plan covers, where the answers came from and what the sites are.
    private func headline() -> [String] {
        let names = lists.map { list in
            let file = URL(fileURLWithPath: list.file).lastPathComponent
            return list.name == file ? file : "\(list.name) (\(file))"
        }.joined(separator: ", ")
        var lines = ["Where devices send \(endpoints.count) endpoint\(endpoints.count == 1 ? "" : "s") of \(names); nothing was probed.",
                     "Decided by \(source.description)."]
        if source.kind == "pac" {
            lines.append("myIpAddress() per site: \(sites.joined(separator: ", ")).")
        } else if sites.count > 1 {
            lines.append("Sites \(sites.joined(separator: ", ")): only a PAC's answers depend on the client address.")
        }
        if !routes.contains(where: { $0.proxy != nil }) && source.kind != "none" {
            lines.append("No proxies are configured: the answers are the routes, as a check probes them.")
        }
        return lines
    }

    /// One cell: the answer, then the configured routes it maps to when that says more.
    private func cell(_ site: SiteRoute) -> String {
        let labels = site.alternatives.map(\.label).joined(separator: ", ")
        let mapsToRoutes = routes.contains { $0.proxy != nil }
        if !mapsToRoutes || site.alternatives.allSatisfy({ $0.answer == "DIRECT" }) || labels == site.answer { return site.answer }
        return "\(site.answer) → \(labels)"
    }
}

extension SkippedEntry {
    /// The skipped entries for the terminal after a table: a blank line, a count, one line each; nothing when none.
    static func textLines(_ entries: [SkippedEntry]) -> [String] {
        guard !entries.isEmpty else { return [] }
        return ["", "\(entries.count) list entr\(entries.count == 1 ? "y" : "ies") skipped:"]
            + entries.map { ConsoleSummary.sanitize("  \($0.entry): \($0.reason)") }
    }
}
