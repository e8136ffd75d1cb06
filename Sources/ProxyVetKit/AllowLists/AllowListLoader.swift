import Foundation
internal import COpenSSL

/// Reads allow lists: the project's YAML format, or a plain list of URLs and host names.
public enum AllowListLoader {
    /// The YAML format version this build reads.
    public static let formatVersion = 1

    /// Loads every file; all errors are collected so the user sees them together. Nothing is returned
    /// (and so nothing is probed) if any file fails.
    /// `using` loads one source (default: a file; `allowlist --fetch` passes one that also fetches URLs).
    public static func load(files: [String], using loadOne: (String) throws -> AllowList = { try load(file: $0) }) throws -> [AllowList] {
        var lists: [AllowList] = []
        var errors: [InputError] = []
        for file in files {
            do { lists.append(try loadOne(file)) } catch let error as InputError {
                errors.append(error)
            } catch let error as InputErrors {
                errors += error.errors
            }
        }
        if !errors.isEmpty { throw InputErrors(errors) }
        return lists
    }

    /// Loads one file: `.json` is the Microsoft 365 web service's JSON, `.csv` a CSV list, `.yaml`/`.yml` (or a first
    /// line `version:`) the project's YAML, anything else a plain list; a file without a known extension whose text
    /// starts with `[` is taken as web-service JSON.
    public static func load(file: String) throws -> AllowList {
        let file = try AllowListLocator().path(for: file)  // a bare name (managed-desktop) is an installed list
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw InputError(file: file, "cannot read the allow list: \((error as NSError).localizedDescription)")
        }
        return try load(data: data, name: file)
    }

    /// Loads a list from bytes already read or fetched; `name` (a path or URL) names it in messages and reports.
    public static func load(data: Data, name file: String) throws -> AllowList {
        guard var text = String(data: data, encoding: .utf8), !data.contains(0) else {
            throw InputError(file: file, "not a text file (an allow list is YAML, JSON, CSV or one URL or host name per line)")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        if let page = htmlPageProblem(text) { throw InputError(file: file, page) }
        let hash = Self.sha256Hex(data)
        switch format(file: file, text: text) {
        case .yaml: return try parseYAML(text, file: file, hash: hash)
        case .m365JSON: return try M365EndpointSetImporter.parse(text, file: file, hash: hash)
        case .csv: return try CSVImporter.parse(text, file: file, hash: hash)
        case .plain: return try parsePlain(text, file: file, hash: hash)
        }
    }

    /// Says what a file is when it is an HTML page (an error or sign-in page saved or fetched in place of the list, such
    /// as the 503 page the Microsoft 365 web service sometimes answers), so it is one error instead of one per line.
    static func htmlPageProblem(_ text: String) -> String? {
        guard HTMLPage.starts(text) else { return nil }
        let title = AnswerFingerprint.title(of: String(text.prefix(65_536))).map { " (title \"\(ConsoleSummary.sanitize($0))\")" } ?? ""
        return "this is an HTML page\(title), not an allow list: the server answered with a web page (an error or sign-in page) "
            + "instead of the list; fetch it again or save the list itself (YAML, JSON, CSV or one URL or host name per line)"
    }

    /// The input format, by extension, else by content.
    public static func format(file: String, text: String) -> ListFormat {
        let pathPart = file.split(separator: "?", maxSplits: 1).first.map(String.init) ?? file
        let ext = URL(fileURLWithPath: pathPart).pathExtension.lowercased()
        switch ext {
        case "json": return .m365JSON
        case "csv": return .csv
        case "yaml", "yml": return .yaml
        default: break
        }
        if isYAML(file: file, text: text) { return .yaml }
        if text.drop(while: \.isWhitespace).first == "[" { return .m365JSON }
        return .plain
    }

    static func isYAML(file: String, text: String) -> Bool {
        let ext = URL(fileURLWithPath: file).pathExtension.lowercased()
        if ext == "yaml" || ext == "yml" { return true }
        let firstLine = text.split(whereSeparator: \.isNewline).first { !$0.hasPrefix("#") && !$0.allSatisfy(\.isWhitespace) }
        return firstLine?.hasPrefix("version:") ?? false
    }

    // MARK: YAML

    static func parseYAML(_ text: String, file: String, hash: String) throws -> AllowList {
        let root = try YAMLValue.parse(text, file: file)
        let top = try root.mapping(allowed: ["version", "id", "name", "source", "notes", "policies", "expectedIssuers", "minTLS", "services"], what: "the allow list")
        let version = try top.required("version", in: "the allow list", at: root).int(what: "version")
        guard version == formatVersion else {
            throw top["version"].map { $0.error("unsupported allow-list format version \(version) (this ProxyVet reads version \(formatVersion))") }
                ?? root.error("missing version")
        }
        let name = try top.required("name", in: "the allow list", at: root).string(what: "name")
        let id = try top["id"]?.string(what: "id") ?? slug(name)
        let source = try top["source"].map(parseSource)
        let notes = try top["notes"]?.string(what: "notes")
        let policies = try top["policies"].map { try $0.sequence(what: "policies").map(parsePolicy) } ?? []
        let servicesNode = try top.required("services", in: "the allow list", at: root)
        let services = try servicesNode.sequence(what: "services").map(parseService)
        guard !services.isEmpty else { throw servicesNode.error("the list has no services") }
        var list = AllowList(id: id, name: name, file: file, source: source, notes: notes, policies: policies,
                             services: services, contentHash: hash)
        list.format = .yaml
        list.expectedIssuers = try top["expectedIssuers"]?.strings(what: "expectedIssuers") ?? []
        list.minTLS = try top["minTLS"].map(parseMinTLS)
        return list
    }

    private static func parseSource(_ value: YAMLValue) throws -> ListSource {
        let map = try value.mapping(allowed: ["title", "url", "repository", "path", "commit", "date", "retrieved", "version"], what: "source")
        return ListSource(title: try map["title"]?.string(what: "title"), url: try map["url"]?.string(what: "url"),
                          repository: try map["repository"]?.string(what: "repository"), path: try map["path"]?.string(what: "path"),
                          commit: try map["commit"]?.string(what: "commit"), date: try map["date"]?.string(what: "date"),
                          retrieved: try map["retrieved"]?.string(what: "retrieved"), version: try map["version"]?.string(what: "version"))
    }

    private static func parsePolicy(_ value: YAMLValue) throws -> PolicyRule {
        let map = try value.mapping(allowed: ["tag", "patterns", "source", "quote"], what: "a policy")
        let tag = try parseTag(try map.required("tag", in: "a policy", at: value))
        let patternsNode = try map.required("patterns", in: "a policy", at: value)
        let patterns = try patternsNode.strings(what: "patterns")
        for pattern in patterns { try validateHost(pattern, at: patternsNode) }
        return PolicyRule(tag: tag, patterns: patterns, source: try map["source"]?.string(what: "source"),
                          quote: try map["quote"]?.string(what: "quote"))
    }

    /// `minTLS: "1.2"` (also `1.2`, `TLSv1.2`, `TLS 1.2`).
    private static func parseMinTLS(_ value: YAMLValue) throws -> TLSVersion {
        guard case .scalar = value.node else { throw value.error("minTLS must be a TLS version such as \"1.2\"") }
        switch TLSVersion.parseMinimum(try value.string(what: "minTLS")) {
        case let .success(version): return version
        case let .failure(problem): throw value.error(problem.message)
        }
    }

    private static func parseTag(_ value: YAMLValue) throws -> PolicyTag {
        let text = try value.string(what: "a tag")
        guard let tag = PolicyTag(rawValue: text) else {
            throw value.error("unknown tag \"\(text)\" (known: \(PolicyTag.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return tag
    }

    private static func parseService(_ value: YAMLValue) throws -> Service {
        let map = try value.mapping(allowed: ["name", "table", "notes", "endpoints", "endpointSet", "addresses", "minTLS"], what: "a service")
        let name = try map.required("name", in: "a service", at: value).string(what: "name")
        let addresses = try map["addresses"].map(parseAddresses)
        let endpoints: [Endpoint]
        if let endpointsNode = map["endpoints"] {
            endpoints = try endpointsNode.sequence(what: "endpoints").map(parseEndpoint)
            guard !endpoints.isEmpty || addresses != nil else { throw endpointsNode.error("service \"\(name)\" has no endpoints") }
        } else if addresses != nil {
            endpoints = []
        } else {
            throw value.error("service \"\(name)\" is missing \"endpoints\"")
        }
        var service = Service(name: name, table: try map["table"]?.string(what: "table"), notes: try map["notes"]?.string(what: "notes"),
                              endpoints: endpoints)
        service.endpointSet = try map["endpointSet"].map(parseEndpointSet)
        service.addresses = addresses
        service.minTLS = try map["minTLS"].map(parseMinTLS)
        return service
    }

    private static func parseEndpointSet(_ value: YAMLValue) throws -> EndpointSet {
        let map = try value.mapping(allowed: ["id", "serviceArea", "category", "expressRoute", "required"], what: "endpointSet")
        let id = try map.required("id", in: "endpointSet", at: value).int(what: "id")
        let category = try map["category"].map { node -> String in
            let text = try node.string(what: "category")
            guard let canonical = EndpointSet.categories.first(where: { $0.lowercased() == text.lowercased() }) else {
                throw node.error("unknown category \"\(text)\" (Optimize, Allow or Default)")
            }
            return canonical
        }
        return EndpointSet(id: id, serviceArea: try map["serviceArea"]?.string(what: "serviceArea"), category: category,
                           expressRoute: try map["expressRoute"]?.bool(what: "expressRoute"), required: try map["required"]?.bool(what: "required"))
    }

    private static func parseAddresses(_ value: YAMLValue) throws -> AddressBlock {
        let map = try value.mapping(allowed: ["ranges", "ports", "udpPorts"], what: "addresses")
        let rangesNode = try map.required("ranges", in: "addresses", at: value)
        let ranges = try rangesNode.strings(what: "ranges")
        for range in ranges where !Normalizer.isAddressRange(range) {
            throw rangesNode.error("\"\(range)\" is not an IP address range (a.b.c.d/n or an IPv6 prefix)")
        }
        guard !ranges.isEmpty else { throw rangesNode.error("ranges is empty") }
        return AddressBlock(ranges: ranges, ports: try map["ports"].map { try portRanges($0, what: "ports") } ?? [],
                            udpPorts: try map["udpPorts"].map { try portRanges($0, what: "udpPorts") } ?? [], line: value.line)
    }

    /// `[443, 80, "3478-3481"]` or a single value.
    private static func portRanges(_ node: YAMLValue, what: String) throws -> [PortRange] {
        let list: [YAMLValue]
        if case .scalar = node.node { list = [node] } else { list = try node.sequence(what: what) }
        return try list.map { element in
            let text = element.node.string ?? "?"
            if let port = element.node.int, !(1...65535).contains(port) {
                throw element.error("port \(port) is out of range (1 to 65535)")
            }
            guard let range = PortRange.parse(text) else {
                throw element.error("unknown port \"\(text)\" (ports are numbers from 1 to 65535, or ranges such as 3478-3481)")
            }
            return range
        }
    }

    private static func parseEndpoint(_ value: YAMLValue) throws -> Endpoint {
        let map = try value.mapping(allowed: ["host", "ports", "udpPorts", "scheme", "path", "required", "tags", "notes", "samples"], what: "an endpoint")
        let hostNode = try map.required("host", in: "an endpoint", at: value)
        let host = try hostNode.string(what: "host")
        try validateHost(host, at: hostNode)
        var ports = [443]
        var portRanges: [PortRange] = []
        let udpPorts = try map["udpPorts"].map { try Self.portRanges($0, what: "udpPorts") } ?? []
        if let portsNode = map["ports"] {
            let list: [YAMLValue]
            if case .scalar = portsNode.node { list = [portsNode] } else { list = try portsNode.sequence(what: "ports") }
            ports = []
            for node in list {
                if let port = node.node.int {
                    guard (1...65535).contains(port) else { throw node.error("port \(port) is out of range (1 to 65535)") }
                    ports.append(port)
                } else if let range = node.node.string.flatMap(PortRange.parse), !range.isSinglePort {
                    portRanges.append(range)
                } else {
                    throw node.error("unknown port \"\(node.node.string ?? "?")\" (ports are numbers from 1 to 65535)")
                }
            }
            guard !ports.isEmpty || !portRanges.isEmpty || !udpPorts.isEmpty else { throw portsNode.error("ports is empty") }
        }
        let scheme = try map["scheme"].map { node -> String in
            let text = try node.string(what: "scheme").lowercased()
            guard text == "https" || text == "http" else { throw node.error("unknown scheme \"\(text)\" (https or http)") }
            return text
        }
        let path = try map["path"].map { node -> String in
            let text = try node.string(what: "path")
            guard text.hasPrefix("/"), !text.contains(where: \.isWhitespace) else { throw node.error("path must start with / and contain no spaces") }
            return text
        } ?? "/"
        let samplesNode = map["samples"]
        let samples = try samplesNode?.strings(what: "samples") ?? []
        if let samplesNode {
            guard host.contains("*") else { throw samplesNode.error("samples are only for wildcard hosts; \(host) is exact") }
            for sample in samples {
                try validateHost(sample, at: samplesNode)
                guard HostPattern(host).matches(sample) else {
                    throw samplesNode.error("sample \(sample) is not covered by \(host)")
                }
            }
        }
        var endpoint = Endpoint(host: host.lowercased(), ports: ports, scheme: scheme, path: path,
                                required: try map["required"]?.bool(what: "required") ?? true,
                                tags: try map["tags"].map { try $0.sequence(what: "tags").map(parseTag) } ?? [],
                                notes: try map["notes"]?.string(what: "notes"), samples: samples.map { $0.lowercased() }, line: value.line)
        endpoint.portRanges = portRanges
        endpoint.udpPorts = udpPorts
        return endpoint
    }

    /// Host names and patterns: letters, digits, `-`, `_`, `.`, `*`, and `<placeholder>` parts.
    public static func hostProblem(_ host: String) -> String? {
        if host.isEmpty { return "empty host" }
        if host.contains("://") || host.contains("/") { return "\"\(host)\" is a URL, not a host name (write the host only, or use a plain URL list)" }
        if host.count > 253 { return "host name is longer than 253 characters" }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.*<>")
        if let bad = host.unicodeScalars.first(where: { !allowed.contains($0) }) {
            return "\"\(host)\" is not a host name (character \"\(String(bad).debugDescription.dropFirst().dropLast())\" is not allowed)"
        }
        if host.hasPrefix(".") || host.hasSuffix(".") || host.contains("..") { return "\"\(host)\" has an empty label" }
        return nil
    }

    private static func validateHost(_ host: String, at node: YAMLValue) throws {
        if let problem = hostProblem(host) { throw node.error(problem) }
    }

    // MARK: Plain lists

    /// One URL or host name per line; `#` starts a comment. A URL is probed exactly as given.
    static func parsePlain(_ text: String, file: String, hash: String) throws -> AllowList {
        var endpoints: [Endpoint] = []
        var errors: [InputError] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let content = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let entry = content.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if entry.isEmpty { continue }
            do { endpoints.append(try parsePlainEntry(entry, file: file, line: lineNumber)) } catch let error as InputError {
                errors.append(error)
            }
        }
        if !errors.isEmpty { throw InputErrors(errors) }
        guard !endpoints.isEmpty else { throw InputError(file: file, "the list has no URLs or host names") }
        let name = URL(fileURLWithPath: file).lastPathComponent
        var list = AllowList(id: slug(URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent), name: name, file: file,
                             services: [Service(name: name, endpoints: endpoints)], contentHash: hash)
        list.format = .plain
        return list
    }

    static func parsePlainEntry(_ entry: String, file: String, line: Int) throws -> Endpoint {
        if entry.contains(where: \.isWhitespace) {
            throw InputError(file: file, line: line, "\"\(entry)\" has spaces: write one URL or host name per line")
        }
        if entry.contains("://") {
            guard let components = URLComponents(string: entry), let scheme = components.scheme?.lowercased(),
                  let host = components.host, !host.isEmpty else {
                throw InputError(file: file, line: line, "\"\(entry)\" is not a valid URL")
            }
            guard scheme == "https" || scheme == "http" else {
                throw InputError(file: file, line: line, "unsupported scheme \"\(scheme)\" (https or http)")
            }
            if let problem = hostProblem(host) { throw InputError(file: file, line: line, problem) }
            if let port = components.port, !(1...65535).contains(port) {
                throw InputError(file: file, line: line, "port \(port) is out of range (1 to 65535)")
            }
            var path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
            if let query = components.percentEncodedQuery { path += "?" + query }
            return Endpoint(host: host.lowercased(), ports: [components.port ?? (scheme == "http" ? 80 : 443)],
                            scheme: scheme, path: path, line: line)
        }
        var host = entry
        var ports = [443]
        if let colon = entry.lastIndex(of: ":") {
            host = String(entry[..<colon])
            let portText = entry[entry.index(after: colon)...]
            guard let port = Int(portText) else { throw InputError(file: file, line: line, "unknown port \"\(portText)\"") }
            guard (1...65535).contains(port) else { throw InputError(file: file, line: line, "port \(port) is out of range (1 to 65535)") }
            ports = [port]
        }
        if let problem = hostProblem(host) { throw InputError(file: file, line: line, problem) }
        return Endpoint(host: host.lowercased(), ports: ports, line: line)
    }

    static func slug(_ text: String) -> String {
        let lowered = text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return String(lowered).split(separator: "-").joined(separator: "-")
    }
}

extension AllowListLoader {
    /// SHA-256 of a file's bytes, from libcrypto (EVP_Digest, https://www.openssl.org/docs/man3.0/man3/EVP_Digest.html).
    /// The SHA-256 of `data` in lowercase hex: a list's `contentHash`.
    static func sha256Hex(_ data: Data) -> String {
        sha256(data).map { String(format: "%02x", $0) }.joined()
    }

    static func sha256(_ data: Data) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = data.withUnsafeBytes { bytes in
            EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, EVP_sha256(), nil)
        }
        // EVP_Digest fails only without memory; the hash then reads as all zeros rather than stopping a check.
        return ok == 1 ? Array(digest.prefix(Int(length))) : [UInt8](repeating: 0, count: 32)
    }
}
