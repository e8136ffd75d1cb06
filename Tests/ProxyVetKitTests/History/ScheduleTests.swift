import Foundation
import Testing
@testable import ProxyVetKit
#if canImport(Glibc)
import Glibc
#endif

@Suite("Scheduled checks")
struct ScheduleTests {
    /// A schedule of a fast check (a closed loopback port, probed direct) into a fresh folder.
    static func schedule(keep: Int = 2, folder: URL) throws -> ScheduledCheck {
        let list = try TestFiles.write("http://127.0.0.1:9/\n", name: "closed list.txt")
        let config = folder.appendingPathComponent("proxies.yaml")
        try Data("version: 1\nproxies: {}\ndirect: true\n".utf8).write(to: config)
        return ScheduledCheck(name: "site-a", every: try ScheduleInterval(parsing: "1d"), binary: CommandRun.binary.path, lists: [list],
                              config: config.path, output: folder.appendingPathComponent("reports 100%").path,
                              history: folder.appendingPathComponent("history.sqlite").path, keep: keep,
                              extraArguments: ["--timeout", "2"])
    }

    @Test("intervals map to the same times for systemd and cron", arguments: [
        ("15m", "*-*-* *:00/15:00", "*/15 * * * *"), ("1h", "hourly", "0 * * * *"), ("6h", "*-*-* 00/6:00:00", "0 */6 * * *"),
        ("1d", "daily", "0 0 * * *"), ("7d", "weekly", "0 0 * * 1"), ("1w", "weekly", "0 0 * * 1"),
    ])
    func intervals(_ text: String, _ calendar: String, _ cron: String) throws {
        let interval = try ScheduleInterval(parsing: text)
        #expect(interval.onCalendar == calendar)
        #expect(interval.cron == cron)
        #expect(interval.description == text)
    }

    @Test("intervals the two schedulers cannot both express are refused", arguments: ["7m", "5h", "0d", "2w", "daily", "1y", "", "29d", "3m", "2d", "14d"])
    func badIntervals(_ text: String) {
        #expect(throws: InputError.self) { try ScheduleInterval(parsing: text) }
    }

