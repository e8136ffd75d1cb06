import Foundation
import Testing
@testable import ProxyVetKit

/// Generated and mutated inputs for the allow-list, config and PAC-answer parsers, with a fixed seed so a failure
/// reproduces. Every input must either parse or fail with an InputError naming a line inside the input.
/// `PROXYVET_FUZZ_ITERATIONS=200000 swift test --filter Fuzz` runs the longer campaign.
@Suite("Parser fuzzing")
struct ParserFuzzTests {
    static let iterations = Int(ProcessInfo.processInfo.environment["PROXYVET_FUZZ_ITERATIONS"] ?? "") ?? 2000

    /// SplitMix64: small, fast and reproducible.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let tokens = [":", "- ", "*", "*.", "{", "}", "[", "]", "\n", "  ", "\"", "'", "#", "<tenant>", "99999", "0", "-1",
                         "https://", "http://", "a.b", "..", "\t", "\u{7}", "é", "🙂", "null", "~", "true", "&a", "*a", "!!str",
                         "ports:", "host:", "url:", "upstream:", "version: 1", "PROXY", "DIRECT", ";", "SOCKS5", "HTTPS", "a:8080",
                         "[::1]:1", "%", "\\", "|", ">", "---", "...", "? ", ",", "=", "\r\n"]

    static func mutate(_ seed: String, _ rng: inout Generator) -> String {
        var text = Array(seed)
        for _ in 0..<Int.random(in: 1...6, using: &rng) {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where !text.isEmpty: // delete a range
                let start = Int.random(in: 0..<text.count, using: &rng)
                let end = min(text.count, start + Int.random(in: 1...12, using: &rng))
                text.removeSubrange(start..<end)
            case 1: // insert a token
                let at = Int.random(in: 0...text.count, using: &rng)
                text.insert(contentsOf: tokens.randomElement(using: &rng) ?? "", at: at)
            case 2 where text.count > 2: // duplicate a slice
                let start = Int.random(in: 0..<text.count, using: &rng)
                let end = min(text.count, start + Int.random(in: 1...40, using: &rng))
                text.insert(contentsOf: text[start..<end], at: Int.random(in: 0...text.count, using: &rng))
            case 3 where !text.isEmpty: // replace a character with a random scalar
                let at = Int.random(in: 0..<text.count, using: &rng)
                text[at] = Character(Unicode.Scalar(UInt8.random(in: 1...126, using: &rng)))
            default: // swap two lines
                var lines = String(text).split(separator: "\n", omittingEmptySubsequences: false)
                if lines.count > 1 {
                    lines.swapAt(Int.random(in: 0..<lines.count, using: &rng), Int.random(in: 0..<lines.count, using: &rng))
                    text = Array(lines.joined(separator: "\n"))
                }
            }
        }
        return String(text)
    }

    /// The error must be an input error whose line lies within the input.
    static func check(_ error: any Error, input: String, file: String) {
        // YAML counts CR, CR LF, LF, NEL, LS and PS as line breaks; so do most editors.
        let breaks: Set<Unicode.Scalar> = ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"]
        let normalized = input.replacingOccurrences(of: "\r\n", with: "\n")
        let lineCount = normalized.unicodeScalars.filter { breaks.contains($0) }.count + 1
        let errors: [InputError]
        switch error {
        case let error as InputError: errors = [error]
        case let error as InputErrors: errors = error.errors
        default:
            Issue.record("unexpected error type \(type(of: error)): \(error) for input \(input.debugDescription)")
            return
        }
        for error in errors {
            #expect(!error.message.isEmpty)
            if let line = error.line {
                #expect((1...lineCount + 1).contains(line), "line \(line) outside the input (\(lineCount) lines): \(error)")
            }
            if let errorFile = error.file { #expect(errorFile == file || errorFile.hasSuffix(".cred") || errorFile.hasSuffix(".pem")) }
        }
    }

    @Test("allow lists: YAML and plain")
    func allowLists() {
        var rng = Generator(state: 0x5EED_0001)
        let seeds = [AllowListLoaderTests.good, "https://a.test:8443/p\nb.test\n# c\n*.d.test:80\n"]
        for iteration in 0..<Self.iterations {
            let input = Self.mutate(seeds[iteration % seeds.count], &rng)
            do {
                if iteration % 2 == 0 {
                    _ = try AllowListLoader.parseYAML(input, file: "fuzz.yaml", hash: "")
                } else {
                    _ = try AllowListLoader.parsePlain(input, file: "fuzz.txt", hash: "")
                }
            } catch {
                Self.check(error, input: input, file: iteration % 2 == 0 ? "fuzz.yaml" : "fuzz.txt")
            }
        }
    }

    @Test("configs")
    func configs() {
        var rng = Generator(state: 0x5EED_0002)
        let seed = """
        version: 1
        proxies:
          edge:  { url: "http://127.0.0.1:3128", via: edge-host }
          branch: { url: "http://127.0.0.1:3129", upstream: edge }
          auth:  { url: "http://127.0.0.1:8080", credentials: { username: svc, passwordEnv: FUZZ_PASS } }
        groups:
          pair: [edge, branch]
        default: edge
        resolve: ["a.test:443:127.0.0.1"]
        """
        for _ in 0..<Self.iterations {
            let input = Self.mutate(seed, &rng)
            do { _ = try RouteConfig.parse(input, file: "fuzz.yaml", environment: ["FUZZ_PASS": "x"]) } catch {
                Self.check(error, input: input, file: "fuzz.yaml")
            }
        }
    }

    @Test("PAC answers")
    func pacAnswers() {
        var rng = Generator(state: 0x5EED_0003)
        let seeds = ["PROXY a:8080; PROXY b:8080; DIRECT", "HTTPS gw:8443", "SOCKS5 s:1080; DIRECT", "DIRECT"]
        for iteration in 0..<Self.iterations {
            let input = Self.mutate(seeds[iteration % seeds.count], &rng)
            do {
                let answer = try PACAnswer.parse(input)
                #expect(!answer.alternatives.isEmpty, "\(input.debugDescription) parsed to no alternatives")
                for alternative in answer.alternatives {
                    if let url = alternative.proxyURL { #expect(throws: Never.self) { _ = try Route.parse(name: "pac", url: url) } }
                }
            } catch {
                #expect(error is InputError, "\(error)")
            }
        }
    }
}
