import Foundation
#if canImport(Glibc)
import Glibc
#endif
internal import CCurlShim
internal import CPacParser

/// A loaded PAC script, evaluated with libpacparser.
///
/// libpacparser keeps one JavaScript context in process-global state and is not thread-safe, so every evaluation
/// runs init → parse → FindProxyForURL… → cleanup under one lock on a dedicated thread. A script that never returns
/// cannot be stopped (libpacparser offers no interrupt): that thread keeps the lock, and later evaluations fail at
/// once with a clear error instead of waiting for it. The CLI exits soon after such an error.
public final class PACScript: Sendable {
    /// Where the script came from as the user wrote it (file path or http(s) URL), for messages and reports.
    public let source: String
    /// The script text.
    public let text: String

    /// Largest PAC script accepted, from a file or a server: real ones are a few KiB, a 1 MiB one is a mistake.
    public static let sizeLimit = 1 << 20
    /// Seconds allowed for fetching a PAC over HTTP.
    static let fetchTimeout: Double = 10

    /// A script already in memory; `source` names it in messages.
    public init(source: String, text: String) {
        self.source = source
        self.text = text
    }

    /// Loads a PAC script from a file path, or fetches it from an http:// or https:// URL.
    ///
    /// The fetch goes direct (proxies from the environment are ignored: the PAC decides about proxies), follows no
    /// redirect and accepts only a 2xx answer, as a browser fetching WPAD would.
    public static func load(_ source: String) throws -> PACScript {
        let lowered = source.lowercased()
        let data: Data
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            data = try fetch(source)
        } else if lowered.hasPrefix("file://") {
            guard let path = URL(string: source)?.path, !path.isEmpty else {
                throw InputError(file: source, "cannot read the PAC file: not a file URL")
            }
            data = try read(path, source: source)
        } else {
            data = try read(source, source: source)
        }
        return PACScript(source: source, text: try decode(data, source: source))
    }

    /// Reads at most `sizeLimit` bytes of a PAC file.
    private static func read(_ path: String, source: String) throws -> Data {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw InputError(file: source, "cannot read the PAC file: no such file")
        }
        guard !isFolder.boolValue else { throw InputError(file: source, "cannot read the PAC file: it is a folder") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(file: source, "cannot read the PAC file: permission denied")
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: sizeLimit + 1) ?? Data() } catch {
            throw InputError(file: source, "cannot read the PAC file: \(error.localizedDescription)")
        }
        guard data.count <= sizeLimit else { throw InputError(file: source, "the PAC file is too large (over 1 MiB)") }
        return data
    }

    /// Fetches a PAC over HTTP(S) with libcurl, direct and without following redirects.
    private static func fetch(_ url: String) throws -> Data {
        guard let result = CurlRequest.perform(CurlRequest.Options(url: url, timeout: fetchTimeout, sizeLimit: sizeLimit)) else {
            throw InputError(file: url, "cannot fetch the PAC file: libcurl could not start")
        }
        if result.status != 0 && !(200..<300).contains(result.status) {
            var message = "cannot fetch the PAC file: HTTP status \(result.status)"
            if (300..<400).contains(result.status) {
                message += result.redirect.map { " (redirects are not followed; use the final URL \($0))" }
                    ?? " (redirects are not followed; use the final URL)"
            }
            throw InputError(file: url, message)
        }
        if result.tooLarge {
            throw InputError(file: url, "the PAC file is too large (over 1 MiB)")
        }
        guard result.code == CURLE_OK else { throw InputError(file: url, "cannot fetch the PAC file: \(result.message)") }
        if result.contentType?.lowercased().hasPrefix("text/html") == true {
            throw InputError(file: url, "the server sent an HTML page, not a PAC script (a login or error page?)")
        }
        return result.body
    }

    /// Checks the bytes are a plausible script: UTF-8 without NUL bytes (libpacparser takes a C string), not empty.
    private static func decode(_ data: Data, source: String) throws -> String {
        guard !data.contains(0), var text = String(data: data, encoding: .utf8) else {
            throw InputError(file: source, "the PAC file is not text (not UTF-8, or it holds NUL bytes)")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw InputError(file: source, "the PAC file is empty")
        }
        let opening = text.drop(while: \.isWhitespace).prefix(9).lowercased()
        if opening.hasPrefix("<!doctype") || opening.hasPrefix("<html") {
            throw InputError(file: source, "the PAC file is an HTML page, not a PAC script (a login or error page?)")
        }
        return text
    }

    // MARK: Evaluating

    /// Evaluates FindProxyForURL(url, host) for each pair, in order. The budget is per call: parsing the file and each
    /// call must finish within `timeout` seconds (a corporate PAC of thousands of rules takes a fraction of a second a
    /// call, hundreds of calls in all); one that does not is an endless loop and is named. Each distinct pair is
    /// evaluated once. `myIpAddress()` returns `clientAddress` (the site's address; 127.0.0.1 unless given).
    public func evaluate(_ requests: [(url: String, host: String)], clientAddress: ClientAddress = .loopback,
                         timeout: Double = 5) throws -> [PACAnswer] {
        guard timeout > 0, timeout.isFinite else { throw InputError("the PAC evaluation timeout must be a positive number of seconds") }
        var distinct: [(url: String, host: String)] = []
        var position: [String: Int] = [:]
        let slots = requests.map { request -> Int in
            let key = request.url + "\u{0}" + request.host
            if let known = position[key] { return known }
            position[key] = distinct.count
            distinct.append(request)
            return distinct.count - 1
        }
        let answers = try evaluateDistinct(distinct, clientAddress: clientAddress, timeout: timeout)
        return slots.map { answers[$0] }
    }

    private func evaluateDistinct(_ requests: [(url: String, host: String)], clientAddress: ClientAddress,
                                  timeout: Double) throws -> [PACAnswer] {
        let calls = try requests.map(Self.call(for:))
        if let stuck = PACEngine.stuckSource() {
            throw InputError(file: source, "cannot evaluate the PAC file: an earlier PAC evaluation (\(stuck)) did not finish and "
                + "still holds libpacparser, which cannot be stopped; fix that PAC file and run again")
        }
        let run = PACRun()
        let deadline = Date(timeIntervalSinceNow: timeout)
        let script = text
        let thread = Thread { PACEngine.evaluate(script, calls, clientAddress: clientAddress, deadline: deadline, run: run) }
        thread.name = "ProxyVet PAC evaluation"
        thread.stackSize = 8 << 20
        thread.start()
        // Waits while the evaluation makes progress: each step (the parse, then each call) has `timeout` seconds,
        // measured on a monotonic clock; the number of steps bounds the whole wait.
        var lastProgress = run.progress
        var lastChange = ContinuousClock.now
        let budget = Duration.milliseconds(Int(timeout * 1000))
        while run.done.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            let progress = run.progress
            if progress != lastProgress {
                lastProgress = progress
                lastChange = ContinuousClock.now
            } else if ContinuousClock.now - lastChange > budget {
                break
            }
        }
        // Decided under the run's lock, so an evaluation finishing just now is either taken or marked abandoned.
        let state = run.takeOrAbandon(source: source)
        guard let outcome = state.outcome else {
            let seconds = Self.seconds(timeout)
            if state.started {
                let step = run.progress
                let what = step < 1 ? "parsing the PAC file" : step - 1 < requests.count ? "FindProxyForURL for \(requests[step - 1].url)" : "PAC evaluation"
                throw InputError(file: source, "\(what) did not finish within \(seconds) s (an endless loop?)")
            }
            throw InputError(file: source, "PAC evaluation did not start within \(seconds) s: another PAC evaluation kept libpacparser busy")
        }
        return try answers(from: outcome, requests: requests)
    }

    /// Turns what the evaluation thread reported into answers, or an error naming the PAC file and the URL.
    private func answers(from outcome: PACRun.Outcome, requests: [(url: String, host: String)]) throws -> [PACAnswer] {
        switch outcome {
        case .busy:
            throw InputError(file: source, "PAC evaluation did not start: another PAC evaluation kept libpacparser busy")
        case let .initFailed(messages):
            let detail = PACMessages(messages).library ?? "no details"
            throw InputError(file: source, "cannot evaluate the PAC file: libpacparser did not start (\(detail))")
        case let .doesNotParse(messages):
            let parsed = PACMessages(messages)
            if let js = parsed.javaScript {
                throw InputError(file: source, line: js.line, "the PAC file does not parse: \(js.text)")
            }
            throw InputError(file: source, "the PAC file does not parse: \(parsed.library ?? "libpacparser gave no details")")
        case let .findFailed(index, messages):
            let url = requests[index].url
            let parsed = PACMessages(messages)
            if let js = parsed.javaScript {
                throw InputError(file: source, line: js.line, "FindProxyForURL failed for \(url): \(js.text)")
            }
            if let library = parsed.library, library.contains("not defined") {
                throw InputError(file: source, "the PAC file does not define FindProxyForURL(url, host)")
            }
            throw InputError(file: source, "FindProxyForURL failed for \(url): \(parsed.library ?? "libpacparser gave no details")")
        case let .answers(texts):
            return try zip(requests, texts).map { request, text in
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed.isEmpty || trimmed == "undefined" || trimmed == "null" {
                    throw InputError(file: source, "FindProxyForURL returned nothing for \(request.url) "
                        + "(every path must return a string such as \"PROXY proxy.example:8080; DIRECT\")")
                }
                do { return try PACAnswer.parse(trimmed) } catch let error as InputError {
                    throw InputError(file: source, "FindProxyForURL gave a bad answer for \(request.url): \(error.message)")
                }
            }
        }
    }

    /// The arguments libpacparser pastes into `FindProxyForURL('url', 'host')`: it escapes only `'` in the URL
    /// and refuses `'` in the host, so anything else that could end the string literal is refused or escaped here.
    private static func call(for request: (url: String, host: String)) throws -> PACEngine.Call {
        let (url, host) = request
        guard !url.isEmpty, !url.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) else {
            throw InputError("cannot evaluate the PAC for \"\(url)\": the URL is empty or holds spaces or control characters")
        }
        let hostCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]%")
        guard !host.isEmpty, host.unicodeScalars.allSatisfy(hostCharacters.contains) else {
            throw InputError("cannot evaluate the PAC for \(url): \"\(host)\" is not a host name or address")
        }
        return PACEngine.Call(url: url.replacingOccurrences(of: "\\", with: "%5C"), host: host)
    }

    /// `5`, `0.5`: seconds as the user would write them.
    private static func seconds(_ value: Double) -> String {
        value == value.rounded() && value < 1e9 ? String(Int(value)) : String(value)
    }
}

