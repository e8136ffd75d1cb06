import ArgumentParser
import Foundation

/// Finds the first option that no command on the command line's path declares.
///
/// ArgumentParser decodes a command (missing arguments) and runs its `validate()` before it looks for arguments nobody
/// used, so `check --bogus x list.yaml` used to answer "Name at least one route" and `history list --histroy h.sqlite`
/// "Missing expected argument '--history'". A mistyped option is the user's first mistake and usually the cause of
/// the others, so when parsing fails, this is asked first. It reads the command tree ArgumentParser itself describes
/// (the JSON of `--experimental-dump-help`), so every subcommand and option group is covered without a list of its own.
struct UnknownOption: Equatable {
    /// The command names from the root, e.g. `["proxyvet", "history", "list"]`.
    var path: [String]
    /// The option as typed, without an attached `=value`.
    var option: String
    /// A declared option close to it, as ArgumentParser suggests one.
    var suggestion: String?

    /// `Error: Unknown option '--bogus'` and how to get help, as ArgumentParser words its own parse errors.
    var message: String {
        "Error: Unknown option '\(option)'" + (suggestion.map { ". Did you mean '\($0)'?" } ?? "")
            + "\n  See '\(path.joined(separator: " ")) --help' for more information."
    }

    /// The part of ArgumentParser's tool description (ToolInfoV0) this needs.
    struct Command: Decodable {
        struct Argument: Decodable {
            struct Name: Decodable {
                var kind: String
                var name: String
                var spelled: String { kind == "long" ? "--" + name : "-" + name }
            }
            var kind: String
            var names: [Name]?
            var parsingStrategy: String?
        }
        var commandName: String
        var subcommands: [Command]?
        var arguments: [Argument]?
    }

    private struct ToolInfo: Decodable { var command: Command }

    /// The first undeclared option in `arguments` (the command line without the executable), or nil.
    static func first(in arguments: [String], root: any ParsableCommand.Type) -> UnknownOption? {
        guard let tool = try? JSONDecoder().decode(ToolInfo.self, from: Data(root._dumpHelp().utf8)) else { return nil }
        return first(in: arguments, command: tool.command)
    }

    static func first(in arguments: [String], command root: Command) -> UnknownOption? {
        var command = root
        var path = [root.commandName]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" { return nil }
            guard argument.hasPrefix("-"), argument.count > 1, Double(argument) == nil else {
                // A value: the name of a subcommand descends into it, anything else is a positional argument.
                if let sub = command.subcommands?.first(where: { $0.commandName == argument }) {
                    command = sub
                    path.append(sub.commandName)
                }
                continue
            }
            let name = String(argument.prefix { $0 != "=" })
            let declared = (command.arguments ?? []).filter { $0.kind != "positional" }
            func declaration(_ spelling: String) -> Command.Argument? {
                declared.first { ($0.names ?? []).contains { $0.spelled == spelling } }
            }
            // Short flags may be combined (-hq): each letter must be declared then, unless the word is one (-name).
            let spellings = name.hasPrefix("--") || declaration(name) != nil ? [name] : name.dropFirst().map { "-\($0)" }
            if let unknown = spellings.first(where: { declaration($0) == nil }) {
                return UnknownOption(path: path, option: unknown, suggestion: suggestion(for: unknown, among: declared))
            }
            let matched = spellings.last.flatMap(declaration)
            guard let matched, matched.kind == "option", !argument.contains("=") else { continue }
            switch matched.parsingStrategy {
            case "allRemainingInput", "postTerminator", "allUnrecognized": return nil
            // The value may itself start with a dash (`--check-option --timeout=2`).
            case "unconditional": index += 1
            // The value follows, unless an option does (then ArgumentParser reports the missing value itself).
            default: if index < arguments.count, !arguments[index].hasPrefix("-") { index += 1 }
            }
        }
        return nil
    }

    /// The declared long option nearest to `name`, when fewer than four edits away (ArgumentParser's own threshold).
    static func suggestion(for name: String, among declared: [Command.Argument]) -> String? {
        let candidates = declared.flatMap { $0.names ?? [] }.filter { $0.kind != "short" }.map(\.spelled)
        return candidates.map { ($0, editDistance($0, name)) }.filter { $0.1 < 4 }.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance between two strings.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
