import Foundation
import GRDB
public import Ledger

/// A ``JobStore`` in its own SQLite file (WAL mode, GRDB `DatabasePool`), shared by the worker
/// processes of one host.
///
/// Every write is a `BEGIN IMMEDIATE` transaction: a writer takes the database's write lock
/// before it reads, so a claim's read-then-update cannot interleave with another process's, and
/// a waiting process retries for ``busyTimeout`` instead of failing with `database is locked`
/// (a deferred transaction that upgrades to a write would get `SQLITE_BUSY` without waiting).
///
/// ```swift
/// let store = try SQLiteJobStore(path: ".proxy-ledger/jobs.sqlite")
/// _ = try await store.enqueue(JobRequest(.transcribe(.video(id: "dQw4w9WgXcQ"))), now: JobClock.now())
/// if let job = try await store.claim(component: JobComponent.transcribeWorker, workerID: "w1",
///                                    leaseDuration: .seconds(300), now: JobClock.now()) {
///     _ = try await store.complete(jobID: job.id, attempt: job.attempt, result: "out.vtt", now: JobClock.now())
/// }
/// ```
public final class SQLiteJobStore: JobStore {
    /// The default file, relative to the working directory.
    public static let defaultPath = ".proxy-ledger/jobs.sqlite"

    /// How a commit is made durable.
    public enum Durability: String, Sendable {
        /// `synchronous=NORMAL`: a commit survives a process crash; a power loss may roll back the
        /// last commits (a completed job may then run again: delivery is at least once).
        case normal = "NORMAL"
        /// `synchronous=FULL`: every commit is fsynced before it returns.
        case full = "FULL"
    }

    /// The database file path.
    public let path: String
    /// The retry policy applied by ``fail(jobID:attempt:errorType:httpStatus:retryAfter:now:)``.
    public let retryPolicy: RetryPolicy
    /// How long a connection waits for another process's lock.
    public let busyTimeout: Duration
    let pool: DatabasePool
    let jitter: any JitterSource
    let newlyDue: @Sendable () -> Void

