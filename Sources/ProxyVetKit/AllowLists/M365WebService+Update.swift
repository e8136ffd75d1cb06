import Foundation

extension M365WebService {
    /// `proxyvet allowlist update`: asks the version method, and only when the version differs from the one the lists
    /// were built from, fetches the endpoint sets, regenerates `microsoft-365.yaml` and `intune.yaml` (each written to a
    /// temporary file and renamed) and says what changed against the previous files.
    public struct Update: Sendable {
        /// What happened to one list file.
        public struct FileResult: Sendable, Equatable {
            /// `written`, `wouldWrite` (dry run), `unchanged` (same bytes) or `notPublished` (no MEM sets: left as it is).
            public enum Action: String, Sendable, Equatable {
                case written, wouldWrite, unchanged, notPublished
            }
            public var path: String
            public var action: Action
            public var endpointSets: Int
            public var endpoints: Int
            /// Against the previous file; nil when there was none.
            public var diff: AllowListDiff?
        }

        public var instance: Instance
        /// The Microsoft 365 list, whose recorded version decides whether to update.
        public var recordedIn: String
        /// The service's latest version.
        public var latest: String
        /// The version the Microsoft 365 list recorded, if any.
        public var previousVersion: String?
        /// False when the version was unchanged and nothing was fetched or written.
        public var fetched: Bool
        public var dryRun: Bool
        public var files: [FileResult]
        /// Remarks for the user: ignored keys, kept policies.
        public var remarks: [String]

        /// `microsoft-365.yaml` (Worldwide) or `microsoft-365-usgovdod.yaml` in `directory`.
        public static func paths(in directory: String, instance: Instance) -> (microsoft365: String, intune: String) {
            let folder = URL(fileURLWithPath: directory)
            return (folder.appendingPathComponent("microsoft-365\(instance.fileSuffix).yaml").path,
                    folder.appendingPathComponent("intune\(instance.fileSuffix).yaml").path)
        }

        /// Runs the update. Reading the service fails with a WebServiceError and writing with a LocalFailure, before
        /// anything is replaced; a previous list that does not load is an InputError (`file:line`).
        public static func run(_ service: M365WebService, lists directory: String, dryRun: Bool = false, force: Bool = false,
                               now: Date = Date()) throws -> Update {
            let paths = paths(in: directory, instance: service.instance)
            let previous365 = try load(paths.microsoft365)
            let previousIntune = try load(paths.intune)
            let recorded = recordedVersion(previous365, instance: service.instance)
            let latest = try service.latestVersion()
            var update = Update(instance: service.instance, recordedIn: paths.microsoft365, latest: latest, previousVersion: recorded, fetched: false, dryRun: dryRun,
                                files: [], remarks: [])
            let intuneRecorded = recordedVersion(previousIntune, instance: service.instance)
            let current = recorded == latest && (previousIntune?.source?.version == nil || intuneRecorded == latest)
            if current && !force { return update }

            let defaultSets = try service.endpointSets()
            let intuneSets = try service.endpointSets(serviceAreas: intuneServiceArea)
            update.fetched = true
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withFullDate]
            let lists = try service.lists(defaultSets: defaultSets, intuneSets: intuneSets, version: latest,
                                          retrieved: formatter.string(from: now),
                                          previous: (previous365, previousIntune))
            if !lists.ignoredKeys.isEmpty {
                update.remarks.append("The answers hold keys this version of ProxyVet does not know; they were ignored: \(lists.ignoredKeys.map { ConsoleSummary.sanitize($0) }.joined(separator: ", ")).")
            }
            for (id, rules) in lists.keptPolicies.sorted(by: { $0.key < $1.key }) where !rules.isEmpty {
                let described = rules.map { "\($0.tag.rawValue) (\($0.source ?? "no source"))" }.joined(separator: "; ")
                update.remarks.append("Kept from the previous \(id) list (not from the web service): \(described).")
            }

