import Foundation

/// The Microsoft 365 IP Address and URL web service (`endpoints.office.com`): the latest version of an instance's data
/// and its endpoint sets.
///
/// Protocol facts (Microsoft's "Office 365 IP Address and URL web service" page): `GET /version/{instance}?ClientRequestId=GUID`
/// answers `{"instance": "Worldwide", "latest": "YYYYMMDDNN"}` and is never rate limited; `GET /endpoints/{instance}`
/// answers an array of endpoint sets and may answer 429 when called too often, so it is called only when the version
/// changed. Intune's sets (service area `MEM`) come only with `ServiceAreas=MEM` (Microsoft's Intune endpoints page
/// gives that query), which also returns the Common sets, as every `ServiceAreas` query does.
public struct M365WebService: Sendable {
    /// The service instances (clouds) the web service publishes. Germany, in the 2021 page, has since been retired.
    public enum Instance: String, CaseIterable, Sendable {
        case worldwide = "Worldwide"
        case usGovDoD = "USGovDoD"
        case usGovGCCHigh = "USGovGCCHigh"
        case china = "China"

        /// The instance with this name, in any case; nil for any other name.
        public static func named(_ name: String) -> Instance? {
            allCases.first { $0.rawValue.lowercased() == name.lowercased() }
        }

        /// What the instance's list files add to their names: nothing for Worldwide, `-usgovdod` for USGovDoD.
        public var fileSuffix: String { self == .worldwide ? "" : "-" + rawValue.lowercased() }
    }

    /// The real service. Tests point `base` at a loopback server; nothing in this repository contacts the real one.
    public static let defaultBase = "https://endpoints.office.com"
    /// The service area of Intune's (Microsoft Endpoint Manager's) endpoint sets.
    public static let intuneServiceArea = "MEM"

    /// Scheme and host (and port) of the service, without a trailing slash.
    public var base: String
    public var instance: Instance
    /// The GUID the service asks each machine to send (see `ClientRequestID`).
    public var clientRequestID: String
    public var fetcher: HTTPFetcher

