import Foundation
internal import GRDB

/// The history of checks in one SQLite file (`--history FILE`), through GRDB.
///
/// Every run is recorded in one transaction: its lists (name, version, hash), routes (never credentials: proxy
/// URLs without user information, and only where credentials came from), every result with its verdict and key
/// evidence, the conflicts, timings, and the tool and libcurl versions. The file is in WAL mode: readers
/// (`proxyvet history list`) never wait for a run; two writers take turns, and one that waits longer than the
/// busy timeout gives up with `HistoryError.busy` and writes nothing. Keep the file on a local disk (WAL needs
/// shared memory between processes, which network file systems do not provide).
public final class HistoryStore: Sendable {
    /// The file as the user named it, for messages.
    public let file: String
    /// How long a write waits for another process's write to finish.
    public let busyTimeout: Double
    private let pool: DatabaseQueue

    /// Opens (or creates) the history and brings its schema up to date.
    public init(path: String, busyTimeout: Double = 30) throws {
        file = path
        self.busyTimeout = busyTimeout
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "ProxyVet history"
        // WAL set by hand rather than with DatabasePool: the pool's setup writes to an empty WAL file, which would
        // make merely opening the history wait for another process's write. One connection per process suffices.
        configuration.prepareDatabase { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            if mode?.lowercased() != "wal" { throw DatabaseError(message: "could not switch the history to WAL mode") }
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try Self.retryingRaces(file: path, timeout: busyTimeout) {
            try DatabaseQueue(path: path, configuration: configuration)
        }
        try migrate()
    }

    /// Runs `body` again while it fails the way two processes opening one new history at once make it fail: both
    /// switching the file to WAL (one gets SQLITE_BUSY at once, as SQLite's deadlock avoidance, without waiting),
    /// a write from a snapshot the other has since changed (SQLITE_BUSY_SNAPSHOT, not waited for either), or a schema
    /// the other is still creating (SQLITE_ERROR: "table already exists", "no such table: grdb_migrations"). Each
    /// goes away once the other process has committed. Bounded by the busy timeout; other errors are mapped at once.
    static func retryingRaces<T>(file: String, timeout: Double, _ body: () throws -> T) throws -> T {
        // A monotonic deadline: a wall-clock step must not cut the wait short or stretch it.
        let deadline = ContinuousClock.now + .milliseconds(Int(max(timeout, 1) * 1000))
        var attempt = 0
        while true {
            do {
                return try body()
            } catch let error as DatabaseError
                        where [.SQLITE_ERROR, .SQLITE_BUSY].contains(error.resultCode) && attempt < 200 && ContinuousClock.now < deadline {
                attempt += 1
                Thread.sleep(forTimeInterval: min(0.02 * Double(attempt), 0.2))
            } catch {
                throw Self.mapped(error, file: file, timeout: timeout)
            }
        }
    }

    // MARK: Schema

    /// Schema migrations, from the first version on. Never edit a registered migration: add the next one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in try db.execute(sql: Self.schemaV1) }
        return migrator
    }

    /// The identifiers of the migrations this version knows, in order.
    public static var migrations: [String] { migrator.migrations }

