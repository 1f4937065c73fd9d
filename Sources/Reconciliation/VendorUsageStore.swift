import Foundation
import GRDB
import Ledger

/// Persists imported vendor figures into the projection database, so that reports can show ours
/// against theirs per day or hour.
///
/// Tables (created with `CREATE TABLE IF NOT EXISTS` on first import, outside the projection's
/// migrator, because reports treat their presence as "vendor figures were imported"; a projection
/// rebuild copies them into the fresh file before the swap, see `Projector.rebuild`):
///
/// - `vendor_usage_daily(date TEXT, utc_offset TEXT, day_start_us INTEGER, source TEXT,
///   bytes INTEGER, request_bytes INTEGER, response_bytes INTEGER, records INTEGER,
///   imported_at TEXT, PRIMARY KEY (date, utc_offset, source))`: `date` is the calendar day
///   `YYYY-MM-DD` at `utc_offset` (`Z` for UTC, else `±HH:MM`); `day_start_us` is that day's
///   start in UTC µs.
/// - `vendor_usage_hourly(hour_start TEXT, hour_start_us INTEGER, utc_offset TEXT, source TEXT,
///   bytes INTEGER, request_bytes INTEGER, response_bytes INTEGER, records INTEGER,
///   imported_at TEXT, PRIMARY KEY (hour_start_us, source))`: `hour_start` is RFC 3339 UTC.
///
/// `source` is a ``VendorSource`` raw value. Bytes are bytes; `request_bytes` and
/// `response_bytes` are NULL when the source does not split directions. `imported_at` is
/// RFC 3339 UTC. Re-importing replaces a bucket's row (the last import of a source wins), so
/// importing the same file twice changes nothing.
public enum VendorUsageStore {
    /// The DDL, run before every write.
    static let schema = """
        CREATE TABLE IF NOT EXISTS vendor_usage_daily (
            date TEXT NOT NULL,
            utc_offset TEXT NOT NULL,
            day_start_us INTEGER NOT NULL,
            source TEXT NOT NULL,
            bytes INTEGER NOT NULL CHECK (bytes >= 0),
            request_bytes INTEGER,
            response_bytes INTEGER,
            records INTEGER NOT NULL,
            imported_at TEXT NOT NULL,
            PRIMARY KEY (date, utc_offset, source)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS vendor_usage_hourly (
            hour_start TEXT NOT NULL,
            hour_start_us INTEGER NOT NULL,
            utc_offset TEXT NOT NULL,
            source TEXT NOT NULL,
            bytes INTEGER NOT NULL CHECK (bytes >= 0),
            request_bytes INTEGER,
            response_bytes INTEGER,
            records INTEGER NOT NULL,
            imported_at TEXT NOT NULL,
            PRIMARY KEY (hour_start_us, source)
        ) WITHOUT ROWID;
        """

    private static var configuration: Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)  // seconds; the projector may hold the write lock
        return configuration
    }

    /// One stored bucket.
    public struct Row: Sendable, Hashable {
        /// `date` (daily) or `hour_start` (hourly).
        public var key: String
        /// The source's raw value.
        public var source: String
        /// Bytes, both directions.
        public var bytes: Int64
        /// Records summed.
        public var records: Int
    }

    /// Writes the hourly and daily sums of `vendor`'s records in `[from, to)` in one transaction.
    ///
    /// - Parameters:
    ///   - vendor: The imported figures.
    ///   - databasePath: The projection database (created if missing).
    ///   - from: Window start, UTC µs, inclusive.
    ///   - to: Window end, UTC µs, exclusive.
    ///   - utcOffsetSeconds: The offset days are aligned to.
    /// - Returns: The number of rows written (hourly plus daily).
    /// - Throws: ``ReconciliationError`` `.storageFailed` when SQLite fails.
    @discardableResult
    public static func save(
        _ vendor: VendorImport, databasePath: String, from: Int64, to: Int64, utcOffsetSeconds: Int = 0
    ) throws(ReconciliationError) -> Int {
        let offset = BucketGrid.offsetText(utcOffsetSeconds)
        let importedAt = LedgerTimestamp.now.rfc3339
        let records = vendor.records.filter { (from..<to).contains($0.timestamp.microseconds) }
        do {
            let queue = try DatabaseQueue(path: databasePath, configuration: configuration)
            defer { try? queue.close() }
            return try queue.write { db in
                try db.execute(sql: schema)
                var written = 0
                for granularity in Granularity.allCases {
                    let grid = BucketGrid(granularity, utcOffsetSeconds: granularity == .day ? utcOffsetSeconds : 0)
                    var sums: [Int64: (bytes: Int64, request: Int64?, response: Int64?, records: Int)] = [:]
                    for record in records {
                        var sum = sums[grid.start(of: record.timestamp.microseconds)] ?? (0, 0, 0, 0)
                        sum.bytes += record.bytes
                        sum.request = sum.request.flatMap { total in record.requestBytes.map { total + $0 } }
                        sum.response = sum.response.flatMap { total in record.responseBytes.map { total + $0 } }
                        sum.records += 1
                        sums[grid.start(of: record.timestamp.microseconds)] = sum
                    }
                    for (start, sum) in sums {
                        if granularity == .day {
                            try db.execute(
                                sql: """
                                    INSERT OR REPLACE INTO vendor_usage_daily (date, utc_offset, day_start_us, source, bytes,
                                        request_bytes, response_bytes, records, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                                    """,
                                arguments: [
                                    grid.label(of: start), offset, start, vendor.source.rawValue, sum.bytes, sum.request,
                                    sum.response, sum.records, importedAt,
                                ])
                        } else {
                            try db.execute(
                                sql: """
                                    INSERT OR REPLACE INTO vendor_usage_hourly (hour_start, hour_start_us, utc_offset, source,
                                        bytes, request_bytes, response_bytes, records, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                                    """,
                                arguments: [
                                    LedgerTimestamp(microseconds: start).rfc3339, start, "Z", vendor.source.rawValue, sum.bytes,
                                    sum.request, sum.response, sum.records, importedAt,
                                ])
                        }
                        written += 1
                    }
                }
                return written
            }
        } catch {
            throw ReconciliationError(.storageFailed, "writing vendor usage to \(databasePath) failed: \(error)")
        }
    }

    /// Reads the stored daily rows, ordered by date and source.
    ///
    /// - Parameters:
    ///   - databasePath: The projection database.
    ///   - utcOffsetSeconds: Which alignment to read. Default 0 (UTC days).
    /// - Throws: ``ReconciliationError`` `.storageFailed` when SQLite fails.
    public static func dailyRows(databasePath: String, utcOffsetSeconds: Int = 0) throws(ReconciliationError) -> [Row] {
        do {
            let queue = try DatabaseQueue(path: databasePath, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in
                try GRDB.Row.fetchAll(
                    db, sql: "SELECT date, source, bytes, records FROM vendor_usage_daily WHERE utc_offset = ? ORDER BY date, source",
                    arguments: [BucketGrid.offsetText(utcOffsetSeconds)]
                ).map { Row(key: $0[0], source: $0[1], bytes: $0[2], records: $0[3]) }
            }
        } catch {
            throw ReconciliationError(.storageFailed, "reading vendor_usage_daily from \(databasePath) failed: \(error)")
        }
    }
}