    public init(base: String = defaultBase, instance: Instance = .worldwide, clientRequestID: String, fetcher: HTTPFetcher = HTTPFetcher()) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.instance = instance; self.clientRequestID = clientRequestID; self.fetcher = fetcher
    }

    /// `BASE/version/Worldwide?ClientRequestId=…`.
    public var versionURL: String { "\(base)/version/\(instance.rawValue)?ClientRequestId=\(clientRequestID)" }

    /// `BASE/endpoints/Worldwide?ClientRequestId=…`, with `ServiceAreas=MEM` first when `serviceAreas` is given.
    public func endpointsURL(serviceAreas: String? = nil) -> String {
        let areas = serviceAreas.map { "ServiceAreas=\($0)&" } ?? ""
        return "\(base)/endpoints/\(instance.rawValue)?\(areas)ClientRequestId=\(clientRequestID)"
    }

    /// Where a list built from the service says it comes from: the endpoints URL without this machine's ClientRequestId.
    public func sourceURL(serviceAreas: String? = nil) -> String {
        "\(base)/endpoints/\(instance.rawValue)" + (serviceAreas.map { "?ServiceAreas=\($0)" } ?? "")
    }

    /// The instance named in a list's source URL (`…/endpoints/Worldwide…`), when the list was built from the service.
    public static func instance(ofSourceURL url: String?) -> String? {
        guard let url, let range = url.range(of: "/endpoints/") else { return nil }
        let rest = url[range.upperBound...]
        let name = rest.prefix { $0 != "?" && $0 != "/" }
        return name.isEmpty ? nil : String(name)
    }

    /// The latest version of the instance's data (`2025120100`).
    public func latestVersion() throws -> String {
        let url = versionURL
        let (answer, value) = try json(url)
        let expected = "the version method's answer ({\"instance\": \"\(instance.rawValue)\", \"latest\": \"YYYYMMDDNN\"})"
        guard let record = value as? [String: Any], let latest = record["latest"] as? String else {
            throw WebServiceError(url: url, problem: "JSON, but not \(expected): \(Self.whatCameBack(answer))")
        }
        guard latest.count == 10, latest.unicodeScalars.allSatisfy({ CharacterSet.decimalDigits.contains($0) && $0.isASCII }) else {
            throw WebServiceError(url: url, problem: "the latest version is \"\(Self.printable(latest, limit: 40))\", not ten digits (YYYYMMDDNN)")
        }
        if let named = record["instance"] as? String, named.lowercased() != instance.rawValue.lowercased() {
            throw WebServiceError(url: url, problem: "the answer is for instance \"\(Self.printable(named, limit: 40))\", not \(instance.rawValue)")
        }
        return latest
    }

    /// One answer of the endpoints method.
    public struct EndpointSets {
        /// The URL asked (with the ClientRequestId).
        public var url: String
        /// The answer's bytes, as the importer reads them.
        public var data: Data
        /// The endpoint-set records.
        public var records: [[String: Any]]
    }

    /// The instance's endpoint sets (`serviceAreas: "MEM"` for Intune's, with the Common sets).
    public func endpointSets(serviceAreas: String? = nil) throws -> EndpointSets {
        let url = endpointsURL(serviceAreas: serviceAreas)
        let (answer, value) = try json(url)
        guard let array = value as? [Any], let records = array as? [[String: Any]] else {
            throw WebServiceError(url: url, problem: "JSON, but not the endpoints method's answer (an array of endpoint sets): \(Self.whatCameBack(answer))")
        }
        return EndpointSets(url: url, data: answer.body, records: records)
    }

    /// Fetches `url` and reads its body as JSON; anything else is a WebServiceError saying what came back.
    private func json(_ url: String) throws -> (HTTPFetcher.Answer, Any) {
        let answer: HTTPFetcher.Answer
        do { answer = try fetcher.answer(url) } catch let error as InputError {
            throw WebServiceError(url: url, problem: "no answer from the web service (\(error.message))")
        }
        guard (200..<300).contains(answer.status) else {
            var problem = "HTTP status \(answer.status): \(Self.whatCameBack(answer)), not the web service's JSON"
            if answer.status == 429 { problem += " (too many requests: the endpoints method is rate limited; Microsoft asks to wait an hour)" }
            throw WebServiceError(url: url, problem: problem)
        }
        if Self.isHTML(answer) {
            throw WebServiceError(url: url, problem: "\(Self.whatCameBack(answer)), not the web service's JSON")
        }
        do { return (answer, try JSONSerialization.jsonObject(with: answer.body)) } catch {
            throw WebServiceError(url: url, problem: "not valid JSON: \(Self.whatCameBack(answer))")
        }
    }
}

/// The web service could not be read: no answer, an error status, or something that is not its JSON. Neither a finding
/// about the network being checked nor bad input: `allowlist update` says what came back, rewrites nothing, exits 3.
public struct WebServiceError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The URL asked.
    public var url: String
    /// What came back instead of the service's JSON.
    public var problem: String

    public init(url: String, problem: String) { self.url = url; self.problem = problem }

    public var description: String { "\(url): \(problem)" }
}

extension M365WebService {
    /// True when the answer is an HTML page (by its content type, or by its first tag).
    static func isHTML(_ answer: HTTPFetcher.Answer) -> Bool {
        if answer.contentType?.lowercased().contains("html") == true { return true }
        return HTMLPage.starts(String(decoding: answer.body.prefix(1024), as: UTF8.self))
    }

