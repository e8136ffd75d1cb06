import Foundation
import Testing

/// Help texts are paragraphs that ArgumentParser wraps to the terminal: a line break typed inside a sentence shows up
/// as a ragged short line on every terminal.
@Suite("Help texts")
struct HelpTextTests {
    /// Every command path (`[]`, `["check"]`, `["history", "list"]`, ...), read from the command tree the executable
    /// describes itself, so a new subcommand is covered without being listed here.
    static func commandPaths() throws -> [[String]] {
        struct Command: Decodable {
            var commandName: String
            var subcommands: [Command]?
        }
        struct Tool: Decodable { var command: Command }
        let dump = try CommandRun.proxyvet(["--experimental-dump-help"], timeout: 30)
        let tool = try JSONDecoder().decode(Tool.self, from: Data(dump.stdout.utf8))
        func paths(_ command: Command, _ prefix: [String]) -> [[String]] {
            [prefix] + (command.subcommands ?? []).flatMap { paths($0, prefix + [$0.commandName]) }
        }
        return paths(tool.command, [])
    }

    /// `proxyvet PATH --help` rendered at `columns`.
    static func help(_ path: [String], columns: Int) throws -> [String] {
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = String(columns)
        let run = try CommandRun.proxyvet(path + ["--help"], timeout: 30, environment: environment)
        #expect(run.status == 0, "\(path): \(run.stderr)")
        return run.stdout.components(separatedBy: "\n")
    }

    @Test("every command's help fits 80 columns and no help string breaks a sentence with a line break")
    func paragraphs() throws {
        let paths = try Self.commandPaths()
        #expect(paths.contains(["check"]) && paths.contains(["history", "list"]) && paths.contains(["allowlist", "show"]))
        for path in paths {
            // ArgumentParser does not wrap the usage line itself: every other line is wrapped text.
            for line in try Self.help(path, columns: 80) where !line.hasPrefix("USAGE: ") {
                #expect(line.count <= 80, "\(path): \(line)")
            }
            // So wide that nothing wraps: the lines left are the line breaks written in the help strings. A line that
            // does not end a sentence and is followed by more text was broken by hand in mid-sentence, unless it is an
            // option's name alone with its help below it.
            let lines = try Self.help(path, columns: 5000)
            for (index, line) in lines.enumerated() where index + 1 < lines.count && !lines[index + 1].isEmpty {
                let label = line.range(of: #"^ +(-|<)\S*( <[^>]+>)?(, -\S+( <[^>]+>)?)*$"#, options: .regularExpression) != nil
                let header = line.range(of: #"^[A-Z]+:$"#, options: .regularExpression) != nil
                let ended = line.range(of: #"[.:?!)]$"#, options: .regularExpression) != nil
                #expect(ended || label || header || line.isEmpty, "\(path) breaks a sentence after: \(line)")
            }
        }
    }
}
