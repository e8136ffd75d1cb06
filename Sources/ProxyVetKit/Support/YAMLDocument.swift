import Foundation
internal import Yams

/// A YAML node with its file and line, for readers that report `file:line` errors and unknown keys.
struct YAMLValue {
    let node: Node
    let file: String

    var line: Int? { node.mark?.line }

    func error(_ message: String) -> InputError {
        InputError(file: file, line: line, message)
    }

    /// Parses a whole document; syntax errors carry the line libyaml reports.
    static func parse(_ text: String, file: String) throws -> YAMLValue {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw InputError(file: file, line: 1, "the file is empty")
            }
            return YAMLValue(node: node, file: file)
        } catch let error as YamlError {
            throw InputError(file: file, line: Self.line(of: error), "not valid YAML: \(Self.problem(of: error))")
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _):
            return mark.line
        case let .duplicatedKeysInMapping(_, context):
            return context.mark.line
        default:
            return nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, _, _), let .parser(context, problem, _, _), let .composer(context, problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        case let .duplicatedKeysInMapping(duplicates, _):
            return "duplicate key \(duplicates.joined(separator: ", "))"
        case .reader:
            return "the file is not UTF-8 text"
        default:
            return "\(error)"
        }
    }

    /// The mapping's entries in file order, after checking that every key is one of `allowed`.
    func mapping(allowed: Set<String>, what: String) throws -> [String: YAMLValue] {
        guard case let .mapping(mapping) = node else {
            throw error("\(what) must be a mapping of keys to values")
        }
        var result: [String: YAMLValue] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw YAMLValue(node: key, file: file).error("\(what): keys must be text") }
            guard allowed.contains(name) else {
                let known = allowed.sorted().joined(separator: ", ")
                throw YAMLValue(node: key, file: file).error("unknown key \"\(name)\" in \(what) (known: \(known))")
            }
            result[name] = YAMLValue(node: value, file: file)
        }
        return result
    }

    /// The mapping's entries in file order, with any keys (used for named proxies).
    func namedEntries(what: String) throws -> [(name: String, value: YAMLValue, line: Int?)] {
        guard case let .mapping(mapping) = node else {
            throw error("\(what) must be a mapping of names to entries")
        }
        return try mapping.map { key, value in
            guard let name = key.string, !name.isEmpty else {
                throw YAMLValue(node: key, file: file).error("\(what): names must be text")
            }
            return (name, YAMLValue(node: value, file: file), key.mark?.line)
        }
    }

    func sequence(what: String) throws -> [YAMLValue] {
        switch node {
        case let .sequence(sequence): return sequence.map { YAMLValue(node: $0, file: file) }
        default: throw error("\(what) must be a list")
        }
    }

    func string(what: String) throws -> String {
        guard case let .scalar(scalar) = node else { throw error("\(what) must be text") }
        return scalar.string
    }

    func int(what: String) throws -> Int {
        guard case .scalar = node, let value = node.int else { throw error("\(what) must be a whole number, not \"\(node.string ?? "?")\"") }
        return value
    }

    func bool(what: String) throws -> Bool {
        guard case .scalar = node, let value = node.bool else { throw error("\(what) must be true or false, not \"\(node.string ?? "?")\"") }
        return value
    }

    /// A list of strings; a single scalar is accepted as a one-element list.
    func strings(what: String) throws -> [String] {
        if case .scalar = node { return [try string(what: what)] }
        return try sequence(what: what).map { try $0.string(what: what) }
    }
}

extension Dictionary where Key == String, Value == YAMLValue {
    func required(_ key: String, in what: String, at parent: YAMLValue) throws -> YAMLValue {
        guard let value = self[key] else { throw parent.error("\(what) is missing \"\(key)\"") }
        return value
    }
}
