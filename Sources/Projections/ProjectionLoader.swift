import GRDB
import Ledger

/// What one applied batch did.
struct BatchOutcome {
    /// Records in the batch.
    var read = 0
    /// Records whose row was inserted (the others were duplicates of a stored `event_id`).
    var applied = 0
    /// Per partition, one past the highest sequence in the batch.
    var nextSequences: [Int: UInt64] = [:]
}

/// The bulk write path shared by ``Projector/apply(_:)``, replay and rebuild.
///
/// Must run inside a write transaction: rows, rollup sums and checkpoints of a batch commit or
/// roll back together. Statements are prepared once per connection (`cachedStatement`), rollup
/// sums are aggregated in memory and written once per group per batch.
enum ProjectionLoader {
    /// The grouping columns of `proxy_usage_hourly`.
    private struct RollupKey: Hashable {
        var hourMicroseconds: Int64
        var component: String
        var operation: String
        var success: Bool
        var errorType: String
        var proxied: Bool
    }

    /// The grouping columns of `proxy_usage_hourly_by_key`.
    private struct KeyedRollupKey: Hashable {
        var kind: ProjectionSchema.KeyKind
        var hourMicroseconds: Int64
        var name: String
    }

    /// The summed columns of `proxy_usage_hourly_by_key` (bytes; NULL counts as 0).
    private struct KeyedSums {
        var requests: Int64 = 0
        var estimatedBytes: Int64 = 0

        mutating func add(_ bytes: Int64) {
            requests += 1
            estimatedBytes += bytes
        }
    }

    /// The summed columns of `proxy_usage_hourly` (bytes; NULL counts as 0).
    private struct RollupSums {
        var requests: Int64 = 0
        var requestBytes: Int64 = 0
        var responseBytes: Int64 = 0
        var estimatedBytes: Int64 = 0

        mutating func add(_ event: ProxyRequestEvent) {
            requests += 1
            requestBytes += event.requestBytes ?? 0
            responseBytes += event.responseBytes ?? 0
            estimatedBytes += event.estimatedBytes ?? 0
        }
    }

    /// Inserts `records` (ignoring `event_id`s already stored), adds the inserted rows to the
    /// hourly rollups (`proxy_usage_hourly`, and `proxy_usage_hourly_by_key` for proxied ones),
    /// and advances the checkpoints of the partitions they come from.
    ///
    /// - Throws: ``ProjectionError`` `.invalidRecord` for a sequence above `Int64.max`,
    ///   `.writeFailed` naming the ledger position whose insert failed (CHECK constraint, I/O).
    /// - Parameter keyedRollup: `false` leaves `proxy_usage_hourly_by_key` alone, for a rebuild
    ///   that fills it in one pass after the load (``ProjectionSchema/fillByKeyRollup(_:)``).
    static func apply(
        _ records: some Collection<LedgerRecord>, in db: Database, keyedRollup: Bool = true
    ) throws -> BatchOutcome {
        var inserter = try RequestLogInserter(db)
        var outcome = BatchOutcome()
        var rollup: [RollupKey: RollupSums] = [:]
        var keyed: [KeyedRollupKey: KeyedSums] = [:]
        for record in records {
            let position = record.position
            guard position.sequence < UInt64(Int64.max) else {
                throw ProjectionError(
                    code: .invalidRecord,
                    message: "ledger position \(position) has a sequence above Int64.max"
                )
            }
            let event = record.event
            let microseconds = event.timestamp.microseconds
            let inserted: Bool
            do {
                inserted = try inserter.insert(record)
            } catch {
                throw ProjectionError(
                    code: .writeFailed,
                    message: "inserting the event at ledger position \(position) failed",
                    underlying: String(describing: error)
                )
            }
            outcome.read += 1
            let next = position.sequence + 1
            if next > outcome.nextSequences[position.partition] ?? 0 {
                outcome.nextSequences[position.partition] = next
            }
            guard inserted else { continue }
            outcome.applied += 1
            let hour = TextEncoding.hourStart(microseconds: microseconds)
            let key = RollupKey(
                hourMicroseconds: hour,
                component: event.component,
                operation: event.operation,
                success: event.success,
                errorType: event.errorType?.rawValue ?? "",
                proxied: event.proxied
            )
            rollup[key, default: RollupSums()].add(event)
            guard keyedRollup && event.proxied else { continue }
            let bytes = event.estimatedBytes ?? 0
            func count(_ kind: ProjectionSchema.KeyKind, _ name: String?) {
                guard let name else { return }
                keyed[KeyedRollupKey(kind: kind, hourMicroseconds: hour, name: name), default: KeyedSums()].add(bytes)
            }
            count(.job, event.jobID)
            count(.channel, event.channelName)
            count(.video, event.videoID)
        }
        try writeRollup(rollup, in: db)
        try writeKeyedRollup(keyed, in: db)
        try writeCheckpoints(outcome.nextSequences, in: db)
        return outcome
    }

    private static func writeRollup(_ rollup: [RollupKey: RollupSums], in db: Database) throws {
        guard !rollup.isEmpty else { return }
        let upsert = try db.cachedStatement(sql: ProjectionSchema.upsertHourlySQL)
        for (key, sums) in rollup {
            upsert.setUncheckedArguments([
                TextEncoding.rfc3339(microseconds: key.hourMicroseconds), key.hourMicroseconds,
                key.component, key.operation, key.success, key.errorType, key.proxied,
                sums.requests, sums.requestBytes, sums.responseBytes, sums.estimatedBytes,
            ])
            try ProjectionError.wrapping(.writeFailed, "updating proxy_usage_hourly failed") {
                try upsert.execute()
            }
        }
    }

    private static func writeKeyedRollup(_ keyed: [KeyedRollupKey: KeyedSums], in db: Database) throws {
        guard !keyed.isEmpty else { return }
        let upsert = try db.cachedStatement(sql: ProjectionSchema.upsertByKeySQL)
        for (key, sums) in keyed {
            upsert.setUncheckedArguments([
                key.kind.rawValue, key.hourMicroseconds, key.name, sums.requests, sums.estimatedBytes,
            ])
            try ProjectionError.wrapping(.writeFailed, "updating proxy_usage_hourly_by_key failed") {
                try upsert.execute()
            }
        }
    }

    private static func writeCheckpoints(_ nextSequences: [Int: UInt64], in db: Database) throws {
        guard !nextSequences.isEmpty else { return }
        let upsert = try db.cachedStatement(sql: ProjectionSchema.upsertCheckpointSQL)
        for (partition, next) in nextSequences {
            upsert.setUncheckedArguments([partition, Int64(next)])
            try ProjectionError.wrapping(.writeFailed, "advancing the checkpoint of partition \(partition) failed") {
                try upsert.execute()
            }
        }
    }

    /// Reads `projection_checkpoints`: partition → next sequence to apply.
    static func checkpoints(in db: Database) throws -> [Int: UInt64] {
        var result: [Int: UInt64] = [:]
        let rows = try Row.fetchCursor(db, sql: #"SELECT "partition", next_sequence FROM projection_checkpoints"#)
        while let row = try rows.next() {
            let next: Int64 = row[1]
            result[row[0]] = UInt64(max(0, next))
        }
        return result
    }
}
