import Foundation
import Testing
@testable import ProxyVetKit

/// The per-proxy cap counted by the proxy, not by the engine: a check through the lab's `edge` Squid, then
/// Squid's own access log says how many of our transactions were open at once.
///
/// The targets are names under `hang.proxyvet-lab.test` (the lab's origin that accepts and never answers), so each
/// tunnel stays open until the probe's timeout and waiting probes pile up behind the cap. The suite shares the lab
/// (and edge's access log) with every other test: only lines whose host carries this run's random prefix count.
@Suite("Per-proxy cap seen from the proxy")
struct PerProxyCapTests {
    /// One line of the lab Squid's access log (`logformat proxyvet %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru ...`).
    struct Transaction {
        /// When Squid logged the transaction (its end), in milliseconds since the epoch.
        let endMs: Int
        /// Squid's `%tr`: the time from the request to the end of the transaction, in milliseconds.
        let durationMs: Int
        let method: String
        let url: String

        var startMs: Int { endMs - durationMs }

        init?(line: Substring) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 7, let stamp = Double(fields[0]), let duration = Int(fields[1]) else { return nil }
            endMs = Int((stamp * 1000).rounded())
            durationMs = duration
            method = String(fields[5])
            url = String(fields[6])
        }
    }

    /// The most transactions open at the same moment. An end and a start less than `slackMs` apart count as one
    /// after the other: Squid stamps in whole milliseconds and notices a closed client connection in the same event
    /// loop round as the next connection's request, so a probe that ended just before the next began may appear to
    /// overlap it by a millisecond or two. Every transaction here lasts about a second.
    static func mostOpenAtOnce(_ transactions: [Transaction], slackMs: Int = 20) -> Int {
        // (time, +1 start / -1 end); at equal times ends come first.
        var events: [(time: Int, change: Int)] = []
        for transaction in transactions {
            events.append((transaction.startMs, 1))
            events.append((max(transaction.startMs, transaction.endMs - slackMs), -1))
        }
        events.sort { lhs, rhs in lhs.time != rhs.time ? lhs.time < rhs.time : lhs.change < rhs.change }
        var open = 0
        var most = 0
        for event in events {
            open += event.change
            most = max(most, open)
        }
        return most
    }

    /// The path of edge's access log, from the lab's lab.json (`accessLogs.edge`).
    static func edgeAccessLog() throws -> String {
        let path = try #require(ProcessInfo.processInfo.environment["PROXYVET_LAB"])
        let data = try #require(FileManager.default.contents(atPath: path))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let logs = try #require(json["accessLogs"] as? [String: String])
        return try #require(logs["edge"])
    }

    @Test("two routes through edge with per-proxy 3: edge's access log never shows more than 3 of them open at once",
          .enabled(if: Lab.available, "needs the lab: run Scripts/test"))
    func capSeenByTheProxy() throws {
        let lab = try #require(Lab.current)
        let edgeURL = try #require(lab.proxies["edge"])
        let accessLog = try Self.edgeAccessLog()
        let cap = 3
        let prefix = "pcap-" + UUID().uuidString.prefix(8).lowercased()
        // 6 names x 2 routes naming the same proxy address: 12 tunnels that each stay open for the timeout.
        let hosts = (1...6).map { String(format: "\(prefix)-%02d.hang.proxyvet-lab.test", $0) }
        let list = AllowList(id: "per-proxy-cap", name: "per-proxy cap", file: "per-proxy-cap",
                             services: [Service(name: "hang", endpoints: hosts.map { Endpoint(host: $0) })], contentHash: "")
        let routes = [try Route.parse(name: "edge", url: edgeURL), try Route.parse(name: "edge-again", url: edgeURL)]
        var settings = lab.settings(timeout: 1)
        settings.perProxy = cap
        settings.concurrency = 16

        let report = try CheckRunner(lists: [list], routes: routes, settings: settings).run()
        #expect(report.results.count == 12)
        #expect(report.results.allSatisfy { $0.verdict == .timeout }, "every tunnel to the hang origin should time out")

        // Squid writes a line when a tunnel closes; give it a moment (bounded) to log the last ones.
        var ours: [Transaction] = []
        for _ in 0..<50 {
            let text = (try? String(contentsOfFile: accessLog, encoding: .utf8)) ?? ""
            ours = text.split(separator: "\n").filter { $0.contains(prefix) }.compactMap(Transaction.init(line:))
            if ours.count >= 12 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(ours.count == 12, "edge logged \(ours.count) of our 12 tunnels")
        #expect(ours.allSatisfy { $0.method == "CONNECT" })
        let most = Self.mostOpenAtOnce(ours)
        #expect(most <= cap, "edge saw \(most) of our tunnels open at once with --per-proxy \(cap)")
        #expect(most >= 2, "edge saw at most \(most) of our tunnels open at once: the engine serialised them")
    }

    @Test("the overlap count of the access-log check itself", arguments: [
        // (start, end) pairs in ms → most open at once
        ([(0, 1000), (1000, 2000), (2000, 3000)], 1),
        ([(0, 1000), (0, 1000), (0, 1000), (1001, 2000)], 3),
        ([(0, 1000), (500, 1500), (900, 2000)], 3),
        ([(0, 1000), (995, 2000)], 1),          // a 5 ms overlap is Squid's bookkeeping, not a fourth slot
        ([(0, 1000), (900, 2000)], 2),
    ])
    func overlapCount(intervals: [(Int, Int)], expected: Int) {
        let transactions = intervals.compactMap { start, end in
            Transaction(line: Substring(String(format: "%.3f %6d 127.0.0.1 TCP_TUNNEL/200 0 CONNECT x:443 - HIER_DIRECT/127.0.0.3 - -/-",
                                                   Double(end) / 1000, end - start)))
        }
        #expect(transactions.count == intervals.count)
        #expect(Self.mostOpenAtOnce(transactions) == expected)
    }
}
