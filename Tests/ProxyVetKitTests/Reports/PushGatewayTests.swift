import Foundation
import Testing
@testable import ProxyVetKit
#if canImport(Glibc)
import Glibc
#endif

/// Pushes to a real Prometheus Pushgateway (Debian prometheus-pushgateway) started on loopback by the test.
@Suite("Pushgateway", .serialized, .enabled(if: Tool.exists("prometheus-pushgateway"), "needs prometheus-pushgateway (Scripts/bootstrap installs it)"))
struct PushGatewayTests {
    /// The address the test's Pushgateway listens on (this suite's loopback net).
    static let host = "127.0.84.91"

    /// A Pushgateway process on `host`, stopped by PID.
    final class Gateway {
        let process = Process()
        let port: Int

        init() throws {
            port = try Self.freePort(on: PushGatewayTests.host)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            // No persistence file: the Debian default is under /var/lib.
            process.arguments = ["prometheus-pushgateway", "--web.listen-address=\(PushGatewayTests.host):\(port)", "--persistence.file=",
                                 "--log.level=warn"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Bounded wait for readiness: 10 s.
            for _ in 0..<200 {
                if (try? PushGatewayTests.get(host: PushGatewayTests.host, port: port, path: "/-/ready"))?.status == 200 { return }
                guard process.isRunning else { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            stop()
            throw POSIXError(.ETIMEDOUT)
        }

        var url: String { "http://\(PushGatewayTests.host):\(port)" }

        func stop() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// A port nothing listens on at `host` right now.
        static func freePort(on host: String, from first: Int = 9091, to last: Int = 9190) throws -> Int {
            for port in first...last {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                let bound = LoopbackSocket.withAddress(host: host, port: port) { bind(fd, $0, $1) }
                if bound == 0 { return port }
            }
            throw POSIXError(.EADDRINUSE)
        }
    }

    /// A bounded HTTP/1.0 GET over a plain socket: status and body.
    static func get(host: String, port: Int, path: String) throws -> (status: Int, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = LoopbackSocket.withAddress(host: host, port: port) { connect(fd, $0, $1) }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, request.count, Int32(MSG_NOSIGNAL)) }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        for _ in 0..<10_000 {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        let status = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }

    @Test("the exposition of a hostile report is accepted and served back with the group's labels")
    func pushAccepted() throws {
        let gateway = try Gateway()
        defer { gateway.stop() }
        let report = MachineReportTests.reportWithChanges()
        let url = PushGateway.groupURL(base: gateway.url + "/", instance: "site-a/lyon é")
        #expect(url.hasPrefix(gateway.url + "/metrics/job/proxyvet/instance@base64/"))
        #expect(try PushGateway.push(PrometheusReport.render(report), to: url) == 200)
        let metrics = try Self.get(host: Self.host, port: gateway.port, path: "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("proxyvet_ready{instance=\"site-a/lyon é\",job=\"proxyvet\"} 0"))
        #expect(metrics.body.contains("proxyvet_changes{against=\"previous\",change=\"newly_failing\",instance=\"site-a/lyon é\",job=\"proxyvet\"} 1"))
        #expect(metrics.body.contains("push_time_seconds{instance=\"site-a/lyon é\",job=\"proxyvet\"}"))
        // PUT replaces the group: a second push without the changes family drops it.
        #expect(try PushGateway.push(PrometheusReport.render(ReportTests.sampleReport()), to: url) == 200)
        let after = try Self.get(host: Self.host, port: gateway.port, path: "/metrics")
        #expect(!after.body.contains("proxyvet_changes{"))
        #expect(after.body.contains("proxyvet_ready{instance=\"site-a/lyon é\",job=\"proxyvet\"} 0"))
    }

    @Test("a refused push and an unreachable Pushgateway are errors that say why")
    func pushRefused() throws {
        let gateway = try Gateway()
        let url = PushGateway.groupURL(base: gateway.url, instance: "x")
        #expect {
            try PushGateway.push("this is { not an exposition\n", to: url)
        } throws: { error in
            "\(error)".contains("HTTP status 400")
        }
        gateway.stop()
        #expect {
            try PushGateway.push(PrometheusReport.render(ReportTests.sampleReport()), to: url, timeout: 3)
        } throws: { error in
            "\(error)".hasPrefix(url) && "\(error)".contains("push to the Pushgateway failed")
        }
    }

    @Test("a check run pushes its metrics under the host name; a dead Pushgateway makes the exit code 3")
    func checkPushes() throws {
        let gateway = try Gateway()
        defer { gateway.stop() }
        var check = try CheckRunTests.run(["http://127.0.0.1:9/"], folder: try TestFiles.temporaryFolder())
        check.pushGateway = gateway.url
        check.formats = [.json]
        let pushed = try check.run()
        #expect(pushed.exitCode == 1, "\(pushed.problems)")
        let metrics = try Self.get(host: Self.host, port: gateway.port, path: "/metrics")
        #expect(metrics.body.contains("proxyvet_probe_success{instance=\"\(ProcessInfo.processInfo.hostName)\",job=\"proxyvet\",required=\"true\",route=\"direct\",url=\"http://127.0.0.1:9/\"} 0"))
        gateway.stop()
        let failed = try check.run()
        #expect(failed.exitCode == 3)
        #expect(failed.problems.map(\.step) == [.push])
        #expect(failed.problems.first?.message.contains("push to the Pushgateway failed") == true)
        #expect(FileManager.default.fileExists(atPath: failed.written.first ?? "/nonexistent"))
    }

    @Test("--push-gateway values", arguments: [
        ("http://pg.corp.example:9091", nil), ("https://pg.corp.example", nil),
        ("ftp://pg", "--push-gateway takes an http:// or https:// URL, e.g. http://pushgateway.corp.example:9091"),
        ("http://user:secret@pg:9091", "--push-gateway must not carry credentials in the URL"),
    ] as [(String, String?)])
    func validation(_ url: String, _ problem: String?) {
        #expect(PushGateway.validate(url) == problem)
    }
}
