import Foundation
import GRDB
public import Ledger

/// The projection database: a SQLite file in WAL mode, opened through a GRDB `DatabasePool`.
///
/// Opening for writing runs the schema migrations (``ProjectionSchema``); opening read-only
/// (``ProjectionAccess/readOnly``, for summaries and reports) never writes. The file records the
/// ledger it was built from (``bind(to:)``). Many readers (summaries, reports,
/// `/debug/proxy`) read concurrently with the one writer (``Projector``); every read sees a
/// committed transaction, never half a batch.
///
/// ```swift
/// let store = try ProjectionStore(path: "proxy-ledger.sqlite")
/// try Projector(store: store).replay(from: try LedgerReader(directory: "ledger"))
/// try store.close()
/// let reader = try ProjectionStore(path: "proxy-ledger.sqlite", access: .readOnly)
/// let summary = try reader.summary(since: nil)
/// ```
///
/// Close the store before ``Projector/rebuild(ledger:databasePath:progress:)`` swaps a new file
/// in, and open a new one afterwards: an open pool would mix connections to both files.
///
/// Related SQLite documentation: <https://www.sqlite.org/wal.html>.
public final class ProjectionStore: Sendable {
    /// The database file path.
    public let path: String
    /// How the file was opened.
    public let access: ProjectionAccess
    /// The connection pool. Other modules read through ``read(_:)``'s typed queries and write
    /// through ``Projector`` and ``VendorPointsImport``.
    let databasePool: DatabasePool

