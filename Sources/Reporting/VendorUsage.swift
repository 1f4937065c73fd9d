import Foundation
import GRDB

/// The reconciliation hook: vendor-reported daily usage from the projection's
/// `vendor_usage_daily` (migration `v6` of Projections; `proxy-ledger reconcile` fills it).
///
/// A row is one calendar day `date` (`YYYY-MM-DD`) at `utc_offset` (`Z` or `±HH:MM`), starting at
/// `day_start_us` (UTC µs), for one `source`, with its `bytes`. A day is
/// `[day_start_us, day_start_us + 24 h)` (a fixed offset has no daylight saving).
///
/// Rows of one (date, offset, source) are summed; each source is compared separately, so two
/// imports of the same traffic (say the Squid log and the vendor's CSV) are not added up. The
/// report compares each complete vendor day inside the counted range with our billed bytes over
/// the same interval, computed from the same slices as the rest of the report.
enum VendorUsage {
    private static let microsecondsPerDay: Int64 = 86_400_000_000

    /// The vendor days, or `nil` when no vendor figures were imported.
    ///
    /// - Throws: `DatabaseError`.
    static func read(_ db: Database) throws -> [VendorDay]? {
        let days = try Row.fetchAll(
            db,
            sql: """
                SELECT date, utc_offset, source, MIN(day_start_us), SUM(bytes) FROM vendor_usage_daily
                GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                """
        ).map { row in
            let start: Int64 = row[3]
            return VendorDay(
                date: row[0], zone: row[1], source: row[2], start: start, end: start + microsecondsPerDay,
                bytesTotal: row[4])
        }
        return days.isEmpty ? nil : days
    }
}
