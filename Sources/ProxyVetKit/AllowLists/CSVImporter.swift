import Foundation

/// Reads a CSV allow list, as network teams export them from spreadsheets and firewall tools.
///
/// The first row names the columns (any order, case-insensitive): `host` or `url` (one per row, at least one
/// column), and optionally `port` (or `ports`: `443`, `80;443`, `3478-3481`), `protocol` (`tcp`, the default, or
/// `udp`), `service`, `tags` (`noInspection;noProxyAuth`), `required` (`true`/`false`, `yes`/`no`,
/// `required`/`optional`; default true) and `notes`. Fields follow RFC 4180 (double quotes, `""` inside).
/// A row per port is merged into one endpoint; host cells are cleaned by ``Normalizer`` and every change is
/// recorded. A host cell holding an IP range (`13.107.6.152/31`) becomes a firewall requirement of its service.
public enum CSVImporter {
    /// The columns this importer reads.
    public static let columns = ["host", "url", "port", "ports", "protocol", "service", "tags", "required", "notes"]

    /// Parses CSV text into a list; every bad row is reported with its line.
    public static func parse(_ text: String, file: String, hash: String) throws -> AllowList {
        let records = try CSVReader.records(text, file: file)
        guard let header = records.first else { throw InputError(file: file, "the CSV file is empty") }
        var column: [String: Int] = [:]
        for (index, name) in header.fields.enumerated() {
            let key = name.trimmingCharacters(in: .whitespaces).lowercased()
            guard columns.contains(key) else {
                throw InputError(file: file, line: header.line, "unknown column \"\(name)\" (known: \(columns.joined(separator: ", ")))")
            }
            guard column[key] == nil else { throw InputError(file: file, line: header.line, "column \"\(key)\" appears twice") }
            column[key == "ports" ? "port" : key] = index
        }
        guard column["host"] != nil || column["url"] != nil else {
            throw InputError(file: file, line: header.line, "the header row needs a \"host\" or \"url\" column")
        }
        let defaultService = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        var builder = ListBuilder()
        var errors: [InputError] = []
        var rows: [Normalizer.RawEntry] = []
        var details: [Int: [String: String]] = [:]
        for record in records.dropFirst() {
            func cell(_ name: String) -> String {
                guard let index = column[name], index < record.fields.count else { return "" }
                return record.fields[index].trimmingCharacters(in: .whitespaces)
            }
            if record.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            if record.fields.count > header.fields.count {
                errors.append(InputError(file: file, line: record.line, "\(record.fields.count) fields, but the header names \(header.fields.count)"))
                continue
            }
            let service = cell("service").isEmpty ? defaultService : cell("service")
            let entry = cell("url").isEmpty ? cell("host") : cell("url")
            rows.append(Normalizer.RawEntry(text: entry, service: service, line: record.line))
            details[record.line] = ["port": cell("port"), "protocol": cell("protocol"), "tags": cell("tags"),
                                    "required": cell("required"), "notes": cell("notes")]
        }
        var corrections: [Correction] = []
        let entries = Normalizer.joinSplitEntries(rows, corrections: &corrections)
        builder.corrections = corrections
        for entry in entries {
            let line = entry.line ?? 0
            let detail = details[line] ?? [:]
            do {
                try add(entry, detail: detail, to: &builder, file: file)
            } catch let error as InputError {
                errors.append(error)
            }
        }
        if !errors.isEmpty { throw InputErrors(errors) }
        guard !builder.services.isEmpty else { throw InputError(file: file, "the CSV file has no rows") }
        var list = AllowList(id: AllowListLoader.slug(defaultService), name: URL(fileURLWithPath: file).lastPathComponent, file: file,
                             services: builder.services, contentHash: hash)
        list.corrections = builder.corrections
        list.format = .csv
        return list
    }

