import Foundation
import Testing
@testable import ProxyVetKit
#if canImport(Glibc)
import Glibc
#endif

/// Two real runs through a Squid before and after its allow list changes (`squid -k reconfigure`): the second run's
/// reports show the change in every format, and `proxyvet history diff` shows it too.
///
/// The Squid is the test's own (on the lab's address, with the lab's resolver and origin), so changing its ACL
/// disturbs no other test of the suite running against the shared lab proxies.
@Suite("History across a proxy ACL change", .serialized,
       .enabled(if: Lab.available && getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/squid"),
                "needs the lab (PROXYVET_LAB), root and squid: run Scripts/test"))
struct ACLChangeTests {
    /// One Squid with an allow list file, started and stopped by PID.
    final class AllowListSquid {
        let folder: URL
        let port: Int
        let host: String
        let name: String
        let process = Process()

        var allowFile: URL { folder.appendingPathComponent("allow.txt") }
        var config: URL { folder.appendingPathComponent("squid.conf") }
        var url: String { "http://\(host):\(port)" }

        init(lab: Lab, allow: String) throws {
            folder = try TestFiles.temporaryFolder()
            host = lab.net + ".1"
            port = try PushGatewayTests.Gateway.freePort(on: host, from: 3170, to: 3189)
            name = "pvacl\(port)"
            try Data(allow.utf8).write(to: allowFile)
            try Data("""
                http_port \(host):\(port)
                visible_hostname proxyvet-acl-edge
                pid_filename \(folder.path)/squid.pid
                access_log stdio:\(folder.path)/access.log
                cache_log \(folder.path)/cache.log
                cache_store_log none
                coredump_dir \(folder.path)
                netdb_filename none
                cache deny all
                cache_mem 8 MB
                pinger_enable off
                icp_port 0
                htcp_port 0
                snmp_port 0
                udp_incoming_address \(host)
                dns_nameservers \(lab.net).53
                hosts_file none
                shutdown_lifetime 1 seconds
                cache_effective_user proxy
                acl allowed dstdomain "\(allowFile.path)"
                acl SSL_ports port 443
                acl CONNECT method CONNECT
                http_access deny CONNECT !SSL_ports
                http_access allow allowed
                http_access deny all

                """.utf8).write(to: config)
            // Squid drops to user proxy before it opens its logs.
            try FileManager.default.setAttributes([.ownerAccountName: "proxy"], ofItemAtPath: folder.path)
            // The test runner's threads block signals and children inherit the mask; Squid must see HUP (reconfigure) and INT (stop).
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])",
                                 "/usr/sbin/squid", "-N", "-n", name, "-f", config.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<200 {
                if Self.accepts(host: host, port: port) { return }
                guard process.isRunning else { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            stop()
            throw POSIXError(.ETIMEDOUT)
        }

        /// Rewrites the allow list and makes Squid read it again.
        func change(allow: String) throws {
            try Data(allow.utf8).write(to: allowFile)
            let result = try Tool.run("/usr/sbin/squid", ["-n", name, "-k", "reconfigure", "-f", config.path])
            guard result.status == 0 else { throw POSIXError(.EIO) }
        }

        /// SIGINT by PID (Squid exits after shutdown_lifetime), SIGKILL if it has not within 10 s.
        func stop() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGINT)
            for _ in 0..<200 where process.isRunning { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }

        static func accepts(host: String, port: Int) -> Bool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            return LoopbackSocket.withAddress(host: host, port: port) { connect(fd, $0, $1) } == 0
        }
    }

    @Test("allowed → blocked after the ACL change, in JSON, Markdown, HTML, JUnit, CSV, Prometheus and history diff")
    func aclChange() throws {
        let lab = try #require(Lab.current)
        let squid = try AllowListSquid(lab: lab, allow: ".proxyvet-lab.test\n")
        defer { squid.stop() }
        let folder = try TestFiles.temporaryFolder()
        let history = folder.appendingPathComponent("history.sqlite").path
        let list = try TestFiles.write("https://acl-kept.proxyvet-lab.test/\nhttps://acl-dropped.proxyvet-lab.test/\n", name: "acl.txt")
        let formats = ReportFormat.allCases.flatMap { ["--format", $0.rawValue] }
        func check(_ name: String) throws -> CommandRun {
            try CommandRun.proxyvet(["check", list, "--proxy", "edge-acl=\(squid.url)", "--ca-bundle", lab.originCA, "--timeout", "4",
                                     "--history", history, "--output", folder.appendingPathComponent(name).path] + formats, timeout: 120)
        }
        let before = try check("before")
        #expect(before.status == 0, "\(before.stdout)\(before.stderr)")

        try squid.change(allow: "acl-kept.proxyvet-lab.test\n")
        // Bounded wait until Squid applies the new list (reconfiguring takes a moment).
        let dropped = "https://acl-dropped.proxyvet-lab.test/"
        let probe = CheckRunner(lists: [AllowList(id: "acl", name: "acl", file: "acl", services: [Service(name: "acl", endpoints: [Endpoint(host: "acl-dropped.proxyvet-lab.test")])], contentHash: "")],
                                routes: [Route(name: "edge-acl", kind: .http, proxyURL: squid.url)], settings: lab.settings())
        var applied = false
        for _ in 0..<50 where !applied {
            applied = try probe.run().results.first?.verdict == .blocked
            if !applied { Thread.sleep(forTimeInterval: 0.2) }
        }
        #expect(applied, "Squid did not apply the new allow list")

        let after = try check("after")
        #expect(after.status == 1)
        #expect(after.stdout.contains("since the previous run (run 1 finished"))
        #expect(after.stdout.contains("edge-acl \(dropped): allowed → blocked"))

        let out = folder.appendingPathComponent("after")
        let report = try JSONReport.decode(try Data(contentsOf: out.appendingPathComponent("proxyvet-report.json")))
        let change = try #require(report.changes?.sincePrevious?.newlyFailing.first)
        #expect(report.changes?.sincePrevious?.newlyFailing.count == 1)
        #expect((change.route, change.url, change.from, change.to) == ("edge-acl", dropped, "allowed", "blocked"))
        #expect(change.reason.contains("403"))
        let text = { (name: String) in (try? String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)) ?? "" }
        #expect(text("proxyvet-report.md").contains("  - newly failing, allowed → blocked ×1 (edge-acl 1), e.g. \(dropped)\n"))
        #expect(text("proxyvet-report.html").contains("<td>edge-acl</td><td class=\"url\">\(dropped)<br>"))
        #expect(text("proxyvet-junit.xml").contains("since run 1: allowed → blocked"))
        #expect(text("proxyvet-report.csv").contains(",newly_failing,allowed\r\n"))
        #expect(text("proxyvet.prom").contains("proxyvet_probe_success{required=\"true\",route=\"edge-acl\",url=\"\(dropped)\"} 0\n"))
        #expect(text("proxyvet.prom").contains("proxyvet_changes{against=\"previous\",change=\"newly_failing\"} 1\n"))
        let diff = try CommandRun.proxyvet(["history", "diff", "1", "2", "--history", history], timeout: 30)
        #expect(diff.stdout.contains("edge-acl \(dropped): allowed → blocked"))
    }
}
