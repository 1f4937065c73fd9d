import Foundation
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
    /// The grouping columns of `proxy_usage_hourly`, the labels as `projection_labels` ids (no
    /// string hashing per event).
    fileprivate struct RollupKey: Hashable {
        var hourMicroseconds: Int64
        var component: Int64
        var operation: Int64
        var success: Bool
        /// `nil` for no error type (`''` in the table).
        var errorType: Int64?
        var proxied: Bool
    }

    /// `proxy_usage_hourly` sums gathered in memory: per batch, or over a whole rebuild, which
    /// writes them once after the load. Bounded by hours × label combinations, not by events.
    struct HourlyRollup {
        fileprivate var sums: [RollupKey: RollupSums] = [:]
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
        /// The last event added, named when the stored sum overflows.
        var last: EventReference?

        /// - Throws: ``ProjectionError`` `.invalidRecord` naming `record` when a sum overflows.
        mutating func add(_ bytes: Int64, of record: LedgerRecord) throws {
            let reference = EventReference(record)
            requests = try checkedSum(requests, 1, "requests", reference)
            estimatedBytes = try checkedSum(estimatedBytes, bytes, "estimated_bytes", reference)
            last = reference
        }
    }

    /// The summed columns of `proxy_usage_hourly` (bytes; NULL counts as 0).
    fileprivate struct RollupSums {
        var requests: Int64 = 0
        var requestBytes: Int64 = 0
        var responseBytes: Int64 = 0
        var estimatedBytes: Int64 = 0
        /// The last event added, named when the stored sum overflows.
        var last: EventReference?

        /// - Throws: ``ProjectionError`` `.invalidRecord` naming `record` when a sum overflows.
        mutating func add(_ record: LedgerRecord) throws {
            let event = record.event, reference = EventReference(record)
            requests = try checkedSum(requests, 1, "requests", reference)
            requestBytes = try checkedSum(requestBytes, event.requestBytes ?? 0, "request_bytes", reference)
            responseBytes = try checkedSum(responseBytes, event.responseBytes ?? 0, "response_bytes", reference)
            estimatedBytes = try checkedSum(estimatedBytes, event.estimatedBytes ?? 0, "estimated_bytes", reference)
            last = reference
        }
    }

    /// An event's id and ledger position, for error messages (no strings to retain per event).
    fileprivate struct EventReference {
        var eventID: UUID
        var position: LedgerPosition

        init(_ record: LedgerRecord) {
            eventID = record.event.eventID
            position = record.position
        }
    }

    /// `sum + value` without trapping.
    ///
    /// - Throws: ``ProjectionError`` `.invalidRecord` naming the event id, its ledger position and
    ///   `column` when the sum does not fit in Int64 (a poisoned ledger written before `append`
    ///   bounded byte counts to 10^12 bytes).
    private static func checkedSum(
        _ sum: Int64, _ value: Int64, _ column: String, _ event: EventReference
    ) throws -> Int64 {
        let (result, overflow) = sum.addingReportingOverflow(value)
        guard !overflow, value >= 0 else { throw overflowError(column, event) }
        return result
    }

    /// The error for a rollup sum that does not fit, or a negative count, naming the event.
    private static func overflowError(_ column: String, _ reference: EventReference?) -> ProjectionError {
        let event = reference.map { "event \(TextEncoding.lowercase($0.eventID)) at ledger position \($0.position)" }
        return ProjectionError(
            code: .invalidRecord,
            message: "\(event ?? "an event"): the hourly \(column) sum does not fit in a 64-bit integer (or the value "
                + "is negative); the ledger holds an impossible value"
        )
    }

    /// Inserts `records` (ignoring `event_id`s already stored), adds the inserted rows to the
    /// hourly rollups (`proxy_usage_hourly`, and `proxy_usage_hourly_by_key` for proxied ones),
    /// and advances the checkpoints of the partitions they come from.
    ///
    /// Every sum is checked: a rollup sum above Int64.max (or a negative count) is never wrapped
    /// or stored as a float.
    ///
    /// - Throws: ``ProjectionError`` `.invalidRecord` for a sequence above `Int64.max`, or naming
    ///   the event id and ledger position whose bytes make an hourly sum (in this batch or with the
    ///   stored row) exceed Int64.max; `.writeFailed` naming the ledger position whose insert
    ///   failed (CHECK constraint, I/O). The caller's transaction then rolls back.
    /// - Parameter keyedRollup: `false` leaves `proxy_usage_hourly_by_key` alone, for a rebuild
    ///   that fills it in one pass after the load (``ProjectionSchema/fillByKeyRollup(_:)``).
    static func apply(
        _ records: some Collection<LedgerRecord>, in db: Database, keyedRollup: Bool = true
    ) throws -> BatchOutcome {
        var rollup = HourlyRollup()
        let outcome = try apply(records, in: db, keyedRollup: keyedRollup, hourly: &rollup)
        try writeRollup(rollup, in: db)
        return outcome
    }

    /// ``apply(_:in:keyedRollup:)`` adding the `proxy_usage_hourly` sums of the inserted rows to
    /// `hourly` instead of writing them; write them with ``writeRollup(_:in:)`` in a later
    /// transaction of the same database (a rebuild does once, after its load).
    static func apply(
        _ records: some Collection<LedgerRecord>, in db: Database, keyedRollup: Bool, hourly rollup: inout HourlyRollup
    ) throws -> BatchOutcome {
        var inserter = try RequestLogInserter(db)
        var labels = try LabelDictionary(db)
        var outcome = BatchOutcome()
        let horizon = try Retention.horizon(in: db)
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
            var component: Int64 = 0, operation: Int64 = 0, errorType: Int64?
            do {
                if let horizon, microseconds < horizon, try Retention.wasPruned(TextEncoding.lowercase(event.eventID), in: db) {
                    inserted = false  // its row was pruned; it is a duplicate, not a new event
                } else {
                    component = try labels.id(.component, event.component, in: db)
                    operation = try labels.id(.operation, event.operation, in: db)
                    errorType = try event.errorType.map { try labels.id(.errorType, $0.rawValue, in: db) }
                    inserted = try inserter.insert(record, component: component, operation: operation, errorType: errorType)
                }
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
                component: component,
                operation: operation,
                success: event.success,
                errorType: errorType,
                proxied: event.proxied
            )
            try rollup.sums[key, default: RollupSums()].add(record)
            guard keyedRollup && event.proxied else { continue }
            let bytes = event.estimatedBytes ?? 0
            func count(_ kind: ProjectionSchema.KeyKind, _ name: String?) throws {
                guard let name else { return }
                try keyed[KeyedRollupKey(kind: kind, hourMicroseconds: hour, name: name), default: KeyedSums()]
                    .add(bytes, of: record)
            }
            try count(.job, event.jobID)
            try count(.channel, event.channelName)
            try count(.video, event.videoID)
        }
        try writeKeyedRollup(keyed, in: db)
        try writeCheckpoints(outcome.nextSequences, in: db)
        return outcome
    }

    /// Adds `rollup` to `proxy_usage_hourly` through one prepared upsert, the label ids resolved
    /// to their text.
    ///
    /// - Throws: ``ProjectionError`` `.writeFailed`, or `.invalidRecord` naming an event when a
    ///   stored sum plus the added one passes Int64.max.
    static func writeRollup(_ rollup: HourlyRollup, in db: Database) throws {
        guard !rollup.sums.isEmpty else { return }
        let labels = try LabelDictionary(db)
        func text(_ id: Int64?) throws -> String {
            guard let id else { return "" }
            guard let text = labels.text(of: id) else {
                throw ProjectionError(code: .writeFailed, message: "projection label \(id) is missing")
            }
            return text
        }
        let upsert = try db.cachedStatement(sql: ProjectionSchema.upsertHourlySQL)
        for (key, sums) in rollup.sums {
            upsert.setUncheckedArguments([
                TextEncoding.rfc3339(microseconds: key.hourMicroseconds), key.hourMicroseconds,
                try text(key.component), try text(key.operation), key.success, try text(key.errorType), key.proxied,
                sums.requests, sums.requestBytes, sums.responseBytes, sums.estimatedBytes,
            ])
            try ProjectionError.wrapping(.writeFailed, "updating proxy_usage_hourly failed") {
                try upsert.execute()
            }
            // The upsert skips its update when a stored sum plus this batch's would pass Int64.max.
            guard db.changesCount > 0 else { throw overflowError("byte or request", sums.last) }
        }
    }

    private static func writeKeyedRollup(_ keyed: [KeyedRollupKey: KeyedSums], in db: Database) throws {
        guard !keyed.isEmpty else { return }
        let upsert = try db.cachedStatement(sql: ProjectionSchema.upsertByKeySQL)
        for (key, sums) in keyed {
            upsert.setUncheckedArguments([
                key.kind.rawValue, key.hourMicroseconds,
                key.kind == .job ? TextEncoding.storedIdentifier(key.name) : key.name, sums.requests, sums.estimatedBytes,
            ])
            try ProjectionError.wrapping(.writeFailed, "updating proxy_usage_hourly_by_key failed") {
                try upsert.execute()
            }
            guard db.changesCount > 0 else { throw overflowError("per-key byte or request", sums.last) }
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
