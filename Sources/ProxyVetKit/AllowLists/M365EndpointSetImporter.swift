import Foundation

/// Reads the Microsoft 365 IP and URL web service's answer (`/endpoints/Worldwide`): a JSON array of endpoint sets.
///
/// Each set (`id`, `serviceArea`, `serviceAreaDisplayName`, `urls`, `ips`, `tcpPorts`, `udpPorts`, `expressRoute`,
/// `category`, `required`, `notes`) becomes one service named after its area and ID, keeping the ID, category,
/// ExpressRoute flag and notes. URLs become endpoints on the set's TCP ports (`"80,443"`; ranges such as
/// `"50000-59999"` are kept as ranges) and UDP ports; IP ranges become the service's address block.
public enum M365EndpointSetImporter {
    /// The keys of an endpoint-set record, as the web service documentation lists them.
    public static let keys: Set<String> = ["id", "serviceArea", "serviceAreaDisplayName", "urls", "ips", "tcpPorts", "udpPorts",
                                           "expressRoute", "category", "required", "notes"]

    /// Parses the JSON text; problems name the record's line. `ignoring` names keys to skip instead of refusing: the
    /// web service may add attributes (its interface versioning allows it), which `allowlist update` reports.
    public static func parse(_ text: String, file: String, hash: String, ignoring: Set<String> = []) throws -> AllowList {
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(text.utf8)) } catch {
            throw InputError(file: file, "not valid JSON: \((error as NSError).localizedDescription)")
        }
        guard let records = json as? [Any] else {
            throw InputError(file: file, line: 1, "expected the web service's array of endpoint sets ([{\"id\": 1, ...}])")
        }
        let lines = recordLines(text)
        var builder = ListBuilder()
        var errors: [InputError] = []
        var seen: Set<Int> = []
        for (index, value) in records.enumerated() {
            let line = index < lines.count ? lines[index] : nil
            do {
                let set = try endpointSet(value, file: file, line: line, ignoring: ignoring)
                guard seen.insert(set.set.id).inserted else {
                    throw InputError(file: file, line: line, "endpoint set \(set.set.id) appears twice")
                }
                add(set, to: &builder, file: file, line: line, errors: &errors)
            } catch let error as InputError {
                errors.append(error)
            }
        }
        if !errors.isEmpty { throw InputErrors(errors) }
        guard !builder.services.isEmpty else { throw InputError(file: file, line: 1, "the file has no endpoint sets") }
        let base = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        var list = AllowList(id: AllowListLoader.slug(base), name: URL(fileURLWithPath: file).lastPathComponent, file: file,
                             notes: "Imported from the Microsoft 365 IP and URL web service JSON (endpoint sets).",
                             services: builder.services, contentHash: hash)
        list.corrections = builder.corrections
        list.format = .m365JSON
        return list
    }

    /// One record, checked.
    struct Record {
        var set: EndpointSet
        var displayName: String?
        var urls: [String]
        var ips: [String]
        var tcp: [PortRange]
        var udp: [PortRange]
        var notes: String?
    }

    private static func endpointSet(_ value: Any, file: String, line: Int?, ignoring: Set<String>) throws -> Record {
        func fail(_ message: String) -> InputError { InputError(file: file, line: line, message) }
        guard let record = value as? [String: Any] else { throw fail("an endpoint set must be an object") }
        if let unknown = record.keys.sorted().first(where: { !keys.contains($0) && !ignoring.contains($0) }) {
            throw fail("unknown key \"\(unknown)\" in an endpoint set (known: \(keys.sorted().joined(separator: ", ")))")
        }
        guard let id = record["id"] as? Int else {
            throw fail("an endpoint set needs a numeric \"id\"")
        }
        func string(_ key: String) throws -> String? {
            guard let raw = record[key] else { return nil }
            if let text = raw as? String { return text }
            if let number = raw as? Int { return String(number) }
            throw fail("endpoint set \(id): \"\(key)\" must be text")
        }
        func strings(_ key: String) throws -> [String] {
            guard let raw = record[key] else { return [] }
            guard let array = raw as? [Any], let texts = array as? [String] else {
                throw fail("endpoint set \(id): \"\(key)\" must be a list of strings")
            }
            return texts
        }
        func bool(_ key: String) throws -> Bool? {
            guard let raw = record[key] else { return nil }
            if let value = raw as? Bool { return value }
            if let text = raw as? String, ["true", "false"].contains(text.lowercased()) { return text.lowercased() == "true" }
            throw fail("endpoint set \(id): \"\(key)\" must be true or false")
        }
        func ports(_ key: String) throws -> [PortRange] {
            guard let text = try string(key), !text.isEmpty else { return [] }
            switch PortRange.parseList(text) {
            case let .success(found): return found
            case let .failure(error): throw fail("endpoint set \(id): unknown port \"\(error.element)\" in \(key)")
            }
        }
        let category = try string("category")
        guard let category, let canonical = EndpointSet.categories.first(where: { $0.lowercased() == category.lowercased() }) else {
            throw fail("endpoint set \(id): category must be Optimize, Allow or Default, not \"\(category ?? "")\"")
        }
        guard let required = try bool("required") else { throw fail("endpoint set \(id) is missing \"required\"") }
        let set = EndpointSet(id: id, serviceArea: try string("serviceArea"), category: canonical,
                              expressRoute: try bool("expressRoute"), required: required)
        let record2 = Record(set: set, displayName: try string("serviceAreaDisplayName"), urls: try strings("urls"),
                             ips: try strings("ips"), tcp: try ports("tcpPorts"), udp: try ports("udpPorts"), notes: try string("notes"))
        guard !record2.urls.isEmpty || !record2.ips.isEmpty else { throw fail("endpoint set \(id) has neither urls nor ips") }
        guard !record2.tcp.isEmpty || !record2.udp.isEmpty else { throw fail("endpoint set \(id) has neither tcpPorts nor udpPorts") }
        return record2
    }

    /// The service name of a set: `Exchange Online, endpoint set 1`.
    public static func serviceName(area: String?, id: Int) -> String {
        "\(area ?? "Microsoft 365"), endpoint set \(id)"
    }

    private static func add(_ record: Record, to builder: inout ListBuilder, file: String, line: Int?, errors: inout [InputError]) {
        let name = serviceName(area: record.displayName ?? record.set.serviceArea, id: record.set.id)
        var service = Service(name: name, table: record.displayName ?? record.set.serviceArea, notes: record.notes, endpoints: [])
        service.endpointSet = record.set
        builder.declare(service)
        var corrections: [Correction] = []
        let raw = record.urls.map { Normalizer.RawEntry(text: $0, service: name, line: line) }
        let joined = Normalizer.joinSplitEntries(raw, corrections: &corrections)
        builder.corrections += corrections
        for entry in joined {
            switch Normalizer.clean(entry.text) {
            case let .failure(error):
                errors.append(InputError(file: file, line: line, "endpoint set \(record.set.id): \(error.message)"))
            case let .success(cleaned):
                builder.record(cleaned.corrections, service: name, original: entry.text, result: cleaned.host, line: line)
                var endpoint = Endpoint(host: cleaned.host, ports: record.tcp.filter(\.isSinglePort).map(\.lower), scheme: cleaned.scheme,
                                        path: cleaned.path ?? "/", required: record.set.required ?? true, line: line)
                endpoint.portRanges = record.tcp.filter { !$0.isSinglePort }
                endpoint.udpPorts = record.udp
                builder.add(endpoint, to: name, original: entry.text)
            }
        }
        builder.addAddresses(record.ips, ports: record.tcp, udpPorts: record.udp, to: name, line: line)
    }

    /// The line each top-level array element starts on (JSONSerialization gives no positions).
    static func recordLines(_ text: String) -> [Int] {
        var lines: [Int] = []
        var line = 1
        var depth = 0
        var inString = false
        var escaped = false
        var awaitingElement = false
        for character in text.unicodeScalars {
            if character == "\n" { line += 1 }
            if inString {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
                continue
            }
            if CharacterSet.whitespacesAndNewlines.contains(character) { continue }
            if depth == 1 && character == "," { awaitingElement = true; continue }
            if depth == 1 && awaitingElement && character != "]" {
                lines.append(line)
                awaitingElement = false
            }
            switch character {
            case "\"": inString = true
            case "[", "{":
                depth += 1
                if depth == 1 { awaitingElement = true }
            case "]", "}": depth -= 1
            default: break
            }
        }
        return lines
    }
}
