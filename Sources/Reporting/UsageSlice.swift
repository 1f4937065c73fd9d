import Foundation

/// The grouping columns of `proxy_usage_hourly`: one usage class within an hour.
struct UsageKey: Hashable, Comparable, Sendable {
    var component: String
    var operation: String
    var success: Bool
    /// `""` for none (the rollup's convention).
    var errorType: String

    static func < (lhs: UsageKey, rhs: UsageKey) -> Bool {
        (lhs.component, lhs.operation, lhs.success ? 1 : 0, lhs.errorType)
            < (rhs.component, rhs.operation, rhs.success ? 1 : 0, rhs.errorType)
    }
}

/// Request and byte sums (bytes; NULL counted as 0, as in the rollup).
struct UsageSums: Hashable, Sendable {
    var requests: Int64 = 0
    /// `request_bytes`: client → gateway.
    var bytesUp: Int64 = 0
    /// `response_bytes`: gateway → client.
    var bytesDown: Int64 = 0
    /// `estimated_bytes`: the measured total when measured, else the estimate. The billed bytes.
    var bytesTotal: Int64 = 0

    static func + (lhs: UsageSums, rhs: UsageSums) -> UsageSums {
        UsageSums(
            requests: lhs.requests + rhs.requests, bytesUp: lhs.bytesUp + rhs.bytesUp,
            bytesDown: lhs.bytesDown + rhs.bytesDown, bytesTotal: lhs.bytesTotal + rhs.bytesTotal)
    }

    static func - (lhs: UsageSums, rhs: UsageSums) -> UsageSums {
        UsageSums(
            requests: lhs.requests - rhs.requests, bytesUp: lhs.bytesUp - rhs.bytesUp,
            bytesDown: lhs.bytesDown - rhs.bytesDown, bytesTotal: lhs.bytesTotal - rhs.bytesTotal)
    }

    static func += (lhs: inout UsageSums, rhs: UsageSums) { lhs = lhs + rhs }
}

/// Usage of one class in a stretch of time that no report boundary (period, local day, price
/// change, as-of cutoff) crosses: a whole UTC hour from the rollup, or part of an hour from the
/// base table when a boundary falls inside that hour.
struct UsageSlice: Sendable {
    /// The first µs of the stretch (UTC µs); slices are priced in (start, key) order.
    var start: Int64
    var key: UsageKey
    var sums: UsageSums
}

/// The top entries of one identifier column.
struct TopEntry: Sendable {
    var name: String
    var requests: Int64
    var bytesTotal: Int64
    /// For a job: `video ID` or `channel NAME`, from its events.
    var subject: String? = nil
}

/// One vendor day of `vendor_usage_daily` (one source).
struct VendorDay: Sendable {
    /// The `source` of native Squid log imports (`VendorSource.squidNative` in Reconciliation):
    /// reply sizes only.
    static let replyBytesOnlySource = "squid-native"

    /// `YYYY-MM-DD` in the vendor's zone or offset.
    var date: String
    /// The zone or offset of the day: an IANA name, `Z` or `±HH:MM`.
    var zone: String
    /// The importing source (e.g. `squid_access_log`), `""` when the table has no `source`.
    var source: String
    /// The day's bounds, UTC µs, half-open.
    var start: Int64
    var end: Int64
    /// Bytes the vendor counted that day.
    var bytesTotal: Int64
}

/// Everything a report reads from the projection, in one consistent snapshot.
struct UsageSnapshot: Sendable {
    /// Proxied usage in `[period start, cutoff)`, sorted by (start, key).
    var slices: [UsageSlice] = []
    /// Requests with `proxied = 0` in the range (not billed, excluded from every figure).
    var unproxied = UsageSums()
    var topJobs: [TopEntry] = []
    var topChannels: [TopEntry] = []
    var topVideos: [TopEntry] = []
}
