import Foundation

/// A problem with something the user gave ProxyVet (an allow list, a config, a flag), located by file and line.
///
/// Printed as `file:line: message`, the form editors and CI annotate. A bad input stops the run before
/// anything is probed (exit code 2).
public struct InputError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the problem is in, as the user named it; nil for command-line input.
    public var file: String?
    /// 1-based line, when known.
    public var line: Int?
    /// What is wrong, in a network engineer's words.
    public var message: String

    public init(file: String? = nil, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        switch (file, line) {
        case let (file?, line?): return "\(file):\(line): \(message)"
        case let (file?, nil): return "\(file): \(message)"
        default: return message
        }
    }
}

/// Several input errors found in one pass, so the user can fix them all at once.
public struct InputErrors: Error, CustomStringConvertible, Sendable {
    public var errors: [InputError]
    public init(_ errors: [InputError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