    static let schemaV1 = """
    CREATE TABLE run (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        generated_at TEXT NOT NULL,
        duration_seconds REAL NOT NULL,
        schema_version INTEGER NOT NULL,
        tool_version TEXT NOT NULL,
        libcurl TEXT NOT NULL,
        tls TEXT NOT NULL,
        ready INTEGER NOT NULL,
        readiness_rule TEXT NOT NULL,
        targets INTEGER NOT NULL,
        probes INTEGER NOT NULL,
        failing_required INTEGER NOT NULL,
        policy_violations INTEGER NOT NULL,
        conflicts INTEGER NOT NULL,
        conflict_errors INTEGER NOT NULL,
        settings TEXT NOT NULL,
        baseline_run INTEGER REFERENCES run(id) ON DELETE SET NULL
    );
    CREATE TABLE run_list (
        run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        list_id TEXT NOT NULL,
        name TEXT NOT NULL,
        file TEXT NOT NULL,
        source_title TEXT,
        source_url TEXT,
        source_date TEXT,
        content_hash TEXT NOT NULL,
        services INTEGER NOT NULL,
        endpoints INTEGER NOT NULL,
        PRIMARY KEY (run, position)
    );
    CREATE TABLE run_route (
        run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        proxy TEXT,
        authenticated INTEGER NOT NULL,
        credential_source TEXT,
        origin TEXT NOT NULL,
        role TEXT NOT NULL,
        chain TEXT NOT NULL,
        groups TEXT NOT NULL,
        PRIMARY KEY (run, position)
    );
    CREATE TABLE result (
        run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
        route TEXT NOT NULL,
        url TEXT NOT NULL,
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        required INTEGER NOT NULL,
        policy_probe INTEGER NOT NULL,
        verdict TEXT NOT NULL,
        reason TEXT NOT NULL,
        policy_violations TEXT NOT NULL,
        decided_hop TEXT,
        decided_position TEXT,
        decided_method TEXT,
        curl_code INTEGER NOT NULL,
        curl_message TEXT NOT NULL,
        connect_status INTEGER,
        http_status INTEGER,
        proxy_error TEXT,
        intercepted INTEGER NOT NULL,
        auth_challenged INTEGER NOT NULL,
        cert_issuer TEXT,
        cert_not_after TEXT,
        verify_result INTEGER,
        via TEXT NOT NULL,
        generated_by TEXT,
        time_connect REAL NOT NULL,
        time_tls REAL NOT NULL,
        time_first_byte REAL NOT NULL,
        time_total REAL NOT NULL,
        PRIMARY KEY (run, route, url)
    ) WITHOUT ROWID;
    CREATE TABLE conflict (
        run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        url TEXT NOT NULL,
        hop TEXT NOT NULL,
        hop_proxy TEXT,
        hop_product TEXT NOT NULL,
        routes TEXT NOT NULL,
        evidence TEXT NOT NULL,
        explanation TEXT NOT NULL,
        remediation TEXT NOT NULL,
        PRIMARY KEY (run, position)
    );
    CREATE INDEX run_by_baseline ON run(baseline_run);
    """

    /// Applies missing migrations. Refuses a file of another application and one migrated by a newer ProxyVet.
    ///
    /// Two processes may open a new file at the same moment. GRDB creates its migrations table outside the migration's
    /// transaction, so the other process can meet a half-made schema: "table already exists" from its own migration
    /// (which then rolls back whole), or "no such table: grdb_migrations" from a schema it read a moment too early.
    /// Both go away once the first process has committed, so the whole check is tried again (`retryingRaces`), with
    /// the schema read afresh.
    private func migrate() throws {
        try Self.retryingRaces(file: file, timeout: busyTimeout) { try migrateOnce() }
    }

    private func migrateOnce() throws {
        let migrator = Self.migrator
        let upToDate = try pool.read { db in
            db.clearSchemaCache()
            let applied = try migrator.appliedIdentifiers(db)
            let unknown = applied.subtracting(migrator.migrations).sorted()
            if !unknown.isEmpty { throw HistoryError.newerSchema(file: file, migrations: unknown) }
            // A new history another process is creating right now has only the (empty) migrations table.
            if applied.isEmpty {
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'")
                if !tables.isEmpty {
                    throw HistoryError.notAHistory(file: file, detail: "it holds other tables: \(tables.prefix(5).joined(separator: ", "))")
                }
            }
            return try migrator.hasCompletedMigrations(db)
        }
        // Only a migration needs the write lock: a run opening an up-to-date history while another writes does not wait here.
        if upToDate { return }
        pool.writeWithoutTransaction { $0.clearSchemaCache() }
        try migrator.migrate(pool)
    }

    // MARK: Recording

