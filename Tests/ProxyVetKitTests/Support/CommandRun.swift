import Foundation

/// Runs the built `proxyvet` executable, for tests of the command line as a user sees it.
struct CommandRun {
    let status: Int32
    let stdout: String
    let stderr: String

    /// The `proxyvet` binary next to the test bundle (swift build --build-tests builds both into one folder).
    static var binary: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for folder in [bundle, bundle.deletingLastPathComponent(), bundle.deletingLastPathComponent().deletingLastPathComponent()] {
            let candidate = folder.appendingPathComponent("proxyvet")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return bundle.appendingPathComponent("proxyvet")
    }

    /// Runs `proxyvet arguments...` (in `folder`, if given); kills it after `timeout` seconds (then the status is the signal's).
    static func proxyvet(_ arguments: [String], timeout: Double, environment: [String: String]? = nil, in folder: URL? = nil) throws -> CommandRun {
        try program(binary, arguments, timeout: timeout, environment: environment, in: folder)
    }

    /// Runs any program, e.g. a reference tool to compare with; kills it after `timeout` seconds.
    static func program(_ executable: URL, _ arguments: [String], timeout: Double, environment: [String: String]? = nil,
                        in folder: URL? = nil) throws -> CommandRun {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let folder { process.currentDirectoryURL = folder }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        // Drain both pipes while waiting, so a chatty process cannot block on a full pipe.
        let outData = DataBox(), errData = DataBox()
        let readers = [Thread { outData.set(out.fileHandleForReading.readDataToEndOfFile()) },
                       Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }]
        readers.forEach { $0.start() }
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        for _ in 0..<100 where !(outData.done && errData.done) { Thread.sleep(forTimeInterval: 0.05) }
        return CommandRun(status: process.terminationStatus, stdout: String(decoding: outData.data, as: UTF8.self),
                          stderr: String(decoding: errData.data, as: UTF8.self))
    }

    final class DataBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value = Data()
        private var finished = false
        func set(_ data: Data) { lock.withLock { value = data; finished = true } }
        var data: Data { lock.withLock { value } }
        var done: Bool { lock.withLock { finished } }
    }
}