/// libpacparser's process-global engine: one evaluation at a time, behind one lock.
private enum PACEngine {
    /// One FindProxyForURL call, with arguments already made safe to paste into JavaScript.
    struct Call: Sendable {
        var url: String
        var host: String
    }

    /// Held for init → parse → find_proxy… → cleanup: libpacparser keeps one global JavaScript context.
    static let lock = NSLock()
    /// What libpacparser printed during the current evaluation; touched only by the thread holding `lock`.
    nonisolated(unsafe) static var messages: [String] = []
    /// Installs the error printer once (Swift runs a static initialiser exactly once), under `lock`.
    static let printerInstalled: Bool = {
        pacparser_set_error_printer(pacErrorPrinter)
        return true
    }()
    /// The addresses myIpAddress() has returned, as C strings, so it never looks anything up. libpacparser's cleanup
    /// forgets the address, so it is set before each init; each string lives for the whole process because older
    /// libpacparsers keep the pointer (one per distinct address: a few sites). Touched only under `lock`.
    nonisolated(unsafe) static var myIPs: [ClientAddress: UnsafeMutablePointer<CChar>] = [:]

    /// The C string for `address`, made once; the caller holds `lock`.
    static func myIP(_ address: ClientAddress) -> UnsafeMutablePointer<CChar> {
        if let known = myIPs[address] { return known }
        let bytes = address.text.utf8CString
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
        pointer.initialize(from: Array(bytes), count: bytes.count)
        myIPs[address] = pointer
        return pointer
    }

