import GRDB
import Ledger

/// Progress of a replay or rebuild, reported after each committed transaction.
public struct ReplayProgress: Sendable, Hashable {
    /// The partition being replayed.
    public var partition: Int
    /// Records read from the ledger so far, over all partitions.
    public var eventsRead: Int
    /// Records inserted so far, over all partitions.
    public var eventsApplied: Int
    /// The committed checkpoint of ``partition``: the next sequence to apply.
    public var nextSequence: UInt64
}

/// The outcome of a replay or rebuild.
public struct ReplayResult: Sendable, Hashable {
    /// Records read from the ledger at or after each partition's checkpoint.
    public var eventsRead: Int
    /// Records inserted into `proxy_request_logs`.
    public var eventsApplied: Int
    /// Records skipped because their `event_id` was already stored (`eventsRead - eventsApplied`).
    public var duplicatesSkipped: Int
    /// Per partition, the committed checkpoint afterwards: the next sequence to apply.
    public var nextSequences: [Int: UInt64]
    /// `true` when ``Projector/replay(from:batchSize:progress:)`` stopped at a transaction
    /// boundary because its task was cancelled; a later replay resumes from the checkpoints.
    public var stoppedEarly = false

    /// Creates a result (for callers that report a replay they did not run: all zero by default).
    public init(
        eventsRead: Int = 0, eventsApplied: Int = 0, duplicatesSkipped: Int = 0, nextSequences: [Int: UInt64] = [:],
        stoppedEarly: Bool = false
    ) {
        self.eventsRead = eventsRead
        self.eventsApplied = eventsApplied
        self.duplicatesSkipped = duplicatesSkipped
        self.nextSequences = nextSequences
        self.stoppedEarly = stoppedEarly
    }
}

/// The replay loop shared by ``Projector/replay(from:batchSize:progress:)`` and rebuild.
enum ReplayEngine {
    /// Default records per write transaction.
    static let defaultBatchSize = 10_000

    /// Applies the records of every partition of `source` at or after that partition's
    /// checkpoint, `batchSize` records per transaction. `keyedRollup: false` skips
    /// `proxy_usage_hourly_by_key` (a rebuild fills it after the load). With
    /// `stopsWhenCancelled`, a cancelled task stops after the current transaction
    /// (``ReplayResult/stoppedEarly``); a rebuild never stops half-way. With `deferredRollup`,
    /// `proxy_usage_hourly` is summed in memory over the whole replay and written once after the
    /// last batch (a rebuild, whose file is thrown away on any failure).
    ///
    /// The projection is bound to the source's ledger first (``ProjectionStore/bind(to:)``).
    ///
    /// - Throws: ``ProjectionError`` `.ledgerMismatch` before anything is applied when the
    ///   projection was built from another ledger; `.ledgerReadFailed` when the source fails (after the records
    ///   read before the failure were applied and checkpointed), `.writeFailed` or
    ///   `.invalidRecord` from ``ProjectionLoader``. Transactions committed before the error stay.
    static func replay(
        from source: some LedgerRecordSource,
        into writer: some DatabaseWriter,
        batchSize: Int,
        keyedRollup: Bool = true,
        deferredRollup: Bool = false,
        stopsWhenCancelled: Bool = false,
        progress: ((ReplayProgress) -> Void)?
    ) throws -> ReplayResult {
        let limit = max(1, batchSize)
        try bind(source, into: writer, databasePath: writer.path)
        let checkpoints = try ProjectionError.wrapping(.readFailed, "reading projection_checkpoints failed") {
            try writer.read { db in try ProjectionLoader.checkpoints(in: db) }
        }
        let partitions = try ProjectionError.wrapping(.ledgerReadFailed, "listing ledger partitions failed") {
            try source.partitions()
        }
        var result = ReplayResult(eventsRead: 0, eventsApplied: 0, duplicatesSkipped: 0, nextSequences: checkpoints)
        var buffer: [LedgerRecord] = []
        buffer.reserveCapacity(limit)
        var hourly = ProjectionLoader.HourlyRollup()
        for partition in partitions {
            let start = checkpoints[partition] ?? 0
            func flush() throws {
                guard !buffer.isEmpty else { return }
                let outcome = try writer.write { db in
                    deferredRollup
                        ? try ProjectionLoader.apply(buffer, in: db, keyedRollup: keyedRollup, hourly: &hourly)
                        : try ProjectionLoader.apply(buffer, in: db, keyedRollup: keyedRollup)
                }
                buffer.removeAll(keepingCapacity: true)
                result.eventsRead += outcome.read
                result.eventsApplied += outcome.applied
                for (key, next) in outcome.nextSequences where next > result.nextSequences[key] ?? 0 {
                    result.nextSequences[key] = next
                }
                progress?(
                    ReplayProgress(
                        partition: partition,
                        eventsRead: result.eventsRead,
                        eventsApplied: result.eventsApplied,
                        nextSequence: result.nextSequences[partition] ?? start
                    )
                )
                if stopsWhenCancelled, Task.isCancelled {
                    throw ProjectionError(code: .interrupted, message: "replay stopped: the task was cancelled")
                }
            }
            do {
                var readFailure: ProjectionError?
                do {
                    try ProjectionError.wrapping(.ledgerReadFailed, "reading ledger partition \(partition) failed") {
                        try source.scan(partition: partition, from: start) { batch in
                            for record in batch
                            where record.position.partition == partition && record.position.sequence >= start {
                                buffer.append(record)
                                if buffer.count >= limit {
                                    try flush()
                                }
                            }
                        }
                    }
                } catch let error as ProjectionError where error.code == .ledgerReadFailed {
                    readFailure = error
                }
                // Every good record before a bad frame is applied before the error is reported.
                try flush()
                if let readFailure { throw readFailure }
            } catch let error as ProjectionError where error.code == .interrupted {
                result.stoppedEarly = true
                break
            }
        }
        if deferredRollup {
            try writer.write { db in try ProjectionLoader.writeRollup(hourly, in: db) }
        }
        result.duplicatesSkipped = result.eventsRead - result.eventsApplied
        return result
    }

    /// Binds the projection in `writer` to `source`'s ledger; see ``ProjectionStore/bind(to:)``.
    static func bind(_ source: some LedgerRecordSource, into writer: some DatabaseWriter, databasePath: String) throws {
        let identity = try ProjectionError.wrapping(.ledgerReadFailed, "reading the ledger's id failed") {
            try source.ledgerIdentity()
        }
        guard let identity else { return }
        try ProjectionError.wrapping(.writeFailed, "binding the projection \(databasePath) to its ledger failed") {
            try writer.write { db in try ProjectionMetadata.bind(to: identity, databasePath: databasePath, in: db) }
        }
    }
}
