import Foundation

/// Why the history database could not be used.
///
/// Some cases are the user's input (a file that is not a ProxyVet history, a run that does not exist: exit code 2);
/// the others mean the run itself could not complete (locked past the timeout, cannot write: exit code 3).
public enum HistoryError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Another process held the database longer than the busy timeout.
    case busy(file: String, timeoutSeconds: Double)
    /// The file cannot be opened or written (missing folder, read-only file system, disk full).
    case cannotWrite(file: String, detail: String)
    /// The file exists but is not a ProxyVet history (not SQLite, or SQLite without ProxyVet's tables).
    case notAHistory(file: String, detail: String)
    /// The file was migrated by a newer ProxyVet: this one does not know its schema and will not write to it.
    case newerSchema(file: String, migrations: [String])
    /// No run with that number (or name) in the history.
    case unknownRun(file: String, reference: String)

    public var description: String {
        switch self {
        case let .busy(file, timeout):
            return "\(file): the history database is locked by another run (waited \(Self.seconds(timeout)) s); nothing was recorded"
        case let .cannotWrite(file, detail):
            return "\(file): cannot open or write the history database: \(detail)"
        case let .notAHistory(file, detail):
            return "\(file): not a ProxyVet history database (\(detail))"
        case let .newerSchema(file, migrations):
            return "\(file): the history was written by a newer ProxyVet (unknown schema migrations \(migrations.joined(separator: ", "))); upgrade proxyvet"
        case let .unknownRun(file, reference):
            return "\(file): no run \(reference) in the history (see proxyvet history list)"
        }
    }

    /// True when the user must fix an input (exit code 2); false when the run could not complete (exit code 3).
    public var isInputError: Bool {
        switch self {
        case .notAHistory, .newerSchema, .unknownRun: return true
        case .busy, .cannotWrite: return false
        }
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
