import Foundation
import Ledger
import Projections

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
    /// The vendor days, or `nil` when no vendor figures were imported.
    ///
    /// - Throws: `ProjectionError` or `DatabaseError` from the query.
    static func read(_ queries: ProjectionQueries) throws -> [VendorDay]? {
        let days = try queries.vendorDays().map { day in
            VendorDay(
                date: day.date, zone: day.utcOffset, source: day.source, start: day.start,
                end: day.start + LedgerTimestamp.microsecondsPerDay, bytesTotal: day.bytes)
        }
        return days.isEmpty ? nil : days
    }
}