    /// Opens the projection database at `path`.
    ///
    /// What is at `path` is checked before any connection that could write to it is opened:
    /// another application's SQLite file, a file that is not SQLite, or a folder is refused and
    /// left as it was. ``ProjectionAccess/readWrite`` (the default) creates a missing or empty file
    /// and migrates an older projection (``ProjectionSchema``); ``ProjectionAccess/readOnly``
    /// requires an up-to-date projection and never writes.
    ///
    /// - Parameters:
    ///   - path: The SQLite file. Its directory must exist.
    ///   - access: Whether the store may create, migrate and write the file.
    ///   - busyTimeout: How long a connection waits for a lock held by another process, in ms.
    /// - Throws: ``ProjectionError`` `.notFound` (read-only, no file), `.notAProjection`,
    ///   `.migrationNeeded` (read-only, an older projection), `.openFailed` when SQLite cannot open
    ///   the file, `.migrationFailed` when a migration fails.
    public init(path: String, access: ProjectionAccess = .readWrite, busyTimeout: Int = 5_000) throws {
        try ProjectionFile.check(path, access: access)
        self.path = path
        self.access = access
        var configuration = Configuration()
        configuration.label = "proxy-ledger.projections"
        configuration.readonly = access == .readOnly
        configuration.busyMode = .timeout(Double(busyTimeout) / 1_000)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA cache_size = -16384")  // KiB: 16 MiB per connection
        }
        let pool = try ProjectionError.wrapping(.openFailed, "opening the projection database \(path) failed") {
            try DatabasePool(path: path, configuration: configuration)
        }
        if access == .readWrite {
            try ProjectionError.wrapping(.migrationFailed, "migrating the projection database \(path) failed") {
                try ProjectionSchema.migrator.migrate(pool)
            }
        }
        self.databasePool = pool
    }

    /// Binds the projection to the ledger `source` reads, so that events of another ledger are
    /// never mixed into it. A projection bound to no ledger yet (new, or made before bindings
    /// existed) is bound to this one. Replays bind on their own; a long-running writer calls this
    /// once at start-up to fail before any work.
    ///
    /// - Parameter source: The ledger; a source without an id (``LedgerRecordSource/ledgerIdentity()``
    ///   is `nil`) binds nothing.
    /// - Throws: ``ProjectionError`` `.ledgerMismatch` naming both ledgers, `.ledgerReadFailed`
    ///   when the ledger's marker cannot be read, `.writeFailed`.
    public func bind(to source: some LedgerRecordSource) throws {
        try ReplayEngine.bind(source, into: databasePool, databasePath: path)
    }

    /// The ledger the projection was built from, when it is bound to one.
    ///
    /// - Throws: ``ProjectionError`` `.readFailed`.
    public func boundLedger() throws -> LedgerIdentity? {
        try ProjectionError.wrapping(.readFailed, "reading projection_metadata failed") {
            try databasePool.read { db in try ProjectionMetadata.boundLedger(in: db) }
        }
    }

    /// The committed checkpoints: partition → next ledger sequence to apply.
    ///
    /// - Throws: ``ProjectionError`` `.readFailed`.
    public func checkpoints() throws -> [Int: UInt64] {
        try ProjectionError.wrapping(.readFailed, "reading projection_checkpoints failed") {
            try databasePool.read { db in try ProjectionLoader.checkpoints(in: db) }
        }
    }

    /// The number of rows in `proxy_request_logs` (distinct events projected).
    ///
    /// - Throws: ``ProjectionError`` `.readFailed`.
    public func requestLogCount() throws -> Int {
        try ProjectionError.wrapping(.readFailed, "counting proxy_request_logs failed") {
            try databasePool.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM proxy_request_logs") ?? 0
            }
        }
    }

    /// Usage totals over `proxy_request_logs`, read from one consistent snapshot.
    ///
    /// - Parameter since: Only events with `timestamp >= since` (half-open, UTC µs precision);
    ///   `nil` for all events.
    /// - Returns: The counts and byte sums (bytes; NULL byte counts add 0).
    /// - Throws: ``ProjectionError`` `.readFailed`.
    public func summary(since: LedgerTimestamp?) throws -> ProxyUsageSummary {
        // The (timestamp_us) index serves the range; labels come from the readable view.
        let lowerBound = since?.microseconds ?? Int64.min
        let view = ProjectionSchema.readableView
        return try ProjectionError.wrapping(.readFailed, "computing the usage summary failed") {
            try databasePool.read { db in
                let totals = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*), COALESCE(SUM(success), 0), COALESCE(SUM(estimated_bytes), 0),
                               COALESCE(SUM(request_bytes), 0), COALESCE(SUM(response_bytes), 0)
                        FROM proxy_request_logs WHERE timestamp_us >= ?
                        """,
                    arguments: [lowerBound]
                )
                var summary = ProxyUsageSummary(since: since)
                if let totals {
                    summary.totalRequests = totals[0]
                    summary.successfulRequests = totals[1]
                    summary.failedRequests = summary.totalRequests - summary.successfulRequests
                    summary.bandwidthBytes = totals[2]
                    summary.requestBytes = totals[3]
                    summary.responseBytes = totals[4]
                }
                let components = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT component, COUNT(*) FROM \(view)
                        WHERE timestamp_us >= ? GROUP BY component
                        """,
                    arguments: [lowerBound]
                )
                while let row = try components.next() {
                    summary.byComponent[row[0]] = row[1]
                }
                let errors = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT error_type, COUNT(*) FROM \(view)
                        WHERE timestamp_us >= ? AND error_type IS NOT NULL GROUP BY error_type
                        """,
                    arguments: [lowerBound]
                )
                while let row = try errors.next() {
                    summary.byErrorType[row[0]] = row[1]
                }
                return summary
            }
        }
    }

    /// Closes every connection. Further use throws. A store opened for writing first checkpoints
    /// the write-ahead log into the main file (`wal_checkpoint(TRUNCATE)`), so that a copy of the
    /// `.sqlite` file alone holds every committed row; when a reader in another process keeps the
    /// log busy, the rows stay in `-wal`, where SQLite still finds them.
    ///
    /// - Throws: ``ProjectionError`` `.openFailed` when a connection cannot close (a statement is
    ///   still in use).
    public func close() throws {
        if access == .readWrite {
            _ = try? databasePool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        }
        try ProjectionError.wrapping(.openFailed, "closing the projection database \(path) failed") {
            try databasePool.close()
        }
    }
}
