import GRDB
import Ledger

/// The staged records of one import (`temp.staged_points`): identical records of one instant
/// counted in one row, and how they replace the stored `vendor_usage_points`.
enum StagedPoints {
    typealias Key = VendorPoint

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
            try upsert.execute(arguments: [key.time, key.bytes, key.requestBytes ?? -1, key.responseBytes ?? -1])
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
    /// - Throws: ``ProjectionError`` `.valueOutOfRange` when a row's bytes pass Int64.max;
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
                time: row[0], bytes: row[1] / records, requestBytes: request.map { $0 / records },
                responseBytes: response.map { $0 / records })
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
                time: row[0], bytes: row[1], requestBytes: request < 0 ? nil : request,
                responseBytes: response < 0 ? nil : response)
            let added = (row[4] as Int64) - (stored[key] ?? 0)
            guard added > 0 else { continue }
            func total(_ size: Int64) throws(ProjectionError) -> Int64 {
                let (product, overflow) = size.multipliedReportingOverflow(by: added)
                guard !overflow else { throw tooLarge(key.time) }
                return product
            }
            try insert.execute(arguments: [
                source, key.time, try total(key.bytes), try key.requestBytes.map(total), try key.responseBytes.map(total), added,
                importedAt,
            ])
        }
    }

    private static func tooLarge(_ time: Int64) -> ProjectionError {
        let instant = LedgerTimestamp(microseconds: time).rfc3339
        return ProjectionError(code: .valueOutOfRange, message: "the vendor bytes at \(instant) add up to more than Int64.max")
    }
}

/// Derives `vendor_usage_hourly` and `vendor_usage_daily` from `vendor_usage_points`.
enum VendorBuckets {
    /// Deletes and recomputes `source`'s buckets of `grid` that `span` touches (hours: the hourly
    /// table, UTC; days: the daily table at the grid's offset), from every stored point in them.
    ///
    /// - Returns: The rows written.
    /// - Throws: `DatabaseError` (also SQLite's "integer overflow" when a sum passes Int64.max).
    static func rederive(
        _ grid: BucketGrid, source: String, span: ClosedRange<Int64>, importedAt: String, in db: Database
    ) throws -> Int {
        let size = grid.granularity.microseconds
        let first = grid.start(of: span.lowerBound)
        let end = grid.start(of: span.upperBound) + size
        let isDay = grid.granularity == .day
        let offsetText = BucketGrid.offsetText(grid.utcOffsetSeconds)
        if isDay {
            try db.execute(
                sql:
                    "DELETE FROM vendor_usage_daily WHERE source = ? AND utc_offset = ? AND day_start_us >= ? AND day_start_us < ?",
                arguments: [source, offsetText, first, end])
        } else {
            try db.execute(
                sql: "DELETE FROM vendor_usage_hourly WHERE source = ? AND hour_start_us >= ? AND hour_start_us < ?",
                arguments: [source, first, end])
        }
        // The bucket start in SQL: floor to `size` in local time (also before 1970), back to UTC.
        let offset = Int64(grid.utcOffsetSeconds) * 1_000_000
        let local = "(time_us + \(offset))"
        let sums = try Row.fetchAll(
            db,
            sql: """
                SELECT \(local) - ((\(local) % \(size)) + \(size)) % \(size) - \(offset) AS start, SUM(bytes),
                    CASE WHEN COUNT(request_bytes) = COUNT(*) THEN SUM(request_bytes) END,
                    CASE WHEN COUNT(response_bytes) = COUNT(*) THEN SUM(response_bytes) END, SUM(records)
                FROM vendor_usage_points WHERE source = ? AND time_us >= ? AND time_us < ?
                GROUP BY start ORDER BY start
                """,
            arguments: [source, first, end])
        for row in sums {
            let start: Int64 = row[0]
            let values: [(any DatabaseValueConvertible)?] = [
                source, row[1] as Int64, row[2] as Int64?, row[3] as Int64?, row[4] as Int64, importedAt,
            ]
            if isDay {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO vendor_usage_daily (date, utc_offset, day_start_us, source, bytes,
                            request_bytes, response_bytes, records, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: StatementArguments([grid.label(of: start), offsetText, start] + values))
            } else {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO vendor_usage_hourly (hour_start, hour_start_us, utc_offset, source,
                            bytes, request_bytes, response_bytes, records, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: StatementArguments([LedgerTimestamp(microseconds: start).rfc3339, start, "Z"] + values))
            }
        }
        return sums.count
    }
}
