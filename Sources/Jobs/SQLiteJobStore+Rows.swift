import Foundation
import GRDB

// Transactions and row helpers shared by the store's operations.
extension SQLiteJobStore {
    /// Runs `body` in a `BEGIN IMMEDIATE` transaction (the write lock is taken before any read).
    func immediateWrite<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        try await JobStoreError.wrapping(.writeFailed, "\(what) in \(path) failed; nothing was changed") {
            try await pool.writeWithoutTransaction { db in
                var value: T?
                try db.inTransaction(.immediate) {
                    value = try body(db)
                    return .commit
                }
                guard let value else { throw JobStoreError(code: .writeFailed, message: "\(what) returned nothing") }
                return value
            }
        }
    }

    /// Runs `body` on a reader (one consistent snapshot).
    func read<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await JobStoreError.wrapping(.readFailed, "\(what) in \(path) failed") {
            try await pool.read(body)
        }
    }

    // The per-job statements below are cached (prepared once per connection): they run on every
    // claim, completion and enqueue, where building and preparing a statement each time would
    // cost more than running it.

    /// The row with `id`.
    ///
    /// - Throws: ``JobStoreError`` `.notFound`.
    static func row(_ db: Database, id: String) throws -> JobRow {
        let request = SQLRequest<JobRow>(sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id], cached: true)
        guard let row = try request.fetchOne(db) else { throw JobStoreError.notFound(id) }
        return row
    }

    /// The available, retryable or running row of `kind` with `target`, if any.
    static func activeRow(_ db: Database, kind: JobKind, target: String) throws -> JobRow? {
        let states = JobState.active.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return try SQLRequest<JobRow>(
            sql: "SELECT * FROM jobs WHERE kind = ? AND target = ? AND state IN (\(states)) LIMIT 1",
            arguments: [kind.rawValue, target], cached: true
        ).fetchOne(db)
    }

    /// `true` when claims for `component` are paused.
    static func isPaused(_ db: Database, component: String) throws -> Bool {
        try SQLRequest<Bool>(
            sql: "SELECT EXISTS (SELECT 1 FROM paused_components WHERE component = ?)", arguments: [component], cached: true
        ).fetchOne(db) ?? false
    }

    /// The running row whose current attempt is `attempt`.
    ///
    /// - Throws: ``JobStoreError`` `.notFound`, `.leaseLost` when the job is no longer running
    ///   under this attempt.
    static func leasedRow(_ db: Database, jobID: String, attempt: Int) throws -> JobRow {
        let row = try row(db, id: jobID)
        guard row.state == .running, row.attempt == attempt else {
            let now = row.state == .running ? "running as attempt \(row.attempt) on \(row.leaseOwner ?? "another worker")" : row.state.rawValue
            throw JobStoreError(
                code: .leaseLost,
                message: "job \(jobID) attempt \(attempt) no longer holds its lease (the job is \(now)); "
                    + "stop working on it and drop its result")
        }
        return row
    }

    /// Writes the columns of `row` that change after enqueue (not kind, target or payload).
    static func save(_ db: Database, _ row: JobRow) throws {
        let statement = try db.cachedStatement(sql: """
            UPDATE jobs SET state = ?, attempt = ?, attempts_used = ?, max_attempts = ?, due_at = ?, lease_owner = ?,
                last_error_type = ?, last_http_status = ?, result = ?, updated_at = ?, finished_at = ?
            WHERE id = ?
            """)
        try statement.execute(arguments: [
            row.state.rawValue, row.attempt, row.attemptsUsed, row.maxAttempts, row.dueAt, row.leaseOwner,
            row.lastErrorType, row.lastHTTPStatus, row.result, row.updatedAt, row.finishedAt, row.id,
        ])
    }

    /// Records the start of `row`'s current attempt by `workerID`.
    static func startAttempt(_ db: Database, _ row: JobRow, workerID: String, now: Int64) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO job_attempts (job_id, attempt, worker_id, started_at, outcome) VALUES (?, ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [row.id, row.attempt, workerID, now, JobAttemptOutcome.running.rawValue])
    }

    /// Closes the `job_attempts` row of `row`'s current attempt.
    static func endAttempt(
        _ db: Database, _ row: JobRow, outcome: JobAttemptOutcome, errorType: String?, httpStatus: Int?, now: Int64
    ) throws {
        let statement = try db.cachedStatement(sql: """
            UPDATE job_attempts SET ended_at = ?, outcome = ?, error_type = ?, http_status = ?
            WHERE job_id = ? AND attempt = ?
            """)
        try statement.execute(arguments: [now, outcome.rawValue, errorType, httpStatus, row.id, row.attempt])
    }
}
