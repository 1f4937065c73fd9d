import Foundation
import GRDB
import Ledger
import Projections

extension VendorUsageStore {
    /// One import in progress, fed one record at a time so that a file of any size can be stored
    /// without holding its records.
    ///
    /// ``add(_:)`` groups the records in `[from, to)` into identical records per instant in a
    /// temporary table of the database's connection (a file SQLite deletes on close; writing it
    /// locks nothing in the database itself); ``commit(utcOffsetSeconds:)`` then replaces the
    /// stored points inside the import's span in one transaction, as
    /// ``VendorUsageStore/saveReportingChange(_:databasePath:from:to:utcOffsetSeconds:)`` does.
    /// Nothing is stored before `commit`; an import dropped without it stores nothing.
    public final class Import {
        /// Where the figures come from.
        public let source: VendorSource
        /// The projection database (created if missing, when the first record in the window is staged).
        public let databasePath: String
        /// Window start, UTC µs, inclusive.
        public let from: Int64
        /// Window end, UTC µs, exclusive.
        public let to: Int64
        private var store: ProjectionStore?
        private var pending: [StagedPoints.Key] = []
        private static let batch = 8_192

        /// Starts an import; the database is not opened until a record in the window is staged.
        public init(source: VendorSource, databasePath: String, from: Int64, to: Int64) {
            self.source = source
            self.databasePath = databasePath
            self.from = from
            self.to = to
        }

        deinit { try? store?.close() }

        /// Stages `record` when its time is in `[from, to)`; ignores it otherwise.
        ///
        /// - Throws: ``ReconciliationError`` `.outOfRange` when it has negative bytes or an
        ///   impossible time; `.storageFailed` when SQLite fails.
        public func add(_ record: VendorRecord) throws(ReconciliationError) {
            let time = record.timestamp.microseconds
            guard (from..<to).contains(time) else { return }
            guard record.bytes >= 0, (record.requestBytes ?? 0) >= 0, (record.responseBytes ?? 0) >= 0,
                StagedPoints.times.contains(time)
            else {
                throw ReconciliationError(
                    .outOfRange,
                    "a vendor record at \(record.timestamp.rfc3339) has negative bytes or an impossible time")
            }
            pending.append(
                StagedPoints.Key(
                    time: time, bytes: record.bytes, request: record.requestBytes, response: record.responseBytes))
            if pending.count >= Self.batch { try flush() }
        }

        /// Stores the staged points and recomputes the hourly and daily rows they touch, in one
        /// transaction; see ``VendorUsageStore`` for what an import replaces.
        ///
        /// - Parameter utcOffsetSeconds: The offset days are aligned to, in seconds east of UTC.
        /// - Returns: What the import changed; an empty change when no record was in the window.
        /// - Throws: ``ReconciliationError`` `.outOfRange` when a sum does not fit in Int64
        ///   (nothing is stored); `.storageFailed` when SQLite fails.
        public func commit(utcOffsetSeconds: Int = 0) throws(ReconciliationError) -> Change {
            try flush()
            let empty = Change(
                span: nil, before: Tally(records: 0, bytes: 0), after: Tally(records: 0, bytes: 0), rowsWritten: 0)
            guard let store else { return empty }
            defer {
                try? store.close()
                self.store = nil
            }
            let source = source
            return try storing {
                try store.databasePool.write { db in
                    guard let span = try StagedPoints.span(in: db) else { return empty }
                    return try VendorUsageStore.replace(source, span: span, utcOffsetSeconds: utcOffsetSeconds, in: db)
                }
            }
        }

        /// Writes the pending records into the temporary table, opening the database first if needed.
        private func flush() throws(ReconciliationError) {
            guard !pending.isEmpty else { return }
            let keys = pending
            pending.removeAll(keepingCapacity: true)
            let path = databasePath
            try storing {
                // The temporary table lives on the pool's one writer connection.
                let store = try self.store ?? ProjectionStore(path: path)
                if self.store == nil {
                    self.store = store
                    try store.databasePool.writeWithoutTransaction { db in try db.execute(sql: StagedPoints.schema) }
                }
                try store.databasePool.write { db in try StagedPoints.stage(keys, in: db) }
            }
        }

        /// Runs `body`, turning its errors into ``ReconciliationError``.
        private func storing<T>(_ body: () throws -> T) throws(ReconciliationError) -> T {
            do {
                return try body()
            } catch let error as ReconciliationError {
                throw error
            } catch let error as DatabaseError where error.message?.contains("integer overflow") == true {
                throw ReconciliationError(
                    .outOfRange,
                    "the stored vendor bytes of \(source.rawValue) add up to more than Int64.max; nothing was stored")
            } catch {
                throw ReconciliationError(.storageFailed, "writing vendor usage to \(databasePath) failed: \(error)")
            }
        }
    }
}

/// The staged records of one import (`temp.staged_points`): identical records of one instant
/// counted in one row, and how they replace the stored `vendor_usage_points`.
enum StagedPoints {
    /// One record's instant (UTC µs) and sizes (bytes).
    struct Key: Hashable {
        var time: Int64
        var bytes: Int64
        var request: Int64?
        var response: Int64?
    }

    /// The instants accepted, UTC µs: years 0001 to 9999 (bucket arithmetic cannot overflow).
    static let times: ClosedRange<Int64> = -62_135_596_800_000_000...253_402_300_799_999_999