    /// Guards `stuck`, which callers read while `lock` may be held by a stuck evaluation.
    static let stateLock = NSLock()
    /// Sources of evaluations that were given up on while running: each still holds `lock`.
    nonisolated(unsafe) static var stuck: [String] = []

    /// The source of an evaluation that is still stuck holding libpacparser, if any.
    static func stuckSource() -> String? { stateLock.withLock { stuck.first } }

    /// Records an evaluation given up on while it holds the engine.
    static func markStuck(_ source: String) { stateLock.withLock { stuck.append(source) } }

    /// Forgets a given-up evaluation once it has finished after all.
    static func clearStuck(_ source: String) {
        stateLock.withLock {
            if let index = stuck.firstIndex(of: source) { stuck.remove(at: index) }
        }
    }

    /// Runs on the evaluation thread: waits for the engine until `deadline`, then evaluates the whole batch.
    static func evaluate(_ script: String, _ calls: [Call], clientAddress: ClientAddress, deadline: Date, run: PACRun) {
        guard lock.lock(before: deadline) else {
            run.finish(.busy)
            return
        }
        defer { lock.unlock() }
        guard run.begin() else {
            run.finish(.busy)
            return
        }
        run.finish(evaluateLocked(script, calls, clientAddress: clientAddress, run: run))
    }

