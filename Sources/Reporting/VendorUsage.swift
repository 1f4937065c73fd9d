import Foundation
import GRDB

/// The reconciliation hook: vendor-reported daily usage, read when the projection database has
/// a `vendor_usage_daily` table (written by `proxy-ledger reconcile`, module `Reconciliation`).
///
/// Two layouts are understood (extra columns are ignored):
///
/// - The `Reconciliation` module's: `date TEXT` (`YYYY-MM-DD`), `utc_offset TEXT` (`Z` or
///   `±HH:MM`), `day_start_us INTEGER` (the day's start, UTC µs), `source TEXT`, `bytes INTEGER`.
///   A day is `[day_start_us, day_start_us + 24 h)` (a fixed offset has no daylight saving).
/// - A minimal one: `date TEXT`, optional `time_zone TEXT` (IANA; NULL or absent = UTC),
///   `bytes_total INTEGER` (or `bytes`), optional `source TEXT`. A day is local midnight to
///   local midnight in that zone.
///
/// Rows of one (date, zone, source) are summed; each source is compared separately, so two
/// imports of the same traffic (say the Squid log and the vendor's CSV) are not added up. The
/// report compares each complete vendor day inside the counted range with our billed bytes over
/// the same interval, computed from the same slices as the rest of the report.
enum VendorUsage {
    /// The table name the hook reads.
    static let tableName = "vendor_usage_daily"

    private static let microsecondsPerDay: Int64 = 86_400_000_000

    /// The vendor days, or `nil` when the table does not exist.
    ///
    /// - Throws: `DatabaseError` when the table exists but lacks `date` or a bytes column.
    static func read(_ db: Database) throws -> [VendorDay]? {
        guard try db.tableExists(tableName) else { return nil }
        let columns = Set(try db.columns(in: tableName).map { $0.name.lowercased() })
        let bytes = columns.contains("bytes_total") ? "bytes_total" : "bytes"
        let source = columns.contains("source") ? "COALESCE(source, '')" : "''"
        if columns.contains("day_start_us") && columns.contains("utc_offset") {
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT date, utc_offset, \(source), MIN(day_start_us), SUM(\(bytes)) FROM \(tableName)
                    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                    """
            ).map { row in
                let start: Int64 = row[3]
                return VendorDay(
                    date: row[0], zone: row[1], source: row[2], start: start, end: start + microsecondsPerDay,
                    bytesTotal: row[4])
            }
        }
        let zoneColumn = columns.contains("time_zone") ? "COALESCE(time_zone, 'UTC')" : "'UTC'"
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT date, \(zoneColumn), \(source), SUM(\(bytes)) FROM \(tableName)
                GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                """)
        return rows.compactMap { row in
            let date: String = row[0]
            let zoneName: String = row[1]
            let parts = date.split(separator: "-").compactMap { Int($0) }
            guard let zone = TimeZone(identifier: zoneName), parts.count == 3 else { return nil }
            let start = ZonedTime.startOfDay(year: parts[0], month: parts[1], day: parts[2], in: zone)
            let end = ZonedTime.startOfNextLocalDay(after: start, in: zone)
            return VendorDay(
                date: date, zone: zoneName, source: row[2], start: start.microseconds, end: end.microseconds,
                bytesTotal: row[3])
        }
    }
}
