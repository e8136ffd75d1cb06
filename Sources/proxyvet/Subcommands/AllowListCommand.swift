import ArgumentParser
import Foundation
import ProxyVetKit

/// `proxyvet allowlist`: read, check, compare and convert required-URL lists as network teams receive them.
struct AllowListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allowlist",
        abstract: "Show, validate, compare and convert allow lists (ProxyVet YAML, Microsoft 365 web-service JSON, CSV, plain URL lists).",
        discussion: """
        Input format by extension: .json is the Microsoft 365 IP and URL web service's JSON, .csv a CSV list with a header row, \
        .yaml/.yml the ProxyVet format, anything else one URL or host name per line (text starting with [ is taken as web-service JSON). \
        --fetch URL reads a list from an http(s) URL instead of a file.
        """,
        subcommands: [Show.self, Validate.self, Diff.self, Convert.self, Update.self]
    )
}

/// How lists given as URLs are fetched, and the tenant for `<tenant>` entries.
struct ListFetchOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("An http(s) URL to fetch a list from (e.g. the Microsoft 365 web service), repeatable.", valueName: "url"))
    var fetch: [String] = []

    @Option(name: .customLong("fetch-proxy"), help: ArgumentHelp("Fetch through this proxy (http://host:port); default: direct, ignoring the environment.", valueName: "url"))
    var fetchProxy: String?

    @Option(name: .customLong("fetch-timeout"), help: "Seconds allowed for each fetch.")
    var fetchTimeout: Double = 30

    @Option(name: .long, help: ArgumentHelp("Your tenant name, substituted for <tenant> in list entries.", valueName: "name"))
    var tenant: String?

    func validate() throws {
        for url in fetch where !(url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://")) {
            throw ValidationError("--fetch takes an http:// or https:// URL, not \(url).")
        }
        guard fetchTimeout > 0, fetchTimeout <= 600 else { throw ValidationError("--fetch-timeout must be more than 0 and at most 600 seconds.") }
        try validateTenant(tenant)
    }

    /// Loads a file, or fetches a URL and loads what came back.
    func load(_ source: String) throws -> AllowList {
        let lowered = source.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else { return try AllowListLoader.load(file: source) }
        let data = try HTTPFetcher(timeout: fetchTimeout, proxy: fetchProxy).fetch(source)
        var list = try AllowListLoader.load(data: data, name: source)
        if list.source == nil {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate]
            list.source = ListSource(url: source, retrieved: formatter.string(from: Date()))
        }
        return list
    }

    /// Loads every source, collecting every error (nothing is returned if one fails).
    func loadAll(_ sources: [String]) throws -> [AllowList] {
        try AllowListLoader.load(files: sources, using: load)
    }
}

