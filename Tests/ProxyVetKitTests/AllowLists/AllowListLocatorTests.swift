import Foundation
import Testing
@testable import ProxyVetKit

/// Lists by name (`proxyvet check managed-desktop`): where they are looked up, what an unknown name says, and that a
/// real file of that name wins.
@Suite("Allow list locator")
struct AllowListLocatorTests {
    /// A folder holding copies of two bundled lists, as the package installs them.
    static func listFolder() throws -> URL {
        let folder = try TestFiles.temporaryFolder().appendingPathComponent("allowlists")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["managed-desktop", "intune"] {
            try FileManager.default.copyItem(at: TestFiles.repositoryRoot.appendingPathComponent("AllowLists/\(name).yaml"),
                                             to: folder.appendingPathComponent("\(name).yaml"))
        }
        return folder
    }

    @Test("a bare name has no / and no extension", arguments: [
        ("managed-desktop", true), ("microsoft-365", true), ("managed-desktop.yaml", false), ("urls.txt", false),
        ("./managed-desktop", false), ("AllowLists/intune", false), ("/usr/share/proxyvet/allowlists/intune", false), ("", false),
    ])
    func bareName(_ argument: String, _ bare: Bool) {
        #expect(AllowListLocator.isBareName(argument) == bare)
    }

    @Test("folders: PROXYVET_LISTS in order, then share/proxyvet/allowlists beside the executable's bin folder")
    func folders() {
        let installed = AllowListLocator(environment: [:], executable: URL(fileURLWithPath: "/usr/bin/proxyvet"))
        #expect(installed.folders == ["/usr/share/proxyvet/allowlists"])
        let extra = AllowListLocator(environment: ["PROXYVET_LISTS": "/srv/lists:/etc/proxyvet/lists"],
                                     executable: URL(fileURLWithPath: "/opt/proxyvet/bin/proxyvet"))
        #expect(extra.folders == ["/srv/lists", "/etc/proxyvet/lists", "/opt/proxyvet/share/proxyvet/allowlists"])
    }

    @Test("the executable is followed through a symbolic link to where it is installed")
    func symlinkedExecutable() throws {
        let root = try TestFiles.temporaryFolder().resolvingSymlinksInPath()
        let bin = root.appendingPathComponent("opt/bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try Data().write(to: bin.appendingPathComponent("proxyvet"))
        let link = root.appendingPathComponent("proxyvet-link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: bin.appendingPathComponent("proxyvet"))
        let locator = AllowListLocator(environment: [:], executable: link)
        #expect(locator.folders == [root.appendingPathComponent("opt/share/proxyvet/allowlists").path])
    }

    @Test("a name is found as NAME.yaml in the first folder that has it")
    func found() throws {
        let lists = try Self.listFolder()
        let empty = try TestFiles.temporaryFolder()
        let locator = AllowListLocator(folders: [empty.path, "/nonexistent-proxyvet-lists", lists.path])
        #expect(try locator.path(for: "managed-desktop") == lists.appendingPathComponent("managed-desktop.yaml").path)
        #expect(locator.availableNames() == ["intune", "managed-desktop"])
        // Paths and file names are never looked up, even when a list of that name exists.
        #expect(try locator.path(for: "intune.yaml") == "intune.yaml")
        #expect(try locator.path(for: "lists/intune") == "lists/intune")
    }

    @Test("an unknown name is an input error naming the folders searched and the lists available")
    func notFound() throws {
        let lists = try Self.listFolder()
        let locator = AllowListLocator(folders: ["/nonexistent-proxyvet-lists", lists.path])
        let error = try #require(throws: InputError.self) { try locator.path(for: "managed-desktp") }
        #expect(error.description == "managed-desktp: no such file, and no installed allow list of that name "
            + "(searched /nonexistent-proxyvet-lists, \(lists.path); available: intune, managed-desktop; set PROXYVET_LISTS to add folders)")
        let none = try #require(throws: InputError.self) { try AllowListLocator(folders: []).path(for: "intune") }
        #expect(none.description == "intune: no such file, and no installed allow list of that name "
            + "(searched no list folders; available: none; set PROXYVET_LISTS to add folders)")
    }

    @Test("the command line: check and allowlist load a list by name from PROXYVET_LISTS")
    func commandLineByName() throws {
        let lists = try Self.listFolder()
        var environment = ProcessInfo.processInfo.environment
        environment["PROXYVET_LISTS"] = lists.path
        let run = try CommandRun.proxyvet(["allowlist", "validate", "intune"], timeout: 60, environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        // The copy of the bundled intune.yaml: 28 services (the file of the same name in fileWins() has one).
        #expect(run.stdout.hasPrefix("intune: valid: 28 services, 231 endpoints"), "\(run.stdout)")

        let output = try TestFiles.temporaryFolder().appendingPathComponent("out")
        let unknown = try CommandRun.proxyvet(["check", "managed-desktp", "--direct", "--output", output.path], timeout: 60, environment: environment)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("proxyvet: managed-desktp: no such file, and no installed allow list of that name (searched \(lists.path), "),
                "\(unknown.stderr)")
        #expect(unknown.stderr.contains("available: intune, managed-desktop;"), "\(unknown.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output.path), "nothing may be probed or written")
    }

    @Test("check --help says lists may be given by name")
    func help() throws {
        let run = try CommandRun.proxyvet(["check", "--help"], timeout: 30)
        let folded = run.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(folded.contains("<list> Allow lists to check: files (YAML, or one URL/host per line) or installed lists by name (managed-desktop)."),
                "\(folded)")
    }

    @Test("a real file named like a list wins over the installed list")
    func fileWins() throws {
        let lists = try Self.listFolder()
        let folder = try TestFiles.temporaryFolder()
        try Data("https://local-file.example.test/\n".utf8).write(to: folder.appendingPathComponent("intune"))
        #expect(try AllowListLocator(folders: [lists.path]).path(for: folder.appendingPathComponent("intune").path)
                == folder.appendingPathComponent("intune").path)
        var environment = ProcessInfo.processInfo.environment
        environment["PROXYVET_LISTS"] = lists.path
        let run = try CommandRun.proxyvet(["allowlist", "validate", "intune"], timeout: 60, environment: environment, in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("intune: valid: 1 services, 1 endpoints"), "\(run.stdout)")
    }
}