    /// Adds one (joined) row to its service.
    private static func add(_ entry: Normalizer.RawEntry, detail: [String: String], to builder: inout ListBuilder, file: String) throws {
        let line = entry.line
        func fail(_ message: String) -> InputError { InputError(file: file, line: line, message) }
        let text = entry.text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { throw fail("the row has no host or URL") }
        let proto = (detail["protocol"] ?? "").lowercased()
        guard ["", "tcp", "udp"].contains(proto) else { throw fail("unknown protocol \"\(proto)\" (tcp or udp)") }
        var ports: [PortRange] = []
        if let portText = detail["port"], !portText.isEmpty {
            switch PortRange.parseList(portText) {
            case let .success(found): ports = found
            case let .failure(error): throw fail("unknown port \"\(error.element)\" (ports are numbers from 1 to 65535, or ranges such as 3478-3481)")
            }
        }
        if Normalizer.isAddressRange(text) {
            builder.addAddresses([text], ports: proto == "udp" ? [] : ports, udpPorts: proto == "udp" ? ports : [], to: entry.service, line: line)
            return
        }
        let cleaned: Normalizer.Cleaned
        switch Normalizer.clean(text) {
        case let .success(value): cleaned = value
        case let .failure(error): throw fail(error.message)
        }
        builder.record(cleaned.corrections, service: entry.service, original: text, result: cleaned.host, line: line)
        var endpoint = Endpoint(host: cleaned.host, ports: [], scheme: cleaned.scheme, path: cleaned.path ?? "/", line: line)
        if proto == "udp" {
            guard !ports.isEmpty else { throw fail("a udp row needs a port") }
            endpoint.udpPorts = ports
        } else {
            if ports.isEmpty {
                ports = [PortRange(cleaned.port ?? (cleaned.scheme == "http" ? 80 : 443))]
            }
            endpoint.ports = ports.filter(\.isSinglePort).map(\.lower)
            endpoint.portRanges = ports.filter { !$0.isSinglePort }
        }
        if let tagText = detail["tags"], !tagText.isEmpty {
            endpoint.tags = try tagText.split(whereSeparator: { $0 == ";" || $0 == "," || $0 == " " }).map { name in
                guard let tag = PolicyTag(rawValue: String(name)) else {
                    throw fail("unknown tag \"\(name)\" (known: \(PolicyTag.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return tag
            }.sorted()
        }
        switch (detail["required"] ?? "").lowercased() {
        case "", "true", "yes", "required", "1": endpoint.required = true
        case "false", "no", "optional", "0": endpoint.required = false
        case let other: throw fail("required must be true or false, not \"\(other)\"")
        }
        if let notes = detail["notes"], !notes.isEmpty { endpoint.notes = notes }
        builder.add(endpoint, to: entry.service, original: text)
    }
}

/// RFC 4180 records with the line each starts on.
enum CSVReader {
    struct Record {
        var fields: [String]
        var line: Int
    }

    /// Splits text into records; quoted fields may hold commas, quotes (`""`) and line breaks. `#` lines are comments.
    static func records(_ text: String, file: String) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var atFieldStart = true
        var characters = Array(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        if characters.last != "\n" { characters.append("\n") }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            if inQuotes {
                if character == "\"" {
                    if index < characters.count, characters[index] == "\"" {
                        field.append("\"")
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            if character == "#", fields.isEmpty, field.isEmpty {
                // A comment line: skipped up to its end.
                while index < characters.count, !["\n", "\r\n", "\r"].contains(characters[index]) { index += 1 }
                continue
            }
            switch character {
            case "\"" where atFieldStart:
                inQuotes = true
                atFieldStart = false
            case ",":
                fields.append(field)
                field = ""
                atFieldStart = true
            case "\n", "\r\n", "\r":
                fields.append(field)
                if !(fields.count == 1 && fields[0].trimmingCharacters(in: .whitespaces).isEmpty) {
                    records.append(Record(fields: fields, line: recordLine))
                }
                fields = []
                field = ""
                atFieldStart = true
                line += 1
                recordLine = line
            default:
                field.append(character)
                if !character.isWhitespace { atFieldStart = false }
            }
        }
        if inQuotes { throw InputError(file: file, line: recordLine, "a quoted field is not closed") }
        return records
    }
}