            // Intune first: the Microsoft 365 list records the version that decides whether to update, so if writing
            // stops half-way the next run still sees the old version and tries again.
            var pending: [(path: String, text: String)] = []
            if let intune = lists.intune {
                let (result, text) = try prepare(intune, path: paths.intune, previous: previousIntune, dryRun: dryRun)
                update.files.append(result)
                if let text { pending.append((paths.intune, text)) }
            } else {
                update.files.append(FileResult(path: paths.intune, action: .notPublished, endpointSets: 0, endpoints: 0, diff: nil))
            }
            let (result, text) = try prepare(lists.microsoft365, path: paths.microsoft365, previous: previous365, dryRun: dryRun)
            update.files.insert(result, at: 0)
            if let text { pending.append((paths.microsoft365, text)) }
            if dryRun || pending.isEmpty { return update }
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                for (path, text) in pending {
                    try ReportWriter.writeAtomically(Data(text.utf8), to: URL(fileURLWithPath: path), what: "the list")
                }
            } catch let error as InputError {
                throw LocalFailure("cannot write the updated lists: \(error)")
            } catch {
                throw LocalFailure("cannot create \(directory): \((error as NSError).localizedDescription)")
            }
            return update
        }

        /// The list's YAML (nil when the file already holds exactly it), read back as the loader will read it, and
        /// compared with the previous file.
        private static func prepare(_ list: AllowList, path: String, previous: AllowList?, dryRun: Bool) throws -> (FileResult, String?) {
            let text = AllowListWriter.yaml(list)
            let written: AllowList
            do { written = try AllowListLoader.load(data: Data(text.utf8), name: path) } catch {
                // The writer and the loader disagree: a bug here, not the service's or the user's fault.
                throw LocalFailure("the generated \(path) does not load back (\(error)); nothing was written")
            }
            let sets = written.services.compactMap(\.endpointSet).count
            let endpoints = written.services.reduce(0) { $0 + $1.endpoints.count }
            let diff = previous.map { AllowListDiff.compare($0, written) }
            if let previous, previous.contentHash == written.contentHash {
                return (FileResult(path: path, action: .unchanged, endpointSets: sets, endpoints: endpoints, diff: diff), nil)
            }
            return (FileResult(path: path, action: dryRun ? .wouldWrite : .written, endpointSets: sets, endpoints: endpoints, diff: diff), text)
        }

        /// The list in `path`, or nil when there is no such file.
        private static func load(_ path: String) throws -> AllowList? {
            FileManager.default.fileExists(atPath: path) ? try AllowListLoader.load(file: path) : nil
        }

        /// The web-service version a list records, unless its source names another instance.
        static func recordedVersion(_ list: AllowList?, instance: Instance) -> String? {
            guard let source = list?.source else { return nil }
            if let named = M365WebService.instance(ofSourceURL: source.url), named.lowercased() != instance.rawValue.lowercased() {
                return nil
            }
            return source.version
        }

        /// What the command prints.
        public func text() -> String {
            var lines: [String] = []
            let head = "Microsoft 365 IP Address and URL web service, \(instance.rawValue) instance:"
            guard fetched else {
                lines.append("\(head) version \(latest), as \(recordedIn) records. Nothing was rewritten.")
                return lines.joined(separator: "\n") + "\n"
            }
            if let previousVersion, previousVersion != latest {
                lines.append("\(head) version \(previousVersion) -> \(latest).")
            } else if previousVersion != nil {
                lines.append("\(head) version \(latest) (as recorded; rebuilt on request).")
            } else {
                lines.append("\(head) version \(latest) (no version recorded before).")
            }
            for file in files {
                lines.append("")
                let counts = "\(file.endpointSets) endpoint sets, \(file.endpoints) endpoints"
                switch file.action {
                case .notPublished:
                    lines.append("\(file.path): left as it is: the \(instance.rawValue) instance publishes no endpoint sets of service area \(M365WebService.intuneServiceArea) (Intune).")
                    continue
                case .unchanged: lines.append("\(file.path): unchanged (\(counts)).")
                case .written: lines.append("\(file.path): written\(file.diff == nil ? " (new)" : ""): \(counts).")
                case .wouldWrite: lines.append("\(file.path): would be written\(file.diff == nil ? " (new)" : ""): \(counts).")
                }
                if let diff = file.diff, file.action != .unchanged {
                    lines += diff.text().split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                        .map { $0.isEmpty ? "" : "  " + ConsoleSummary.sanitize(String($0)) }
                }
            }
            if !remarks.isEmpty {
                lines.append("")
                lines += remarks
            }
            if dryRun {
                lines.append("")
                lines.append("Dry run: nothing was written.")
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }
}
