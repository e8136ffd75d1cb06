import ArgumentParser
import Foundation
import ProxyVetKit

/// `proxyvet schedule install|remove|status`: a check every day (or hour...) as a systemd service + timer.
struct Schedule: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a check on a schedule: systemd service + timer (or the equivalent cron line), with a lock and retention.",
        subcommands: [Install.self, Remove.self, Status.self]
    )

    /// Where the units live and what they are called.
    struct UnitOptions: ParsableArguments {
        @Option(name: .customLong("unit-dir"), help: ArgumentHelp("Folder for the units (systemd user units: ~/.config/systemd/user).", valueName: "dir"))
        var unitDir = "/etc/systemd/system"

        @Option(name: .long, help: ArgumentHelp("Schedule name: the units are proxyvet-NAME.service and proxyvet-NAME.timer.", valueName: "name"))
        var name = "check"

        func validate() throws {
            guard ScheduledCheck.isValidName(name) else { throw ValidationError("--name takes letters, digits, - and _ (at most 64).") }
        }
    }

    /// True when systemd manages this machine (sd_booted(3): /run/systemd/system exists).
    static var systemdRunning: Bool { FileManager.default.fileExists(atPath: "/run/systemd/system") }

    /// Runs `systemctl ARGUMENTS` (bounded to 60 s) and returns its exit status.
    @discardableResult
    static func systemctl(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["systemctl"] + arguments
        do { try process.run() } catch { return 127 }
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// An absolute path for a path given relative to the current folder.
    static func absolute(_ path: String) -> String {
        let url = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
        return url.standardizedFileURL.path
    }

    /// A check argument naming an existing file by a relative path (`FILE` or `--option=FILE`), made absolute:
    /// systemd runs the service from `/`.
    static func absoluteIfPath(_ argument: String) -> String {
        if !argument.hasPrefix("-") {
            return FileManager.default.fileExists(atPath: argument) && !argument.hasPrefix("/") ? absolute(argument) : argument
        }
        guard let equals = argument.firstIndex(of: "=") else { return argument }
        let value = String(argument[argument.index(after: equals)...])
        guard FileManager.default.fileExists(atPath: value), !value.hasPrefix("/") else { return argument }
        return String(argument[...equals]) + absolute(value)
    }

    /// `schedule install`.
    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write proxyvet-NAME.service and .timer, and print the equivalent cron line.",
            discussion: """
            The service runs: flock --nonblock OUTPUT/.proxyvet.lock proxyvet check LIST... --config FILE --output DIR --keep N \
            [--history FILE] --format json --format md --format html --format prometheus --quiet [--check-option values]. \
            Runs never overlap (a run that finds the previous one still going exits 3). Exit code 1 (findings) does not fail the unit.

            Example: proxyvet schedule install AllowLists/managed-desktop.yaml --every 1d --config proxies.yaml --output /var/lib/proxyvet \
            --history /var/lib/proxyvet/history.sqlite --check-option=--ca-bundle=/etc/ssl/corp.pem
            """
        )

        @OptionGroup var units: UnitOptions

        @Argument(help: ArgumentHelp("Allow lists to check.", valueName: "list"))
        var lists: [String] = []

        @Option(name: .long, help: ArgumentHelp("How often: 15m, 1h, 6h, 1d, 7d, 1w.", valueName: "interval"))
        var every: String

        @Option(name: .long, help: ArgumentHelp("The proxy config the check reads.", valueName: "file"))
        var config: String

        @Option(name: .long, help: ArgumentHelp("Folder for the reports and proxyvet.prom (point node_exporter's textfile collector here).", valueName: "dir"))
        var output: String

        @Option(name: .long, help: ArgumentHelp("Record every run in this SQLite history.", valueName: "file"))
        var history: String?

        @Option(name: .long, help: ArgumentHelp("Keep the reports of the newest N runs in DIR/archive/.", valueName: "n"))
        var keep = 30

        @Option(name: .long, help: ArgumentHelp("Report format, repeatable (default: json, md, html, prometheus).", valueName: "format"))
        var format: [String] = []

        @Option(name: .long, help: ArgumentHelp("The proxyvet executable the units run (default: this one).", valueName: "path"))
        var binary: String?

        @Option(name: .long, help: ArgumentHelp("Run the check as this account (User= in the service).", valueName: "user"))
        var user: String?

        @Flag(name: .long, help: "Also run systemctl daemon-reload and enable --now the timer (needs a running systemd).")
        var enable = false

        @Option(name: .customLong("check-option"), parsing: .unconditionalSingleValue,
                help: ArgumentHelp("One more argument for the check, repeatable: --check-option=--ca-bundle=FILE --check-option=--timeout=4.", valueName: "arg"))
        var checkOptions: [String] = []

        func validate() throws {
            guard !lists.isEmpty else { throw ValidationError("Name at least one allow list, e.g. AllowLists/managed-desktop.yaml.") }
            guard keep >= 1, keep <= 10_000 else { throw ValidationError("--keep must be between 1 and 10000.") }
            for name in format where ReportFormat(rawValue: name) == nil {
                throw ValidationError("Unknown --format \(name) (json, md, html, junit, csv, prometheus).")
            }
            do { _ = try ScheduleInterval(parsing: every) } catch { throw ValidationError("\(error)") }
            if let user, user.isEmpty || user.contains(where: { $0.isWhitespace }) { throw ValidationError("--user takes an account name.") }
            let reserved: Set<String> = ["--config", "--output", "--history", "--keep", "--format", "--quiet"]
            let names = checkOptions.map { $0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? $0 }
            if let clash = names.first(where: reserved.contains) {
                throw ValidationError("\(clash) is set by schedule install itself: give it as an option of schedule install.")
            }
        }

        func run() throws {
            let lists = try lists.map { try AllowListLocator().path(for: $0) }  // installed lists by name
            for file in lists + [config] where !FileManager.default.isReadableFile(atPath: file) {
                throw InputError(file: file, "cannot be read; the scheduled check would fail")
            }
            let executable = binary.map(Schedule.absolute) ?? Schedule.absolute(CommandLine.arguments[0].contains("/")
                ? CommandLine.arguments[0] : (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
            guard FileManager.default.isExecutableFile(atPath: executable) else {
                throw InputError(file: executable, "is not an executable proxyvet; name it with --binary")
            }
            let flock = ["/usr/bin/flock", "/bin/flock"].first { FileManager.default.isExecutableFile(atPath: $0) }
            guard let flock else { throw InputError("flock(1) not found (Debian package util-linux); the schedule needs it so runs never overlap") }
            let schedule = ScheduledCheck(
                name: units.name, every: try ScheduleInterval(parsing: every), binary: executable, lists: lists.map(Schedule.absolute),
                config: Schedule.absolute(config), output: Schedule.absolute(output), history: history.map(Schedule.absolute), keep: keep,
                formats: format.isEmpty ? ScheduledCheck.defaultFormats : format.compactMap(ReportFormat.init(rawValue:)),
                extraArguments: checkOptions.map(Schedule.absoluteIfPath),
                user: user, flock: flock)
            do {
                try FileManager.default.createDirectory(atPath: schedule.output, withIntermediateDirectories: true)
            } catch {
                throw InputError(file: schedule.output, "cannot create the output folder: \((error as NSError).localizedDescription)")
            }
            let written = try schedule.install(into: units.unitDir)
            print("Wrote " + written.joined(separator: " and "))
            print("The service runs: " + schedule.command.joined(separator: " "))
            if enable {
                guard Schedule.systemdRunning else { throw InputError("--enable: systemd is not running on this machine; use the cron line below") }
                guard Schedule.systemctl(["daemon-reload"]) == 0, Schedule.systemctl(["enable", "--now", schedule.timerName]) == 0 else {
                    throw InputError("systemctl could not enable \(schedule.timerName); see systemctl status \(schedule.timerName)")
                }
                print("Enabled and started \(schedule.timerName).")
            } else {
                print("Enable it with: systemctl daemon-reload && systemctl enable --now \(schedule.timerName)")
            }
            print("Without systemd, the same schedule as a cron line (crontab -e):")
            print(schedule.cronLine())
        }
    }

    /// `schedule remove`.
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop and delete the units of a schedule (reports and history stay).")

        @OptionGroup var units: UnitOptions

        func run() throws {
            let timer = ScheduledCheck.unitName(units.name, "timer")
            if Schedule.systemdRunning, units.unitDir == "/etc/systemd/system" {
                Schedule.systemctl(["disable", "--now", timer])
            }
            let removed = try ScheduledCheck.remove(name: units.name, from: units.unitDir)
            guard !removed.isEmpty else { throw InputError(file: units.unitDir, "no schedule named \(units.name) (proxyvet schedule status lists them)") }
            print("Removed " + removed.joined(separator: " and "))
            if Schedule.systemdRunning { Schedule.systemctl(["daemon-reload"]) }
            print("A cron line, if you installed one, stays until you delete it (crontab -e).")
        }
    }

    /// `schedule status`.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The schedules in the unit folder: when they run, whether one is running, the last report and history run.")

        @Option(name: .customLong("unit-dir"), help: ArgumentHelp("Folder of the units.", valueName: "dir"))
        var unitDir = "/etc/systemd/system"

        @Option(name: .long, help: ArgumentHelp("Only this schedule (default: all).", valueName: "name"))
        var name: String?

        func run() throws {
            let schedules = ScheduledCheck.installed(in: unitDir).filter { name == nil || $0.name == name }
            guard !schedules.isEmpty else { return print("No ProxyVet schedules in \(unitDir).") }
            for schedule in schedules {
                print("\(schedule.name): every \(schedule.every) (\(schedule.onCalendar ?? "timer missing")), output \(schedule.output), keep \(schedule.keep)"
                    + (schedule.history.map { ", history \($0)" } ?? ""))
                if Schedule.systemdRunning {
                    let timer = ScheduledCheck.unitName(schedule.name, "timer")
                    let enabled = Schedule.systemctl(["--quiet", "is-enabled", timer]) == 0
                    let active = Schedule.systemctl(["--quiet", "is-active", timer]) == 0
                    print("  timer: \(enabled ? "enabled" : "not enabled"), \(active ? "active" : "inactive") (systemctl list-timers \(timer))")
                } else {
                    print("  timer: systemd is not running here (use the cron line from schedule install)")
                }
                print("  lock: " + lockState(ScheduledCheck.lockFile(in: schedule.output)))
                let report = (schedule.output as NSString).appendingPathComponent(ReportFormat.json.fileName)
                if let data = FileManager.default.contents(atPath: report), let last = try? JSONReport.decode(data) {
                    print("  last report: \(last.generatedAt), \(last.ready ? "READY" : "NOT READY"), \(last.summary.failingRequired) required targets failing"
                        + (last.changes.map { ", history run \($0.run)" } ?? ""))
                } else {
                    print("  last report: none yet in \(schedule.output)")
                }
                let archive = (schedule.output as NSString).appendingPathComponent(ReportArchive.folderName)
                let kept = ((try? FileManager.default.contentsOfDirectory(atPath: archive)) ?? []).filter { !$0.hasPrefix(".") }
                print("  archive: \(kept.count) runs kept in \(archive)")
                if let history = schedule.history, FileManager.default.fileExists(atPath: history) {
                    let latest = try? HistoryStore(path: history, busyTimeout: 5).runs(limit: 1).first
                    print("  history: " + (latest.map { "latest run \($0.run) at \($0.generatedAt), \($0.ready ? "READY" : "NOT READY")" } ?? "no runs yet"))
                }
            }
        }

        /// Whether a run holds the schedule's lock right now (tried without waiting, released at once).
        private func lockState(_ path: String) -> String {
            guard FileManager.default.fileExists(atPath: path) else { return "free (no run yet)" }
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { return "unknown (cannot open \(path))" }
            defer { close(fd) }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                flock(fd, LOCK_UN)
                return "free"
            }
            return "held: a run is in progress"
        }
    }
}