    /// Records a finished run in one transaction and returns its number. Nothing is written when it fails.
    @discardableResult
    public func record(_ report: CheckReport, baseline: Int64? = nil) throws -> Int64 {
        let settings = String(decoding: (try? JSONEncoder.sorted.encode(report.settings)) ?? Data("{}".utf8), as: UTF8.self)
        return try guarded {
            try pool.writeWithoutTransaction { db in
                var id: Int64 = 0
                // IMMEDIATE takes the write lock up front, so a busy database is waited for here (bounded by the
                // busy timeout) and never fails half-way through the inserts.
                try db.inTransaction(.immediate) {
                    try db.execute(sql: """
                        INSERT INTO run (generated_at, duration_seconds, schema_version, tool_version, libcurl, tls, ready, readiness_rule,
                                         targets, probes, failing_required, policy_violations, conflicts, conflict_errors, settings, baseline_run)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [report.generatedAt, report.durationSeconds, report.schemaVersion, report.tool.version,
                                         report.tool.libcurl, report.tool.tls, report.ready, report.readinessRule,
                                         report.summary.targets, report.summary.probes, report.summary.failingRequired,
                                         report.summary.policyViolations, report.conflicts.count, report.summary.conflictErrors,
                                         settings, baseline])
                    id = db.lastInsertedRowID
                    let list = try db.makeStatement(sql: """
                        INSERT INTO run_list (run, position, list_id, name, file, source_title, source_url, source_date, content_hash, services, endpoints)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                    for (position, info) in report.lists.enumerated() {
                        try list.execute(arguments: [id, position, info.id, info.name, info.file, info.source?.title, info.source?.url,
                                                     info.source?.date, info.contentHash, info.services, info.endpoints])
                    }
                    let route = try db.makeStatement(sql: """
                        INSERT INTO run_route (run, position, name, kind, proxy, authenticated, credential_source, origin, role, chain, groups)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                    for (position, info) in report.routes.enumerated() {
                        try route.execute(arguments: [id, position, info.name, info.kind.rawValue, info.proxy.map(Self.withoutUserInfo),
                                                      info.authenticated, info.credentialSource, info.origin.rawValue, info.role,
                                                      info.chain.joined(separator: " "), info.groups.joined(separator: " ")])
                    }
                    let result = try db.makeStatement(sql: """
                        INSERT INTO result (run, route, url, host, port, required, policy_probe, verdict, reason, policy_violations,
                                            decided_hop, decided_position, decided_method, curl_code, curl_message, connect_status, http_status,
                                            proxy_error, intercepted, auth_challenged, cert_issuer, cert_not_after, verify_result, via, generated_by,
                                            time_connect, time_tls, time_first_byte, time_total)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                    for item in report.results {
                        let evidence = item.evidence
                        try result.execute(arguments: [
                            id, item.route, item.url, item.host, item.port, item.required, item.policyProbe, item.verdict.rawValue, item.reason,
                            item.policyViolations.map(\.rawValue).joined(separator: " "),
                            item.decidedBy?.hop, item.decidedBy?.position, item.decidedBy?.method,
                            evidence.curlCode, evidence.curlMessage, evidence.connectStatus, evidence.httpStatus, evidence.proxyError,
                            evidence.intercepted, evidence.authChallenged, evidence.certificate?.issuer, evidence.certificate?.notAfter,
                            evidence.verifyResult, evidence.via.joined(separator: " "), evidence.generatedBy,
                            item.timings.connect, item.timings.tls, item.timings.firstByte, item.timings.total,
                        ])
                    }
                    let conflict = try db.makeStatement(sql: """
                        INSERT INTO conflict (run, position, kind, severity, url, hop, hop_proxy, hop_product, routes, evidence, explanation, remediation)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                    for (position, item) in report.conflicts.enumerated() {
                        try conflict.execute(arguments: [id, position, item.kind.rawValue, item.severity.rawValue, item.endpoint.url,
                                                         item.hop.name, item.hop.proxy.map(Self.withoutUserInfo), item.hop.product,
                                                         item.routes.joined(separator: " "), item.evidence, item.explanation, item.remediation])
                    }
                    return .commit
                }
                return id
            }
        }
    }

    /// `http://user:secret@proxy:3128` → `http://proxy:3128`: a second guard, reports never carry user information.
    static func withoutUserInfo(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + String(rest[rest.index(after: at)...])
    }

    // MARK: Reading

    /// One recorded run, without its results.
    public struct RunSummary: Codable, Sendable, Equatable {
        public var run: Int64
        public var generatedAt: String
        public var durationSeconds: Double
        public var toolVersion: String
        public var libcurl: String
        public var tls: String
        public var ready: Bool
        public var targets: Int
        public var probes: Int
        public var failingRequired: Int
        public var policyViolations: Int
        public var conflicts: Int
        public var conflictErrors: Int
        /// The run this one was compared with as its baseline, if any (and still in the history).
        public var baseline: Int64?
        public var lists: [ListRecord]
        public var routes: [RouteRecord]
    }

    /// A list as recorded with a run.
    public struct ListRecord: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var file: String
        public var date: String?
        public var contentHash: String
        public var endpoints: Int
    }

    /// A route as recorded with a run: never credentials, only where they came from.
    public struct RouteRecord: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String
        public var proxy: String?
        public var credentialSource: String?
        public var role: String
    }

    /// Recorded runs, newest first.
    public func runs(limit: Int? = nil) throws -> [RunSummary] {
        try guarded {
            try pool.read { db in
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM run ORDER BY id DESC" + (limit.map { " LIMIT \(max(0, $0))" } ?? ""))
                return try rows.map { try Self.summary($0, db: db) }
            }
        }
    }

    /// One recorded run; `HistoryError.unknownRun` when there is none with that number.
    public func summary(run: Int64) throws -> RunSummary {
        try guarded {
            try pool.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [run]) else {
                    throw HistoryError.unknownRun(file: file, reference: String(run))
                }
                return try Self.summary(row, db: db)
            }
        }
    }

    private static func summary(_ row: Row, db: Database) throws -> RunSummary {
        let id: Int64 = row["id"]
        let lists = try Row.fetchAll(db, sql: "SELECT * FROM run_list WHERE run = ? ORDER BY position", arguments: [id]).map { list in
            ListRecord(id: list["list_id"], name: list["name"], file: list["file"], date: list["source_date"],
                       contentHash: list["content_hash"], endpoints: list["endpoints"])
        }
        let routes = try Row.fetchAll(db, sql: "SELECT * FROM run_route WHERE run = ? ORDER BY position", arguments: [id]).map { route in
            RouteRecord(name: route["name"], kind: route["kind"], proxy: route["proxy"], credentialSource: route["credential_source"], role: route["role"])
        }
        return RunSummary(run: id, generatedAt: row["generated_at"], durationSeconds: row["duration_seconds"], toolVersion: row["tool_version"],
                          libcurl: row["libcurl"], tls: row["tls"], ready: row["ready"], targets: row["targets"], probes: row["probes"],
                          failingRequired: row["failing_required"], policyViolations: row["policy_violations"], conflicts: row["conflicts"],
                          conflictErrors: row["conflict_errors"], baseline: row["baseline_run"], lists: lists, routes: routes)
    }

    /// The verdicts and conflicts of a recorded run, for `RunDiff`.
    public func snapshot(run: Int64) throws -> RunSnapshot {
        try guarded {
            try pool.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT generated_at, ready FROM run WHERE id = ?", arguments: [run]) else {
                    throw HistoryError.unknownRun(file: file, reference: String(run))
                }
                let lists = try Row.fetchAll(db, sql: "SELECT list_id, name, source_date, content_hash FROM run_list WHERE run = ? ORDER BY position", arguments: [run]).map {
                    RunSnapshot.ListVersion(id: $0["list_id"], name: $0["name"], date: $0["source_date"], contentHash: $0["content_hash"])
                }
                let routes = try String.fetchAll(db, sql: "SELECT name FROM run_route WHERE run = ? ORDER BY position", arguments: [run])
                let order = Dictionary(routes.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
                let results = try Row.fetchAll(db, sql: "SELECT route, url, required, verdict, policy_violations, reason FROM result WHERE run = ?", arguments: [run]).map {
                    RunSnapshot.ResultState(route: $0["route"], url: $0["url"], required: $0["required"], verdict: $0["verdict"],
                                            policyViolations: Self.words($0["policy_violations"]), reason: $0["reason"])
                }.sorted { (order[$0.route] ?? Int.max, $0.url) < (order[$1.route] ?? Int.max, $1.url) }
                let conflicts = try Row.fetchAll(db, sql: "SELECT kind, severity, url, hop, routes, explanation FROM conflict WHERE run = ? ORDER BY position", arguments: [run]).map {
                    RunSnapshot.ConflictState(kind: $0["kind"], severity: $0["severity"], url: $0["url"], hop: $0["hop"],
                                              routes: Self.words($0["routes"]), explanation: $0["explanation"])
                }
                return RunSnapshot(run: run, generatedAt: row["generated_at"], ready: row["ready"], lists: lists, routes: routes,
                                   results: results, conflicts: conflicts)
            }
        }
    }

    private static func words(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }

    /// Resolves what a user typed for a run: a number (`12`, `#12`), `latest`, or `previous` (the one before latest).
    public func resolve(_ reference: String) throws -> Int64 {
        let text = reference.trimmingCharacters(in: .whitespaces).lowercased()
        let offset: Int
        switch text {
        case "latest", "last": offset = 0
        case "previous": offset = 1
        default:
            let digits = text.hasPrefix("#") ? String(text.dropFirst()) : text
            guard let id = Int64(digits), id > 0 else { throw HistoryError.unknownRun(file: file, reference: reference) }
            let exists = try guarded { try pool.read { try Bool.fetchOne($0, sql: "SELECT EXISTS (SELECT 1 FROM run WHERE id = ?)", arguments: [id]) ?? false } }
            guard exists else { throw HistoryError.unknownRun(file: file, reference: reference) }
            return id
        }
        let id = try guarded { try pool.read { try Int64.fetchOne($0, sql: "SELECT id FROM run ORDER BY id DESC LIMIT 1 OFFSET ?", arguments: [offset]) } }
        guard let id else { throw HistoryError.unknownRun(file: file, reference: reference) }
        return id
    }

    /// The newest run recorded before `run` (or the newest of all when `run` is nil).
    public func previousRun(before run: Int64? = nil) throws -> Int64? {
        try guarded {
            try pool.read { db in
                try Int64.fetchOne(db, sql: "SELECT id FROM run WHERE id < ? ORDER BY id DESC LIMIT 1", arguments: [run ?? Int64.max])
            }
        }
    }

    // MARK: Retention

    /// What `prune` removed.
    public struct PruneOutcome: Codable, Sendable, Equatable {
        public var deleted: [Int64]
        /// Older runs kept because a kept run uses them as its baseline.
        public var keptAsBaseline: [Int64]
    }

    /// Keeps the newest `keep` runs and the baselines they refer to; deletes the rest and compacts the file.
    public func prune(keep: Int) throws -> PruneOutcome {
        let outcome: PruneOutcome = try guarded {
            try pool.writeWithoutTransaction { db in
                var outcome = PruneOutcome(deleted: [], keptAsBaseline: [])
                try db.inTransaction(.immediate) {
                    let newest = try Int64.fetchAll(db, sql: "SELECT id FROM run ORDER BY id DESC LIMIT ?", arguments: [max(0, keep)])
                    let baselines = try Int64.fetchAll(db, sql: "SELECT DISTINCT baseline_run FROM run WHERE baseline_run IS NOT NULL AND id IN (SELECT id FROM run ORDER BY id DESC LIMIT ?)",
                                                       arguments: [max(0, keep)])
                    let kept = Set(newest).union(baselines)
                    outcome.keptAsBaseline = baselines.filter { !newest.contains($0) }.sorted()
                    outcome.deleted = try Int64.fetchAll(db, sql: "SELECT id FROM run ORDER BY id").filter { !kept.contains($0) }
                    let delete = try db.makeStatement(sql: "DELETE FROM run WHERE id = ?")
                    for id in outcome.deleted { try delete.execute(arguments: [id]) }
                    return .commit
                }
                return outcome
            }
        }
        if !outcome.deleted.isEmpty {
            // VACUUM cannot run inside a transaction; it rewrites the file to give the space back.
            try guarded { try pool.writeWithoutTransaction { try $0.execute(sql: "VACUUM") } }
        }
        return outcome
    }

    // MARK: Errors

    /// Runs `body`, turning SQLite errors into `HistoryError`s a network engineer can act on.
    private func guarded<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw Self.mapped(error, file: file, timeout: busyTimeout) }
    }

    static func mapped(_ error: any Error, file: String, timeout: Double) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return HistoryError.busy(file: file, timeoutSeconds: timeout)
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: return HistoryError.notAHistory(file: file, detail: error.message ?? "not an SQLite database")
        default: return HistoryError.cannotWrite(file: file, detail: error.message ?? "\(error.resultCode)")
        }
    }
}

extension JSONEncoder {
    /// Sorted keys: stored JSON is stable from run to run.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
