import Foundation

/// Writes a list in the project's YAML format (what `proxyvet allowlist convert` produces).
///
/// Output is deterministic: services and endpoints in list order, keys in a fixed order, defaults left out
/// (`ports: [443]`, `path: /`, `required: true`). Every string that could be read as something else is quoted.
/// Corrections made while importing are written as comments at the top, so the file says what was changed.
public enum AllowListWriter {
    /// The YAML text of `list`.
    public static func yaml(_ list: AllowList) -> String {
        var out: [String] = []
        out.append("# ProxyVet allow list (format version \(AllowListLoader.formatVersion)), converted from \(list.file) (\(list.format.rawValue)).")
        out.append("# SHA-256 of the input: \(list.contentHash)")
        if !list.corrections.isEmpty {
            out.append("# Corrections made while importing (\(list.corrections.count)):")
            for correction in list.corrections {
                let place = correction.line.map { "line \($0): " } ?? ""
                let result = correction.result.isEmpty ? "dropped" : correction.result
                out.append("#   \(place)\(correction.kind.rawValue): \(oneLine(correction.original)) -> \(oneLine(result))")
            }
        }
        out.append("version: \(AllowListLoader.formatVersion)")
        out.append("name: \(quote(list.name))")
        out.append("id: \(quote(list.id))")
        if let source = list.source {
            let fields: [(String, String?)] = [("title", source.title), ("url", source.url), ("repository", source.repository),
                                               ("path", source.path), ("commit", source.commit), ("date", source.date),
                                               ("retrieved", source.retrieved), ("version", source.version)]
            let present = fields.compactMap { key, value in value.map { (key, $0) } }
            if !present.isEmpty {
                out.append("source:")
                for (key, value) in present { out.append("  \(key): \(quote(value))") }
            }
        }
        if let notes = list.notes { out.append("notes: \(quote(notes))") }
        if !list.expectedIssuers.isEmpty { out.append("expectedIssuers: \(flow(list.expectedIssuers.map(quote)))") }
        if let minTLS = list.minTLS { out.append("minTLS: \"\(minTLS.rawValue)\"") }
        if !list.policies.isEmpty {
            out.append("policies:")
            for rule in list.policies {
                out.append("  - tag: \(rule.tag.rawValue)")
                out.append("    patterns: \(flow(rule.patterns.map(quote)))")
                if let source = rule.source { out.append("    source: \(quote(source))") }
                if let quoteText = rule.quote { out.append("    quote: \(quote(quoteText))") }
            }
        }
        out.append("services:")
        for service in list.services {
            out.append("  - name: \(quote(service.name))")
            if let table = service.table { out.append("    table: \(quote(table))") }
            if let notes = service.notes { out.append("    notes: \(quote(notes))") }
            if let minTLS = service.minTLS { out.append("    minTLS: \"\(minTLS.rawValue)\"") }
            if let set = service.endpointSet {
                var parts = ["id: \(set.id)"]
                if let area = set.serviceArea { parts.append("serviceArea: \(quote(area))") }
                if let category = set.category { parts.append("category: \(category)") }
                if let expressRoute = set.expressRoute { parts.append("expressRoute: \(expressRoute)") }
                if let required = set.required { parts.append("required: \(required)") }
                out.append("    endpointSet: { \(parts.joined(separator: ", ")) }")
            }
            if let addresses = service.addresses {
                out.append("    addresses:")
                out.append("      ranges: \(flow(addresses.ranges.map(quote)))")
                if !addresses.ports.isEmpty { out.append("      ports: \(flow(addresses.ports.map(port)))") }
                if !addresses.udpPorts.isEmpty { out.append("      udpPorts: \(flow(addresses.udpPorts.map(port)))") }
            }
            if service.endpoints.isEmpty { continue }
            out.append("    endpoints:")
            for endpoint in service.endpoints {
                out.append("      - host: \(quote(endpoint.host))")
                let tcp = endpoint.ports.map(String.init) + endpoint.portRanges.map(port)
                if tcp != ["443"] { out.append("        ports: \(flow(tcp))") }
                if !endpoint.udpPorts.isEmpty { out.append("        udpPorts: \(flow(endpoint.udpPorts.map(port)))") }
                if let scheme = endpoint.scheme { out.append("        scheme: \(scheme)") }
                if endpoint.path != "/" { out.append("        path: \(quote(endpoint.path))") }
                if !endpoint.required { out.append("        required: false") }
                if !endpoint.tags.isEmpty { out.append("        tags: \(flow(endpoint.tags.map(\.rawValue)))") }
                if !endpoint.samples.isEmpty { out.append("        samples: \(flow(endpoint.samples.map(quote)))") }
                if let notes = endpoint.notes { out.append("        notes: \(quote(notes))") }
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// `[a, b]`.
    static func flow(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }

    /// `443` or `"3478-3481"` (a range must be a string in YAML).
    static func port(_ range: PortRange) -> String { range.isSinglePort ? "\(range.lower)" : "\"\(range)\"" }

    static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }

    /// A YAML double-quoted scalar, unless the text is a plain, unambiguous word or host name.
    static func quote(_ text: String) -> String {
        let plain = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
        let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"]
        if !text.isEmpty, text.unicodeScalars.allSatisfy(plain.contains), !reserved.contains(text.lowercased()),
           Double(text) == nil, Int(text) == nil, text.first != "-", text.first != ".",
           !text.allSatisfy({ $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" }) {
            return text
        }
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    escaped += String(format: "\\x%02X", scalar.value)
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped + "\""
    }
}