    @Test("systemd computes every 7 days for --every 7d, across a month's end", .enabled(if: Tool.exists("systemd-analyze"), "systemd-analyze is not installed"))
    func sevenDays() throws {
        let calendar = try ScheduleInterval(parsing: "7d").onCalendar
        let output = try Tool.run("systemd-analyze", ["calendar", "--iterations=6", "--base-time=2026-01-20 12:00:00 UTC", calendar]).output
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE yyyy-MM-dd HH:mm:ss zzz"
        let elapses = output.split(separator: "\n").compactMap { line -> Date? in
            guard line.contains("Next elapse:") || line.contains("Iter. #") else { return nil }
            return formatter.date(from: line.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces))
        }
        #expect(elapses.count == 6, "\(output)")
        #expect(zip(elapses, elapses.dropFirst()).allSatisfy { $1.timeIntervalSince($0) == 7 * 86_400 }, "\(output)")
    }

    @Test("the service runs the check under flock; quoting survives spaces and %")
    func units() throws {
        let folder = try TestFiles.temporaryFolder()
        let schedule = try Self.schedule(folder: folder)
        let service = schedule.serviceUnit()
        #expect(service.hasPrefix(ScheduledCheck.marker))
        #expect(service.contains("\nExecStart=/usr/bin/flock --nonblock --conflict-exit-code 3 \"\(folder.path)/reports 100%%/.proxyvet.lock\" \(CommandRun.binary.path) check "))
        #expect(service.contains(" --keep 2 --history \(folder.path)/history.sqlite --format json --format md --format html --format prometheus --quiet --timeout 2\n"))
        #expect(service.contains("\nSuccessExitStatus=1\n"))
        let timer = schedule.timerUnit()
        #expect(timer.contains("\nOnCalendar=daily\n"))
        #expect(timer.contains("\nPersistent=true\n"))
        #expect(timer.contains("\nRandomizedDelaySec=15min\n"))
        #expect(timer.contains("\nUnit=proxyvet-site-a.service\n"))
        let cron = schedule.cronLine()
        #expect(cron.hasPrefix("0 0 * * * /usr/bin/flock --nonblock --conflict-exit-code 3 '\(folder.path)/reports 100\\%/.proxyvet.lock' "))
        #expect(ScheduledCheck.systemdQuoted("a\"b\\c $HOME") == "\"a\\\"b\\\\c $$HOME\"")
        #expect(ScheduledCheck.shellQuoted("it's") == "'it'\\''s'")
    }

    @Test("systemd-analyze verify accepts the generated units", .enabled(if: Tool.exists("systemd-analyze"), "systemd-analyze is not installed"))
    func systemdVerify() throws {
        let folder = try TestFiles.temporaryFolder()
        let schedule = try Self.schedule(folder: folder)
        let units = folder.appendingPathComponent("units")
        let written = try schedule.install(into: units.path)
        #expect(written.map { URL(fileURLWithPath: $0).lastPathComponent } == ["proxyvet-site-a.service", "proxyvet-site-a.timer"])
        let result = try Tool.run("systemd-analyze", ["verify"] + written)
        #expect(result.status == 0, "\(result.output)")
        // Warnings about these units would name them; unrelated ones (the host's own units) would not.
        #expect(!result.output.contains("proxyvet-site-a"), "\(result.output)")
        #expect(ScheduledCheck.installed(in: units.path).map(\.name) == ["site-a"])
        #expect(try ScheduledCheck.remove(name: "site-a", from: units.path).count == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: units.path).isEmpty)
    }

    @Test("remove leaves units it did not write")
    func removeForeign() throws {
        let units = try TestFiles.temporaryFolder()
        try Data("[Unit]\nDescription=someone else's\n".utf8).write(to: units.appendingPathComponent("proxyvet-x.service"))
        #expect(throws: InputError.self) { try ScheduledCheck.remove(name: "x", from: units.path) }
        #expect(FileManager.default.fileExists(atPath: units.appendingPathComponent("proxyvet-x.service").path))
    }

    @Test("a scheduled run writes reports, metrics, history and the archive; a run that finds the lock taken exits 3 at once",
          .enabled(if: Tool.exists("flock"), "needs flock(1) (util-linux)"))
    func scheduledRuns() throws {
        let folder = try TestFiles.temporaryFolder()
        let schedule = try Self.schedule(keep: 2, folder: folder)
        try FileManager.default.createDirectory(atPath: schedule.output, withIntermediateDirectories: true)
        for _ in 0..<3 {
            let run = try Tool.run(schedule.command[0], Array(schedule.command.dropFirst()))
            #expect(run.status == 1, "\(run.output)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: schedule.output).sorted()
        #expect(files == [".proxyvet.lock", "archive", "proxyvet-report.html", "proxyvet-report.json", "proxyvet-report.md", "proxyvet.prom"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: schedule.output + "/archive").sorted().map { String($0.suffix(5)) } == ["-run2", "-run3"])
        let history = try HistoryStore(path: try #require(schedule.history))
        #expect(try history.runs().count == 3)
        let prom = try String(contentsOfFile: schedule.output + "/proxyvet.prom", encoding: .utf8)
        #expect(prom.contains("proxyvet_history_run 3\n"))

        // Hold the lock as a running check would: the next run must not start.
        let fd = open(schedule.lockFile, O_RDWR)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let blocked = try Tool.run(schedule.command[0], Array(schedule.command.dropFirst()), timeout: 30)
        #expect(blocked.status == 3)
        #expect(try history.runs().count == 3)
        flock(fd, LOCK_UN)
    }
}

/// `proxyvet schedule install|status|remove` as a user runs them, into a unit folder of the test's own.
@Suite("Schedule commands")
struct ScheduleCommandTests {
    @Test("install writes both units and prints the cron line; status and remove find them")
    func installStatusRemove() throws {
        let folder = try TestFiles.temporaryFolder()
        let units = folder.appendingPathComponent("units").path
        let list = try TestFiles.write("http://127.0.0.1:9/\n", name: "urls.txt")
        let config = folder.appendingPathComponent("proxies.yaml")
        try Data("version: 1\nproxies: {}\ndirect: true\n".utf8).write(to: config)
        let output = folder.appendingPathComponent("reports").path
        let install = try CommandRun.proxyvet(["schedule", "install", list, "--every", "6h", "--config", config.path, "--output", output,
                                               "--history", folder.appendingPathComponent("h.sqlite").path, "--keep", "5", "--name", "lab",
                                               "--unit-dir", units, "--binary", CommandRun.binary.path, "--check-option=--timeout=2"], timeout: 30)
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.stdout.contains("Wrote \(units)/proxyvet-lab.service and \(units)/proxyvet-lab.timer\n"))
        #expect(install.stdout.contains("Enable it with: systemctl daemon-reload && systemctl enable --now proxyvet-lab.timer\n"))
        #expect(install.stdout.contains("\n0 */6 * * * /usr/bin/flock --nonblock --conflict-exit-code 3 \(output)/.proxyvet.lock \(CommandRun.binary.path) check \(list) "))
        #expect(FileManager.default.fileExists(atPath: output), "install creates the output folder (flock needs it)")
        let timer = try String(contentsOfFile: units + "/proxyvet-lab.timer", encoding: .utf8)
        #expect(timer.contains("OnCalendar=*-*-* 00/6:00:00\n"))

        let status = try CommandRun.proxyvet(["schedule", "status", "--unit-dir", units], timeout: 30)
        #expect(status.status == 0)
        #expect(status.stdout.hasPrefix("lab: every 6h (*-*-* 00/6:00:00), output \(output), keep 5, history "))
        #expect(status.stdout.contains("  lock: free (no run yet)\n"))
        #expect(status.stdout.contains("  last report: none yet in \(output)\n"))

        let remove = try CommandRun.proxyvet(["schedule", "remove", "--name", "lab", "--unit-dir", units], timeout: 30)
        #expect(remove.status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: units).isEmpty)
        let again = try CommandRun.proxyvet(["schedule", "remove", "--name", "lab", "--unit-dir", units], timeout: 30)
        #expect(again.status == 2)
        #expect(again.stderr.contains("no schedule named lab"))
    }

    @Test("install refuses what the scheduled check would fail on", arguments: [
        (["--every", "7m"], "--every in minutes must divide an hour"),
        (["--every", "1d", "--check-option", "--output=x"], "--output is set by schedule install itself: give it as an option of schedule install."),
        (["--every", "1d", "--name", "a b"], "--name takes letters, digits, - and _ (at most 64)."),
    ])
    func refused(_ extra: [String], _ message: String) throws {
        let folder = try TestFiles.temporaryFolder()
        let list = try TestFiles.write("http://127.0.0.1:9/\n", name: "urls.txt")
        let run = try CommandRun.proxyvet(["schedule", "install", list, "--config", list, "--output", folder.path, "--unit-dir", folder.path] + extra, timeout: 30)
        #expect(run.status == 2)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }
}