    /// init → parse → FindProxyForURL for each call → cleanup; the caller holds `lock`.
    private static func evaluateLocked(_ script: String, _ calls: [Call], clientAddress: ClientAddress, run: PACRun) -> PACRun.Outcome {
        _ = printerInstalled
        messages = []
        pacparser_setmyip(myIP(clientAddress))
        defer { pacparser_cleanup() }
        guard pacparser_init() == 1 else { return .initFailed(messages) }
        guard pacparser_parse_pac_string(script) == 1 else { return .doesNotParse(messages) }
        run.advance()
        var answers: [String] = []
        for (index, call) in calls.enumerated() {
            messages = []
            // The returned string belongs to the JavaScript engine: copy it before the next call.
            guard let answer = pacparser_find_proxy(call.url, call.host) else { return .findFailed(index, messages) }
            answers.append(String(cString: answer))
            run.advance()
        }
        return .answers(answers)
    }
}

/// Receives libpacparser's messages (`JSERROR: PAC script:2:\n    SyntaxError: …`, `pacparser.c: …: …`).
///
/// Called only from inside libpacparser, on the thread that holds `PACEngine.lock`.
private let pacErrorPrinter: pacparser_error_printer = { format, arguments in
    guard let format, let arguments else { return 0 }
    var buffer = [CChar](repeating: 0, count: 2048)
    let count = vsnprintf(&buffer, buffer.count, format, arguments)
    let bytes = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
    PACEngine.messages.append(String(decoding: bytes, as: UTF8.self))
    return count
}

/// The first JavaScript error and the first library message among what libpacparser printed.
private struct PACMessages {
    /// The JavaScript engine's report; `line` only when it points into the PAC file.
    var javaScript: (line: Int?, text: String)?
    /// libpacparser's own explanation, without its `pacparser.c: function:` prefix.
    var library: String?

    init(_ messages: [String]) {
        var skipNext = false
        for message in messages {
            // print_debug prints "DEBUG: " and the message in two calls (only with PACPARSER_DEBUG set).
            if skipNext { skipNext = false; continue }
            if message == "DEBUG: " { skipNext = true; continue }
            if message.hasPrefix("JSERROR: ") {
                guard javaScript == nil else { continue }
                let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                let place = lines.first.map { $0.dropFirst("JSERROR: ".count).split(separator: ":").map(String.init) } ?? []
                let text = lines.dropFirst().filter { !$0.isEmpty }.joined(separator: " ")
                // "PAC script" is the name libpacparser gives the file; other places are its own call snippet.
                let line = place.count == 2 && place[0] == "PAC script" ? Int(place[1]) : nil
                javaScript = (line, text.isEmpty ? "JavaScript error" : text)
            } else if library == nil {
                let parts = message.trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: ": ")
                let text = parts.first == "pacparser.c" ? parts.dropFirst(2).joined(separator: ": ") : parts.joined(separator: ": ")
                if !text.isEmpty { library = text }
            }
        }
    }
}

/// One evaluation handed to the evaluation thread: its outcome, and whether the caller gave up waiting.
private final class PACRun: @unchecked Sendable {
    /// What the evaluation thread found.
    enum Outcome: Sendable {
        case answers([String])
        case initFailed([String])
        case doesNotParse([String])
        case findFailed(Int, [String])
        /// The engine was held by another evaluation until the deadline, or the caller gave up first.
        case busy
    }

    /// Signalled once the outcome is set.
    let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var outcome: Outcome?
    private var started = false
    private var abandonedBy: String?

    /// Steps done: 0 before the file is parsed, then 1 + the number of FindProxyForURL calls answered.
    private var steps = 0

    /// Steps the evaluation thread has finished, read by the waiting caller.
    var progress: Int { lock.withLock { steps } }

    /// Called by the evaluation thread after the parse and after each call.
    func advance() { lock.withLock { steps += 1 } }

    /// Called by the evaluation thread once it holds the engine; false if the caller has already given up.
    func begin() -> Bool {
        lock.withLock {
            guard abandonedBy == nil else { return false }
            started = true
            return true
        }
    }

    /// Records the outcome; an evaluation that outlived its caller releases its stuck mark here.
    func finish(_ result: Outcome) {
        lock.withLock {
            outcome = result
            if started, let source = abandonedBy { PACEngine.clearStuck(source) }
        }
        done.signal()
    }

    /// The outcome if there is one; otherwise marks the run abandoned (and the engine stuck, if it had started).
    func takeOrAbandon(source: String) -> (outcome: Outcome?, started: Bool) {
        lock.withLock {
            if let outcome { return (outcome, started) }
            if abandonedBy == nil {
                abandonedBy = source
                if started { PACEngine.markStuck(source) }
            }
            return (nil, started)
        }
    }
}
