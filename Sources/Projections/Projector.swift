import GRDB
public import Ledger

/// Turns ledger records into projection rows: `proxy_request_logs`, the hourly rollup and the
/// checkpoints, all written in one transaction per batch.
///
/// Applying is idempotent: an `event_id` that is already stored is skipped, and only inserted
/// rows count in `proxy_usage_hourly`. Use one projector (one writer) per database.
///
/// ```swift
/// let projector = Projector(store: try ProjectionStore(path: "proxy-ledger.sqlite"))
/// let result = try projector.replay(from: try LedgerReader(directory: "ledger"), progress: nil)
/// ```
public struct Projector: Sendable {
    /// The database written to.
    public let store: ProjectionStore

    /// Creates a projector writing to `store`.
    ///
    /// - Parameter store: The projection database.
    public init(store: ProjectionStore) {
        self.store = store
    }

    /// Applies `records` in one transaction: inserts new events, adds them to the hourly rollup,
    /// and advances the checkpoint of each partition to one past its highest sequence in
    /// `records`. Either all of this commits or nothing does.
    ///
    /// - Parameter records: Records in any order; duplicates (by `event_id`) are skipped.
    /// - Returns: The number of rows inserted.
    /// - Throws: ``ProjectionError`` `.writeFailed` (a CHECK constraint such as a negative
    ///   `duration_ms`, or an I/O error) or `.invalidRecord`; nothing was written.
    @discardableResult
    public func apply(_ records: [LedgerRecord]) throws -> Int {
        try ProjectionError.wrapping(.writeFailed, "applying \(records.count) records failed") {
            try store.databasePool.write { db in try ProjectionLoader.apply(records, in: db).applied }
        }
    }

    /// Applies every ledger event after the checkpoint of its partition.
    ///
    /// - Parameters:
    ///   - reader: The ledger, read ahead on a thread of its own (``PrefetchingRecordSource``).
    ///   - progress: Called after each committed transaction.
    /// - Returns: Counts and the per-partition checkpoints afterwards.
    /// - Throws: ``ProjectionError`` `.ledgerReadFailed` wrapping the `LedgerError`, `.writeFailed`,
    ///   `.invalidRecord`. Transactions committed before the error stay, so a retry resumes.
    @discardableResult
    public func replay(from reader: LedgerReader, progress: ((ReplayProgress) -> Void)? = nil) throws -> ReplayResult {
        try replay(from: PrefetchingRecordSource(reader), batchSize: ReplayEngine.defaultBatchSize, progress: progress)
    }

    /// Applies every record of `source` after the checkpoint of its partition, `batchSize`
    /// records per transaction (memory stays at about one batch).
    ///
    /// - Parameters:
    ///   - source: The records, for example a `LedgerReader`.
    ///   - batchSize: Records per write transaction (default 10,000).
    ///   - progress: Called after each committed transaction.
    /// - Returns: Counts and the per-partition checkpoints afterwards; when the calling task is
    ///   cancelled, the replay stops after the current transaction with
    ///   ``ReplayResult/stoppedEarly`` set (the next replay resumes there).
    /// - Throws: ``ProjectionError`` `.ledgerReadFailed`, `.writeFailed`, `.invalidRecord`.
    @discardableResult
    public func replay(
        from source: some LedgerRecordSource,
        batchSize: Int = 10_000,
        progress: ((ReplayProgress) -> Void)? = nil
    ) throws -> ReplayResult {
        try ReplayEngine.replay(
            from: source, into: store.databasePool, batchSize: batchSize, stopsWhenCancelled: true, progress: progress)
    }
}
