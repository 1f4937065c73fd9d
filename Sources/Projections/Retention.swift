import GRDB
public import Ledger

/// What ``ProjectionStore/prune(before:)`` did.
public struct PruneResult: Sendable, Hashable {
    /// Rows of `proxy_request_logs` deleted by this call.
    public var rowsDeleted: Int
    /// The retention horizon now in force: rows stamped before it are gone (the latest `before`
    /// ever given; a prune never moves it back).
    public var horizon: LedgerTimestamp
}

/// Retention of `proxy_request_logs` (`proxy-ledger prune`): old rows go, the rollups stay, so
/// reports for old periods stay correct and the file stops growing with every event ever made.
///
/// Migration `v3-retention` adds:
/// - `projection_retention(id = 1, pruned_before_us, pruned_at)`: the horizon, UTC µs;
/// - `proxy_pruned_event_ids(event_id)`: the ids of pruned rows, so an event appended again
///   after its row was pruned is still a duplicate (uniqueness holds for ever) and is never
///   counted twice in the rollups.
///
/// A rebuild replays everything and then prunes again to the same horizon, so it gives the same
/// rows as the incremental path.
enum Retention {
    static func v3(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE projection_retention (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    pruned_before_us INTEGER NOT NULL,
                    pruned_at TEXT NOT NULL
                );
                CREATE TABLE proxy_pruned_event_ids (event_id TEXT PRIMARY KEY) WITHOUT ROWID;
                """)
    }

    /// The horizon in UTC µs, or `nil` when nothing was ever pruned.
    static func horizon(in db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT pruned_before_us FROM projection_retention WHERE id = 1")
    }

    /// `true` when a row with `eventID` (lowercase text) was pruned.
    static func wasPruned(_ eventID: String, in db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM proxy_pruned_event_ids WHERE event_id = ?)", arguments: [eventID])
            == true
    }

    /// Deletes the rows stamped before `before` (UTC µs) after keeping their ids, and raises the
    /// horizon. Call inside a transaction.
    /// - Returns: rows deleted and the horizon in force.
    static func prune(before: Int64, in db: Database) throws -> (deleted: Int, horizon: Int64) {
        let horizon = max(before, try horizon(in: db) ?? Int64.min)
        try db.execute(
            sql: "INSERT OR IGNORE INTO proxy_pruned_event_ids (event_id) SELECT event_id FROM \(ProjectionSchema.readableView) WHERE timestamp_us < ?",
            arguments: [horizon])
        try db.execute(sql: "DELETE FROM proxy_request_logs WHERE timestamp_us < ?", arguments: [horizon])
        let deleted = db.changesCount
        try db.execute(
            sql: """
                INSERT INTO projection_retention (id, pruned_before_us, pruned_at) VALUES (1, ?, ?)
                ON CONFLICT (id) DO UPDATE SET pruned_before_us = excluded.pruned_before_us, pruned_at = excluded.pruned_at
                """,
            arguments: [horizon, LedgerTimestamp.now.rfc3339])
        return (deleted, horizon)
    }
}

extension ProjectionStore {
    /// Deletes the rows of `proxy_request_logs` stamped before `before` in one transaction; the
    /// hourly rollups, checkpoints and imported vendor figures stay. Idempotent.
    ///
    /// - Parameter before: The retention horizon (exclusive), UTC.
    /// - Returns: The rows deleted and the horizon in force.
    /// - Throws: ``ProjectionError`` `.writeFailed`.
    public func prune(before: LedgerTimestamp) throws -> PruneResult {
        let outcome = try ProjectionError.wrapping(.writeFailed, "pruning proxy_request_logs failed") {
            try databasePool.write { db in try Retention.prune(before: before.microseconds, in: db) }
        }
        return PruneResult(rowsDeleted: outcome.deleted, horizon: LedgerTimestamp(microseconds: outcome.horizon))
    }
}