    /// The temporary table, in a temporary file (not memory). A missing size is stored as -1,
    /// so that the key has no NULLs.
    static let schema = """
        PRAGMA temp_store = FILE;
        CREATE TEMP TABLE IF NOT EXISTS staged_points (
            time_us INTEGER NOT NULL,
            bytes INTEGER NOT NULL,
            request_bytes INTEGER NOT NULL,
            response_bytes INTEGER NOT NULL,
            records INTEGER NOT NULL,
            PRIMARY KEY (time_us, bytes, request_bytes, response_bytes)
        ) WITHOUT ROWID;
        """

    /// Counts `keys` into the temporary table.
    static func stage(_ keys: [Key], in db: Database) throws {
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO temp.staged_points (time_us, bytes, request_bytes, response_bytes, records)
                VALUES (?, ?, ?, ?, 1)
                ON CONFLICT (time_us, bytes, request_bytes, response_bytes) DO UPDATE SET records = records + 1
                """)
        for key in keys {
            try upsert.execute(arguments: [key.time, key.bytes, key.request ?? -1, key.response ?? -1])
        }
    }

    /// `[first staged time, last staged time]`, UTC µs; `nil` when nothing is staged.
    static func span(in db: Database) throws -> ClosedRange<Int64>? {
        let row = try Row.fetchOne(db, sql: "SELECT MIN(time_us), MAX(time_us) FROM temp.staged_points")
        guard let lower: Int64 = row?[0], let upper: Int64 = row?[1] else { return nil }
        return lower...upper
    }

    /// Replaces the stored points of `source` inside `span` with the staged ones. With
    /// `mergingEnds`, points at the span's two end instants are kept and only topped up to this
    /// import's count per key (see ``VendorUsageStore``).
    ///
    /// - Throws: ``ReconciliationError`` `.outOfRange` when a row's bytes pass Int64.max;
    ///   `DatabaseError`.
    static func store(
        source: String, span: ClosedRange<Int64>, mergingEnds: Bool, importedAt: String, in db: Database
    ) throws {
        // Merging: only the instants strictly inside the span are replaced.
        let inside = mergingEnds ? "time_us > ? AND time_us < ?" : "time_us >= ? AND time_us <= ?"
        let bounds: StatementArguments = [span.lowerBound, span.upperBound]
        try db.execute(
            sql: "DELETE FROM vendor_usage_points WHERE source = ? AND \(inside)", arguments: [source] + bounds)
        let overflow = "? / records"
        if let time = try Int64.fetchOne(
            db,
            sql: """
                SELECT time_us FROM temp.staged_points WHERE \(inside)
                AND (bytes > \(overflow) OR request_bytes > \(overflow) OR response_bytes > \(overflow))
                ORDER BY time_us LIMIT 1
                """,
            arguments: bounds + [Int64.max, Int64.max, Int64.max])
        {
            throw tooLarge(time)
        }
        try db.execute(
            sql: """
                INSERT INTO vendor_usage_points (source, time_us, bytes, request_bytes, response_bytes, records, imported_at)
                SELECT ?, time_us, bytes * records,
                    CASE WHEN request_bytes < 0 THEN NULL ELSE request_bytes * records END,
                    CASE WHEN response_bytes < 0 THEN NULL ELSE response_bytes * records END, records, ?
                FROM temp.staged_points WHERE \(inside)
                """,
            arguments: [source, importedAt] + bounds)
        if mergingEnds { try topUpEnds(source: source, span: span, importedAt: importedAt, in: db) }
    }

    /// At the span's two end instants: per key, adds only the records this import has beyond
    /// those already stored.
    private static func topUpEnds(source: String, span: ClosedRange<Int64>, importedAt: String, in db: Database) throws
    {
        let ends: StatementArguments = [span.lowerBound, span.upperBound]
        var stored: [Key: Int64] = [:]
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT time_us, bytes, request_bytes, response_bytes, records FROM vendor_usage_points
                WHERE source = ? AND time_us IN (?, ?)
                """,
            arguments: [source] + ends)
        for row in rows {
            let records: Int64 = row[4]
            guard records > 0 else { continue }
            let request: Int64? = row[2]
            let response: Int64? = row[3]
            let key = Key(
                time: row[0], bytes: row[1] / records, request: request.map { $0 / records },
                response: response.map { $0 / records })
            stored[key, default: 0] += records
        }
        let staged = try Row.fetchAll(
            db,
            sql: """
                SELECT time_us, bytes, request_bytes, response_bytes, records FROM temp.staged_points
                WHERE time_us IN (?, ?)
                """,
            arguments: ends)
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO vendor_usage_points (source, time_us, bytes, request_bytes, response_bytes, records, imported_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        for row in staged {
            let (request, response): (Int64, Int64) = (row[2], row[3])
            let key = Key(
                time: row[0], bytes: row[1], request: request < 0 ? nil : request,
                response: response < 0 ? nil : response)
            let added = (row[4] as Int64) - (stored[key] ?? 0)
            guard added > 0 else { continue }
            func total(_ size: Int64) throws(ReconciliationError) -> Int64 {
                let (product, overflow) = size.multipliedReportingOverflow(by: added)
                guard !overflow else { throw tooLarge(key.time) }
                return product
            }
            try insert.execute(arguments: [
                source, key.time, try total(key.bytes), try key.request.map(total), try key.response.map(total), added,
                importedAt,
            ])
        }
    }

    private static func tooLarge(_ time: Int64) -> ReconciliationError {
        let instant = LedgerTimestamp(microseconds: time).rfc3339
        return ReconciliationError(.outOfRange, "the vendor bytes at \(instant) add up to more than Int64.max")
    }
}