extension AllowListCommand {
    /// `proxyvet allowlist show`: services, endpoints, tags, counts, what was corrected and what is skipped.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what lists hold: services, endpoints, tags, counts, corrections and skipped entries with reasons."
        )

        @Argument(help: ArgumentHelp("Lists to show.", valueName: "list"))
        var lists: [String] = []

        @OptionGroup var input: ListFetchOptions

        @Flag(name: .long, help: "Counts only, without every endpoint, correction and skipped entry.")
        var brief = false

        @Flag(name: .long, help: "Write the summary as JSON (sorted keys) instead of text.")
        var json = false

        func validate() throws {
            guard !lists.isEmpty || !input.fetch.isEmpty else { throw ValidationError("Name at least one list, or --fetch URL.") }
        }

        func run() throws {
            let loaded = try input.loadAll(lists + input.fetch)
            let summaries = loaded.map { AllowListSummary.of($0, tenant: input.tenant) }
            if json {
                print(try AllowListSummary.json(summaries), terminator: "")
                return
            }
            print(zip(summaries, loaded).map { $0.text(list: $1, detail: !brief) }.joined(separator: "\n"), terminator: "")
        }
    }

    /// `proxyvet allowlist validate`: exit 0 when every list loads, 2 with `file:line: message` otherwise.
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that lists load; prints file:line: message for each problem.",
            discussion: "Exit codes: 0 every list is valid, 2 at least one is not (nothing would be probed from it)."
        )

        @Argument(help: ArgumentHelp("Lists to validate.", valueName: "list"))
        var lists: [String] = []

        @OptionGroup var input: ListFetchOptions

        func validate() throws {
            guard !lists.isEmpty || !input.fetch.isEmpty else { throw ValidationError("Name at least one list, or --fetch URL.") }
        }

        func run() throws {
            var failed = false
            for source in lists + input.fetch {
                do {
                    let summary = AllowListSummary.of(try input.load(source), tenant: input.tenant)
                    print("\(source): valid: \(summary.countsLine)")
                } catch let error as InputError {
                    failed = true
                    FileHandle.standardError.write(Data("proxyvet: \(error)\n".utf8))
                } catch let error as InputErrors {
                    failed = true
                    FileHandle.standardError.write(Data(error.errors.map { "proxyvet: \($0)\n" }.joined().utf8))
                }
            }
            if failed { throw ExitCode(2) }
        }
    }

    /// `proxyvet allowlist diff OLD NEW`: endpoints added, removed and changed.
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two versions of a list: endpoints added, removed and changed (ports, tags, required, services), IP ranges.",
            discussion: "With --fetch URL the fetched list is NEW (compare a saved copy with the published one). Exit codes: 0 no differences, 1 differences, 2 a list cannot be read."
        )

        @Argument(help: ArgumentHelp("The old list (file or http(s) URL).", valueName: "old"))
        var old: String

        @Argument(help: ArgumentHelp("The new list (file or http(s) URL); omit with --fetch.", valueName: "new"))
        var new: String?

        @OptionGroup var input: ListFetchOptions

        @Flag(name: .long, help: "Write the diff as JSON (sorted keys) instead of text.")
        var json = false

        @Flag(name: .customLong("ignore-services"), help: "Do not report hosts that only moved between services (renamed services).")
        var ignoreServices = false

        func validate() throws {
            guard (new != nil && input.fetch.isEmpty) || (new == nil && input.fetch.count == 1) else {
                throw ValidationError("Name the new list, or give exactly one --fetch URL instead.")
            }
        }

        func run() throws {
            let lists = try input.loadAll([old, new ?? input.fetch[0]])
            let diff = AllowListDiff.compare(lists[0], lists[1], services: !ignoreServices)
            print(json ? try diff.json() : diff.text(), terminator: "")
            if !diff.isEmpty { throw ExitCode(1) }
        }
    }

    /// `proxyvet allowlist convert`: any input as the project's YAML.
    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a list (web-service JSON, CSV, plain or YAML) in the ProxyVet YAML format, corrections noted as comments."
        )

        @Argument(help: ArgumentHelp("The list to convert; omit with --fetch.", valueName: "list"))
        var list: String?

        @OptionGroup var input: ListFetchOptions

        @Option(name: .long, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
        var output: String?

        func validate() throws {
            guard (list == nil && input.fetch.count == 1) || (list != nil && input.fetch.isEmpty) else {
                throw ValidationError("Name one list to convert, or give exactly one --fetch URL.")
            }
        }

        func run() throws {
            let loaded = try input.load(list ?? input.fetch[0])
            let text = AllowListWriter.yaml(loaded)
            guard let output else {
                print(text, terminator: "")
                return
            }
            try ReportWriter.writeAtomically(Data(text.utf8), to: URL(fileURLWithPath: output), what: "the converted list")
        }
    }

    /// `proxyvet allowlist update`: regenerate the Microsoft 365 and Intune lists from the web service when it publishes
    /// a new version.
    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild microsoft-365.yaml and intune.yaml from the Microsoft 365 IP Address and URL web service when it publishes a new version, and print what changed.",
            discussion: """
            Asks the web service's version method first: when the version equals the one the Microsoft 365 list records, nothing is fetched or rewritten. \
            Otherwise fetches the endpoint sets (and Intune's, service area MEM, with ServiceAreas=MEM), writes both lists (each to a temporary file, then renamed) \
            and prints the differences from the previous files. Policies, minTLS and expectedIssuers written by hand in the previous files are kept. \
            Each machine sends one ClientRequestId, kept in $XDG_STATE_HOME/proxyvet (default ~/.local/state/proxyvet), as Microsoft asks.
            Exit codes: 0 the lists are current (rewritten or not), 2 usage error or a previous list that cannot be read, \
            3 the web service could not be read (no answer, an error status, an HTML page, not its JSON) or the lists could not be written; nothing is rewritten then.
            """
        )

        @Option(name: .long, help: ArgumentHelp("The service instance: Worldwide, USGovDoD, USGovGCCHigh or China.", valueName: "name"))
        var instance = "Worldwide"

        @Option(name: .customLong("service-url"), help: ArgumentHelp("The web service's base URL (a mirror, or a loopback server in tests).", valueName: "url"))
        var serviceURL = M365WebService.defaultBase

        @Option(name: .long, help: ArgumentHelp("The folder holding microsoft-365.yaml and intune.yaml (other instances: microsoft-365-usgovdod.yaml ...).", valueName: "dir"))
        var lists = "AllowLists"

        @Option(name: .customLong("fetch-proxy"), help: ArgumentHelp("Fetch through this proxy (http://host:port); default: direct, ignoring the environment.", valueName: "url"))
        var fetchProxy: String?

        @Option(name: .customLong("fetch-timeout"), help: "Seconds allowed for each request to the web service.")
        var fetchTimeout: Double = 30

        @Flag(name: .customLong("dry-run"), help: "Fetch and print what would change, but write nothing.")
        var dryRun = false

        @Flag(name: .long, help: "Rebuild the lists even when the version is unchanged.")
        var force = false

        func validate() throws {
            guard M365WebService.Instance.named(instance) != nil else {
                throw ValidationError("--instance takes one of \(M365WebService.Instance.allCases.map(\.rawValue).joined(separator: ", ")), not \(instance).")
            }
            let lowered = serviceURL.lowercased()
            guard (lowered.hasPrefix("http://") || lowered.hasPrefix("https://")), !serviceURL.contains("?"), !serviceURL.contains("#"),
                  URL(string: serviceURL)?.host != nil else {
                throw ValidationError("--service-url takes the service's base URL (http(s)://host[:port]), not \(serviceURL).")
            }
            guard fetchTimeout > 0, fetchTimeout <= 600 else { throw ValidationError("--fetch-timeout must be more than 0 and at most 600 seconds.") }
        }

        func run() throws {
            let clientRequestID = M365WebService.ClientRequestID.machine(
                file: M365WebService.ClientRequestID.file(environment: ProcessInfo.processInfo.environment))
            if let note = clientRequestID.note { FileHandle.standardError.write(Data("proxyvet: \(note)\n".utf8)) }
            let service = M365WebService(base: serviceURL, instance: M365WebService.Instance.named(instance) ?? .worldwide,
                                         clientRequestID: clientRequestID.id,
                                         fetcher: HTTPFetcher(timeout: fetchTimeout, proxy: fetchProxy))
            do {
                let update = try M365WebService.Update.run(service, lists: lists, dryRun: dryRun, force: force)
                print(update.text(), terminator: "")
            } catch let error as WebServiceError {
                FileHandle.standardError.write(Data("proxyvet: \(error); nothing was rewritten.\n".utf8))
                throw ExitCode(3)
            }
        }
    }
}
