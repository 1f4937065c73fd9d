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

    /// The row with `id`.
    ///
    /// - Throws: ``JobStoreError`` `.notFound`.
    static func row(_ db: Database, id: String) throws -> JobRow {
        guard let row = try JobRow.filter(JobRow.Columns.id == id).fetchOne(db) else { throw JobStoreError.notFound(id) }
        return row
    }

    /// The available, retryable or running row of `kind` with `target`, if any.
    static func activeRow(_ db: Database, kind: JobKind, target: String) throws -> JobRow? {
        try JobRow
            .filter(JobRow.Columns.kind == kind.rawValue && JobRow.Columns.target == target)
            .filter(JobState.active.map(\.rawValue).contains(JobRow.Columns.state))
            .fetchOne(db)
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

    /// Closes the `job_attempts` row of `row`'s current attempt.
    static func endAttempt(
        _ db: Database, _ row: JobRow, outcome: JobAttemptOutcome, errorType: String?, httpStatus: Int?, now: Int64
    ) throws {
        guard var attempt = try JobAttemptRow.fetchOne(db, key: ["job_id": row.id, "attempt": row.attempt]) else { return }
        attempt.endedAt = now
        attempt.outcome = outcome
        attempt.errorType = errorType
        attempt.httpStatus = httpStatus
        try attempt.update(db)
    }
}
