import Foundation
import Ledger
public import Projections

/// Persists imported vendor figures into the projection database, so that reports can show ours
/// against theirs per day or hour.
///
/// **Import semantics.** An import replaces what the store holds for the same source only inside
/// the import's own time span, `[first record time, last record time]` (UTC µs, both ends
/// included), and keeps everything outside it. So importing the same file twice changes nothing;
/// a growing log imported again later replaces its earlier import; the two halves of a rotated
/// log (`access.log.1`, then `access.log`, in either order) are both kept and summed; and an
/// export of a later range keeps the earlier hours. Hour-grained sources (Webshare stats) store
/// one point per hour, and their span is replaced outright, since an hour still in progress
/// grows between fetches. For per-request sources the two instants at the ends of the span are
/// merged rather than replaced, so that a rotation inside one millisecond loses nothing: per
/// identical record (time, bytes, request and response bytes) the store keeps the larger of the
/// stored and the imported count. (Two identical records in the same µs, one in each file, then
/// count once.) ``Import`` takes an import one record at a time (staged in a temporary table,
/// not in memory), so that a log of any size is stored with flat memory.
///
/// Tables (created by the projection's migrator, migration `v6`, in module Projections; a
/// projection rebuild copies their rows into the fresh file before the swap):
///
/// - `vendor_usage_points(source TEXT, time_us INTEGER, bytes INTEGER, request_bytes INTEGER,
///   response_bytes INTEGER, records INTEGER, imported_at TEXT)`, indexed on `(source, time_us)`:
///   the figures as imported. One row holds `records` identical records of one instant `time_us`
///   (UTC µs; a stats hour's start) and their summed bytes.
/// - `vendor_usage_daily(date TEXT, utc_offset TEXT, day_start_us INTEGER, source TEXT,
///   bytes INTEGER, request_bytes INTEGER, response_bytes INTEGER, records INTEGER,
///   imported_at TEXT, PRIMARY KEY (date, utc_offset, source))`: `date` is the calendar day
///   `YYYY-MM-DD` at `utc_offset` (`Z` for UTC, else `±HH:MM`); `day_start_us` is that day's
///   start in UTC µs.
/// - `vendor_usage_hourly(hour_start TEXT, hour_start_us INTEGER, utc_offset TEXT, source TEXT,
///   bytes INTEGER, request_bytes INTEGER, response_bytes INTEGER, records INTEGER,
///   imported_at TEXT, PRIMARY KEY (hour_start_us, source))`: `hour_start` is RFC 3339 UTC.
///
/// The hourly and daily rows are derived from `vendor_usage_points` by query: every import
/// recomputes the hours and days its span touches (the days at the import's offset and at every
/// offset already stored for the source). Rows of stores written before `vendor_usage_points`
/// existed stay until an import touches their hour or day, which then holds the points alone.
///
/// `source` is a ``VendorSource`` raw value. Bytes are bytes; `request_bytes` and
/// `response_bytes` are NULL when the source does not split directions. `imported_at` is
/// RFC 3339 UTC.
public enum VendorUsageStore {
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

    /// Records and bytes stored for one source over a span.
    public typealias Tally = VendorTally

    /// What one import changed inside its own span.
    public typealias Change = VendorPointsChange

    /// Stores `vendor`'s records in `[from, to)` and recomputes the hourly and daily rows they
    /// touch, in one transaction; see the type's documentation for what an import replaces.
    ///
    /// - Parameters:
    ///   - vendor: The imported figures.
    ///   - databasePath: The projection database (created if missing).
    ///   - from: Window start, UTC µs, inclusive.
    ///   - to: Window end, UTC µs, exclusive.
    ///   - utcOffsetSeconds: The offset days are aligned to, in seconds east of UTC.
    /// - Returns: The number of hourly plus daily rows written; 0 when no record is in the window.
    ///   ``saveReportingChange(_:databasePath:from:to:utcOffsetSeconds:)`` also says what was replaced.
    /// - Throws: ``ReconciliationError`` `.outOfRange` when a record has negative bytes or a sum
    ///   does not fit in Int64 (nothing is stored); `.storageFailed` when SQLite fails.
    @discardableResult
    public static func save(
        _ vendor: VendorImport, databasePath: String, from: Int64, to: Int64, utcOffsetSeconds: Int = 0
    ) throws(ReconciliationError) -> Int {
        try saveReportingChange(
            vendor, databasePath: databasePath, from: from, to: to, utcOffsetSeconds: utcOffsetSeconds
        ).rowsWritten
    }

    /// ``save(_:databasePath:from:to:utcOffsetSeconds:)``, returning what the import changed, so
    /// that an import holding fewer records than the store had over the same span (a filtered or
    /// truncated log) is visible.
    ///
    /// - Throws: What `save` throws.
    public static func saveReportingChange(
        _ vendor: VendorImport, databasePath: String, from: Int64, to: Int64, utcOffsetSeconds: Int = 0
    ) throws(ReconciliationError) -> Change {
        let staged = Import(source: vendor.source, databasePath: databasePath, from: from, to: to)
        for record in vendor.records { try staged.add(record) }
        return try staged.commit(utcOffsetSeconds: utcOffsetSeconds)
    }

    /// Reads the stored daily rows, ordered by date and source.
    ///
    /// - Parameters:
    ///   - databasePath: The projection database.
    ///   - utcOffsetSeconds: Which alignment to read. Default 0 (UTC days).
    /// - Throws: ``ReconciliationError`` `.storageFailed` when SQLite fails.
    public static func dailyRows(databasePath: String, utcOffsetSeconds: Int = 0) throws(ReconciliationError) -> [Row] {
        do {
            let store = try ProjectionStore(path: databasePath, access: .readOnly)
            defer { try? store.close() }
            return try store.read { queries in
                try queries.vendorDailyRows(utcOffsetSeconds: utcOffsetSeconds).map {
                    Row(key: $0.date, source: $0.source, bytes: $0.bytes, records: $0.records)
                }
            }
        } catch {
            throw ReconciliationError(
                .storageFailed, "reading vendor_usage_daily from \(databasePath) failed: \(error)")
        }
    }
}