    /// What came back, in a few words: `an HTML page (title "Service Unavailable")`, `an empty answer`,
    /// `12 bytes of text/plain starting "…"`. Everything quoted from the answer is escaped.
    static func whatCameBack(_ answer: HTTPFetcher.Answer) -> String {
        if answer.body.isEmpty { return "an empty answer" }
        if isHTML(answer) {
            guard let title = htmlTitle(answer.body) else { return "an HTML page without a title" }
            return "an HTML page (title \"\(printable(title, limit: 80))\")"
        }
        let text = String(decoding: answer.body.prefix(400), as: UTF8.self)
        let type = answer.contentType.map { printable($0, limit: 60) } ?? "data without a content type"
        return "\(answer.body.count) bytes of \(type) starting \"\(printable(text, limit: 40))\""
    }

    /// The text of the page's `<title>`, entities decoded and white space collapsed; nil when it has none.
    static func htmlTitle(_ body: Data) -> String? {
        let text = String(decoding: body.prefix(64 << 10), as: UTF8.self)
        guard let open = text.range(of: "<title", options: .caseInsensitive),
              let end = text[open.upperBound...].range(of: ">"),
              let close = text[end.upperBound...].range(of: "</title", options: .caseInsensitive) else { return nil }
        var title = String(text[end.upperBound..<close.lowerBound])
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&nbsp;", " "), ("&amp;", "&")] {
            title = title.replacingOccurrences(of: entity, with: character)
        }
        let words = title.split(whereSeparator: { $0.isWhitespace })
        return words.isEmpty ? nil : words.joined(separator: " ")
    }

    /// `text` cut to `limit` characters (with `…`), control characters made spaces (the console's rule) and quotes and
    /// backslashes escaped, so text a server chose can neither forge lines or terminal sequences nor end the quotes.
    static func printable(_ text: String, limit: Int) -> String {
        let cut = text.unicodeScalars.count > limit ? String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit))) + "…" : text
        return ConsoleSummary.sanitize(cut).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}

extension M365WebService {
    /// The GUID this machine sends as `ClientRequestId`: one per machine, kept in a file, as Microsoft asks ("generate a
    /// unique GUID for each machine that calls the web service"; its scripts keep theirs next to the last version seen).
    /// A new GUID per call would also be accepted, but Microsoft could no longer tell one machine's calls apart, and the
    /// page suggests a new GUID as a way around its rate limit, which a polite client should not take.
    public enum ClientRequestID {
        /// `$XDG_STATE_HOME/proxyvet/m365-client-request-id`, else `$HOME/.local/state/proxyvet/m365-client-request-id`.
        public static func file(environment: [String: String]) -> URL? {
            if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
                return URL(fileURLWithPath: state).appendingPathComponent("proxyvet/m365-client-request-id")
            }
            guard let home = environment["HOME"], home.hasPrefix("/") else { return nil }
            return URL(fileURLWithPath: home).appendingPathComponent(".local/state/proxyvet/m365-client-request-id")
        }

        /// The machine's GUID from `file`, created there on first use. When it cannot be kept (no home, read-only), a
        /// new GUID serves this run and `note` says why.
        public static func machine(file: URL?) -> (id: String, note: String?) {
            guard let file else {
                return (fresh(), "no HOME or XDG_STATE_HOME to keep a ClientRequestId in: a new one was used for this run")
            }
            if let data = FileManager.default.contents(atPath: file.path) {
                let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if isValid(text) { return (text.lowercased(), nil) }
            }
            let id = fresh()
            do {
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data((id + "\n").utf8).write(to: file, options: .atomic)
                return (id, nil)
            } catch {
                return (id, "cannot keep the ClientRequestId in \(file.path) (\((error as NSError).localizedDescription)): a new one was used for this run")
            }
        }

        /// A GUID in the service's form: `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hexadecimal.
        public static func isValid(_ text: String) -> Bool {
            text.count == 36 && UUID(uuidString: text) != nil
        }

        /// A new random GUID, lower-cased as in Microsoft's examples.
        static func fresh() -> String { UUID().uuidString.lowercased() }
    }
}
