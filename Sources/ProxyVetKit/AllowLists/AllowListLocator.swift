import Foundation

/// Finds an allow list given by name (`proxyvet check managed-desktop`) in the folders lists are installed to.
///
/// A list argument that is an existing file, a path (has a `/`) or a file name with an extension (has a `.`) is used
/// as given.
/// A bare name is looked up as `NAME.yaml` in each folder of `PROXYVET_LISTS` (separated by `:`), then in
/// `<executable's folder>/../share/proxyvet/allowlists`, so the packaged `/usr/bin/proxyvet` finds the lists in
/// `/usr/share/proxyvet/allowlists`.
public struct AllowListLocator: Sendable, Equatable {
    /// The environment variable naming extra list folders, searched first.
    public static let environmentVariable = "PROXYVET_LISTS"

    /// The folders searched for a list by name, in order.
    public var folders: [String]

    /// A locator searching exactly these folders.
    public init(folders: [String]) {
        self.folders = folders
    }

    /// The folders for this process: `PROXYVET_LISTS`, then the list folder beside the installed executable.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                executable: URL? = Bundle.main.executableURL) {
        var folders = (environment[Self.environmentVariable] ?? "").split(separator: ":").map(String.init)
        if let executable {
            // Through symbolic links, so /usr/local/bin/proxyvet -> /opt/proxyvet/bin/proxyvet finds /opt/proxyvet/share.
            let bin = executable.resolvingSymlinksInPath().deletingLastPathComponent()
            folders.append(bin.deletingLastPathComponent().appendingPathComponent("share/proxyvet/allowlists").standardizedFileURL.path)
        }
        self.init(folders: folders)
    }

    /// The file to load for a list argument: the argument itself, or for a bare name that is not a file, the first
    /// `NAME.yaml` in the folders. An unknown name is an input error naming the folders searched and the lists found.
    public func path(for argument: String) throws -> String {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder)
        guard Self.isBareName(argument), !(exists && !isFolder.boolValue) else { return argument }
        for folder in folders {
            let candidate = URL(fileURLWithPath: folder).appendingPathComponent(argument + ".yaml").path
            if FileManager.default.isReadableFile(atPath: candidate) { return candidate }
        }
        let searched = folders.isEmpty ? "no list folders" : folders.joined(separator: ", ")
        let names = availableNames()
        throw InputError(file: argument, "no such file, and no installed allow list of that name (searched \(searched); "
            + "available: \(names.isEmpty ? "none" : names.joined(separator: ", ")); set \(Self.environmentVariable) to add folders)")
    }

    /// The names of the lists in the folders (each `NAME.yaml`), sorted, each once.
    public func availableNames() -> [String] {
        let names = folders.flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
                .filter { $0.hasSuffix(".yaml") && !$0.hasPrefix(".") }
                .map { String($0.dropLast(".yaml".count)) }
        }
        return Set(names).sorted()
    }

    /// A name rather than a path or file name: no `/` and no `.` (so no extension).
    static func isBareName(_ argument: String) -> Bool {
        !argument.isEmpty && !argument.contains("/") && !argument.contains(".")
    }
}
