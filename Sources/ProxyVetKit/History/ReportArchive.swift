import Foundation

/// Retention of old reports (`--keep N`): each run's reports are also copied to `DIR/archive/STAMP/`
/// (`20240131T031500Z`, plus `-run12` with a history), and only the newest N such folders are kept.
///
/// A folder is filled under a temporary name and renamed when complete, so the archive never holds half a run.
/// Only folders named like an archive stamp are ever deleted.
public enum ReportArchive {
    /// The archive's folder name inside the output folder.
    public static let folderName = "archive"

    /// What one archiving did.
    public struct Outcome: Sendable, Equatable {
        /// The folder this run's reports were copied to.
        public var folder: String
        /// Older archive folders deleted to keep the newest N.
        public var removed: [String]
    }

    /// Copies `files` into a new archive folder under `directory` and deletes all but the newest `keep` folders.
    public static func archive(files: [String], generatedAt: String, run: Int64?, in directory: String, keep: Int) throws -> Outcome {
        let archive = URL(fileURLWithPath: directory, isDirectory: true).appendingPathComponent(folderName, isDirectory: true)
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: archive, withIntermediateDirectories: true)
            var name = stamp(generatedAt) + (run.map { "-run\($0)" } ?? "")
            // Two runs finishing in the same second (without a history) get -2, -3...
            for suffix in 2..<100 where manager.fileExists(atPath: archive.appendingPathComponent(name).path) {
                name = stamp(generatedAt) + (run.map { "-run\($0)" } ?? "") + "-\(suffix)"
            }
            let final = archive.appendingPathComponent(name, isDirectory: true)
            let temporary = archive.appendingPathComponent(".\(name).\(ProcessInfo.processInfo.processIdentifier).tmp", isDirectory: true)
            try? manager.removeItem(at: temporary)
            try manager.createDirectory(at: temporary, withIntermediateDirectories: false)
            for file in files {
                let source = URL(fileURLWithPath: file)
                try manager.copyItem(at: source, to: temporary.appendingPathComponent(source.lastPathComponent))
            }
            guard rename(temporary.path, final.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? manager.removeItem(at: temporary)
                throw InputError(file: final.path, "cannot archive the reports: \(reason)")
            }
            let folders = try manager.contentsOfDirectory(atPath: archive.path).filter(isArchiveFolder).sorted(by: >)
            var removed: [String] = []
            for old in folders.dropFirst(max(1, keep)) {
                try manager.removeItem(at: archive.appendingPathComponent(old))
                removed.append(old)
            }
            return Outcome(folder: final.path, removed: removed)
        } catch let error as InputError {
            throw error
        } catch {
            throw InputError(file: archive.path, "cannot archive the reports: \((error as NSError).localizedDescription)")
        }
    }

    /// `2024-01-31T03:15:00Z` → `20240131T031500Z`: sorts by time as text.
    static func stamp(_ generatedAt: String) -> String {
        let digits = generatedAt.filter { $0.isNumber || $0 == "T" || $0 == "Z" }
        return digits.isEmpty ? "run" : digits
    }

    /// `20240131T031500Z`, optionally followed by `-run12` and `-2`.
    static func isArchiveFolder(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard scalars.count >= 16 else { return false }
        let head = String(String.UnicodeScalarView(scalars[0..<16]))
        let shape = head.enumerated().allSatisfy { index, character in
            switch index {
            case 8: return character == "T"
            case 15: return character == "Z"
            default: return character.isASCII && character.isNumber
            }
        }
        let rest = String(String.UnicodeScalarView(scalars[16...]))
        return shape && rest.allSatisfy { $0.isASCII && ($0.isNumber || $0.isLetter || $0 == "-") }
    }
}