    /// Opens (creating if needed) the jobs database at `path` and migrates it.
    ///
    /// - Parameters:
    ///   - path: The SQLite file. Its directory must exist.
    ///   - retryPolicy: Backoff and default max attempts.
    ///   - jitter: The backoff's random numbers (inject ``FixedJitter`` or ``SeededJitter`` in tests).
    ///   - busyTimeout: How long to wait for a lock held by another connection or process.
    ///   - durability: `synchronous` mode (default ``Durability/normal``).
    ///   - newlyDue: Called after a commit through this store that made jobs due at once (an
    ///     enqueue of new jobs, ``retry(jobID:now:)``, ``retryAll(state:now:)``, a
    ///     ``resume(component:)`` that lifted a pause), so that waiting workers can claim without
    ///     polling. It runs on the caller's task and must not block.
    /// - Throws: ``JobStoreError`` `.openFailed` when SQLite cannot open the file, `.migrationFailed`.
    public init(
        path: String, retryPolicy: RetryPolicy = RetryPolicy(), jitter: any JitterSource = SystemJitter(),
        busyTimeout: Duration = .seconds(10), durability: Durability = .normal,
        newlyDue: @escaping @Sendable () -> Void = {}
    ) throws {
        self.path = path
        self.retryPolicy = retryPolicy
        self.jitter = jitter
        self.busyTimeout = busyTimeout
        self.newlyDue = newlyDue
        var configuration = Configuration()
        configuration.label = "proxy-ledger.jobs"
        configuration.busyMode = .timeout(Double(busyTimeout.wholeMicroseconds) / 1_000_000)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability.rawValue)")
        }
        pool = try JobStoreError.wrappingSync(
            .openFailed, "opening the jobs database \(path) failed; check that its folder exists and is writable"
        ) {
            try Self.openPool(path: path, configuration: configuration)
        }
        try Self.migrate(pool, path: path)
    }

    /// Opens the pool. Switching a new file to WAL takes an exclusive lock without waiting for
    /// the busy timeout, so a second store opening the same new file at that moment gets
    /// `SQLITE_BUSY`: it tries again, for up to the busy timeout.
    static func openPool(path: String, configuration: Configuration) throws -> DatabasePool {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                return try DatabasePool(path: path, configuration: configuration)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }

    /// Runs the migrations. Two processes opening a new file at once race; the loser's
    /// migration fails and is rolled back, and it then finds the schema complete.
    private static func migrate(_ pool: DatabasePool, path: String) throws {
        let migrator = JobSchema.migrator
        try JobStoreError.wrappingSync(.migrationFailed, "migrating the jobs database \(path) failed") {
            do {
                try migrator.migrate(pool)
            } catch {
                guard try pool.read({ db in try migrator.hasCompletedMigrations(db) }) else { throw error }
            }
        }
    }

    /// Closes every connection. Further use throws.
    ///
    /// - Throws: ``JobStoreError`` `.openFailed` when a connection cannot close.
    public func close() throws {
        try JobStoreError.wrappingSync(.openFailed, "closing the jobs database \(path) failed") { try pool.close() }
    }

    // MARK: - Enqueue and claim

    /// Enqueues requests in one `BEGIN IMMEDIATE` transaction; see ``JobStore/enqueue(_:now:)``.
    ///
    /// - Throws: ``JobStoreError`` `.invalidRequest` (nothing enqueued), `.writeFailed`.
    public func enqueue(_ requests: [JobRequest], now: Int64) async throws -> [EnqueueResult] {
        for request in requests {
            try request.payload.validate()
            if let max = request.maxAttempts, max < 1 {
                throw JobStoreError.invalidRequest("max attempts must be at least 1, not \(max)")
            }
        }
        let defaultMax = retryPolicy.maxAttempts
        let results = try await immediateWrite("enqueueing \(requests.count) jobs") { db in
            try requests.map { request in
                if let existing = try Self.activeRow(db, kind: request.payload.kind, target: request.payload.target) {
                    return EnqueueResult(job: existing.job, isNew: false)
                }
                var row = JobRow(
                    id: UUID().uuidString.lowercased(), request: request,
                    maxAttempts: request.maxAttempts ?? defaultMax, now: now)
                try row.insert(db)
                return EnqueueResult(job: row.job, isNew: true)
            }
        }
        if results.contains(where: \.isNew) { newlyDue() }
        return results
    }

    /// Claims the longest-due job of `component`; see ``JobStore/claim(component:workerID:leaseDuration:now:)``.
    ///
    /// - Throws: ``JobStoreError`` `.writeFailed`.
    public func claim(component: String, workerID: String, leaseDuration: Duration, now: Int64) async throws -> Job? {
        try await claim(component: component, workerID: workerID, leaseDuration: leaseDuration, now: now, limit: 1)
            .first
    }

    /// Claims up to `limit` due jobs of `component` in one `BEGIN IMMEDIATE` transaction (one
    /// commit); see ``JobStore/claim(component:workerID:leaseDuration:now:limit:)``.
    ///
    /// - Throws: ``JobStoreError`` `.writeFailed` (nothing is claimed).
    public func claim(
        component: String, workerID: String, leaseDuration: Duration, now: Int64, limit: Int
    ) async throws -> [Job] {
        guard limit > 0 else { return [] }
        let lease = leaseDuration.wholeMicroseconds
        return try await immediateWrite("claiming up to \(limit) \(component) jobs") { db in
            if try Self.isPaused(db, component: component) { return [] }
            var jobs: [Job] = []
            // A taken row is running with a lease in the future (or discarded), so the next
            // `firstDue` moves on to the following one; only a lease of zero length would find
            // the same row again, and ends the batch.
            while jobs.count < limit, let row = try Self.firstDue(db, component: component, now: now),
                !jobs.contains(where: { $0.id == row.id })
            {
                if let job = try Self.take(row, db: db, workerID: workerID, lease: lease, now: now) { jobs.append(job) }
            }
            return jobs
        }
    }

    /// The due row of `component` that has waited longest (earliest due time, then enqueue order).
    ///
    /// One `jobs_claim` index range per active state, each already in order (no sort of the
    /// whole queue), then the earliest of the three; a cached statement.
    private static func firstDue(_ db: Database, component: String, now: Int64) throws -> JobRow? {
        try SQLRequest<JobRow>(sql: firstDueSQL, arguments: ["component": component, "now": now], cached: true).fetchOne(db)
    }

    private static let firstDueSQL: String = {
        let branches = JobState.active.map { state in
            "SELECT * FROM (SELECT * FROM jobs WHERE component = :component AND state = '\(state.rawValue)' "
                + "AND due_at <= :now ORDER BY due_at, sequence LIMIT 1)"
        }
        return "SELECT * FROM (" + branches.joined(separator: " UNION ALL ") + ") ORDER BY due_at, sequence LIMIT 1"
    }()

    /// Leases a due row to `workerID`; discards (and returns `nil` for) a running row whose
    /// lease expired after its last allowed attempt.
    private static func take(_ row: JobRow, db: Database, workerID: String, lease: Int64, now: Int64) throws -> Job? {
        var row = row
        if row.state == .running {
            try endAttempt(db, row, outcome: .leaseExpired, errorType: nil, httpStatus: nil, now: now)
            if row.attemptsUsed >= row.maxAttempts {
                row.state = .discarded
                row.leaseOwner = nil
                row.lastErrorType = "lease_expired"
                row.finishedAt = now
                row.updatedAt = now
                try Self.save(db, row)
                return nil
            }
        }
        row.state = .running
        row.attempt += 1
        row.attemptsUsed += 1
        row.leaseOwner = workerID
        row.dueAt = now + lease
        row.updatedAt = now
        try Self.save(db, row)
        try startAttempt(db, row, workerID: workerID, now: now)
        return row.job
    }

    // MARK: - A running attempt

    /// Extends the lease to `now + leaseDuration` (µs); see ``JobStore/renewLease(jobID:attempt:leaseDuration:now:)``.
    ///
    /// - Throws: ``JobStoreError`` `.leaseLost`, `.notFound`.
    public func renewLease(jobID: String, attempt: Int, leaseDuration: Duration, now: Int64) async throws -> Int64 {
        let lease = leaseDuration.wholeMicroseconds
        return try await immediateWrite("renewing the lease of job \(jobID)") { db in
            var row = try Self.leasedRow(db, jobID: jobID, attempt: attempt)
            row.dueAt = now + lease
            row.updatedAt = now
            try Self.save(db, row)
            return row.dueAt
        }
    }

    /// Completes the job; see ``JobStore/complete(jobID:attempt:result:now:)``.
    ///
    /// - Throws: ``JobStoreError`` `.leaseLost`, `.notFound`.
    public func complete(jobID: String, attempt: Int, result: String?, now: Int64) async throws -> Job {
        try await immediateWrite("completing job \(jobID)") { db in
            var row = try Self.leasedRow(db, jobID: jobID, attempt: attempt)
            try Self.endAttempt(db, row, outcome: .completed, errorType: nil, httpStatus: nil, now: now)
            row.state = .completed
            row.result = result
            row.leaseOwner = nil
            row.finishedAt = now
            row.updatedAt = now
            try Self.save(db, row)
            return row.job
        }
    }

    /// Records a failure and applies ``retryPolicy``; see ``JobStore/fail(jobID:attempt:errorType:httpStatus:retryAfter:now:)``.
    ///
    /// - Throws: ``JobStoreError`` `.leaseLost`, `.notFound`.
    public func fail(
        jobID: String, attempt: Int, errorType: ProxyErrorType, httpStatus: Int?, retryAfter: Duration?, now: Int64
    ) async throws -> Job {
        let policy = retryPolicy
        let jitterValue = jitter.next()
        return try await immediateWrite("recording the failure of job \(jobID)") { db in
            var row = try Self.leasedRow(db, jobID: jobID, attempt: attempt)
            row.lastErrorType = errorType.rawValue
            row.lastHTTPStatus = httpStatus
            row.leaseOwner = nil
            row.updatedAt = now
            let outcome: JobAttemptOutcome
            switch FailureDisposition.of(errorType, httpStatus: httpStatus) {
            case .pauseComponent:
                try PausedComponentRow(
                    component: row.component, reason: "auth_failure on job \(row.id) attempt \(row.attempt)", pausedAt: now
                ).insert(db, onConflict: .ignore)
                row.state = .available
                row.attemptsUsed = max(0, row.attemptsUsed - 1)
                row.dueAt = now
                outcome = .paused
            case .retry where row.attemptsUsed < row.maxAttempts:
                row.state = .retryable
                row.dueAt = now + policy.delayMicroseconds(
                    attemptsUsed: row.attemptsUsed, retryAfter: retryAfter, jitter: jitterValue)
                outcome = .retryScheduled
            case .retry, .discard:
                row.state = .discarded
                row.finishedAt = now
                outcome = .discarded
            }
            try Self.endAttempt(db, row, outcome: outcome, errorType: errorType.rawValue, httpStatus: httpStatus, now: now)
            try Self.save(db, row)
            return row.job
        }
    }

    /// Returns an interrupted job to available without charging the attempt; see ``JobStore/release(jobID:attempt:now:)``.
    ///
    /// - Throws: ``JobStoreError`` `.leaseLost`, `.notFound`.
    public func release(jobID: String, attempt: Int, now: Int64) async throws -> Job {
        try await immediateWrite("releasing job \(jobID)") { db in
            var row = try Self.leasedRow(db, jobID: jobID, attempt: attempt)
            try Self.endAttempt(db, row, outcome: .released, errorType: nil, httpStatus: nil, now: now)
            row.state = .available
            row.attemptsUsed = max(0, row.attemptsUsed - 1)
            row.leaseOwner = nil
            row.dueAt = now
            row.updatedAt = now
            try Self.save(db, row)
            return row.job
        }
    }
}
