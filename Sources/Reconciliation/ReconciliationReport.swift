import Foundation
import Ledger
public import Projections

/// Ours against theirs for one bucket (or the whole window).
public struct BucketComparison: Sendable, Hashable, Codable {
    /// `hour`, `day`, or `nil` for the window total.
    public var granularity: Granularity?
    /// The bucket label in the grid's offset (`2026-11-01`, `2026-11-01T05:00Z`), or `total`.
    public var label: String
    /// Bucket start, RFC 3339 UTC (clipped to the window).
    public var start: String
    /// Bucket end, exclusive, RFC 3339 UTC (clipped to the window).
    public var end: String
    /// Our bytes: proxied ledger events that started in the bucket.
    public var ours: Int64
    /// The vendor's bytes filed under the bucket.
    public var theirs: Int64
    /// The part of ``theirs`` that matches no ledger event.
    public var theirsUnattributed: Int64
    /// `ours - theirs`, in bytes.
    public var delta: Int64 { ours - theirs }
    /// `delta / theirs × 100`; 0 when both are 0; `nil` when theirs is 0 and ours is not.
    public var deltaPercent: Double? {
        if theirs == 0 { return ours == 0 ? 0 : nil }
        return Double(delta) / Double(theirs) * 100
    }

    /// Whether `|delta| ≤ percent % of theirs` (when theirs is 0: whether ours is 0 too).
    ///
    /// - Parameter percent: The tolerance in percent, e.g. `1` for 1 %.
    public func isWithin(percent: Double) -> Bool {
        guard let deltaPercent else { return false }
        return abs(deltaPercent) <= percent
    }

    enum CodingKeys: String, CodingKey {
        case granularity, label, start, end, ours, theirs, theirsUnattributed, delta, deltaPercent
    }

    /// Encodes every stored field plus `delta` and `delta_percent` (null when undefined).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(granularity, forKey: .granularity)
        try container.encode(label, forKey: .label)
        try container.encode(start, forKey: .start)
        try container.encode(end, forKey: .end)
        try container.encode(ours, forKey: .ours)
        try container.encode(theirs, forKey: .theirs)
        try container.encode(theirsUnattributed, forKey: .theirsUnattributed)
        try container.encode(delta, forKey: .delta)
        try container.encode(deltaPercent, forKey: .deltaPercent)
    }

    /// Decodes what ``encode(to:)`` wrote (derived fields are recomputed).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        granularity = try container.decodeIfPresent(Granularity.self, forKey: .granularity)
        label = try container.decode(String.self, forKey: .label)
        start = try container.decode(String.self, forKey: .start)
        end = try container.decode(String.self, forKey: .end)
        ours = try container.decode(Int64.self, forKey: .ours)
        theirs = try container.decode(Int64.self, forKey: .theirs)
        theirsUnattributed = try container.decode(Int64.self, forKey: .theirsUnattributed)
    }

    /// Creates a comparison.
    public init(
        granularity: Granularity?, label: String, start: Int64, end: Int64, ours: Int64, theirs: Int64,
        theirsUnattributed: Int64
    ) {
        self.granularity = granularity
        self.label = label
        self.start = LedgerTimestamp(microseconds: start).rfc3339
        self.end = LedgerTimestamp(microseconds: end).rfc3339
        self.ours = ours
        self.theirs = theirs
        self.theirsUnattributed = theirsUnattributed
    }
}

/// The vendor bytes that match no ledger event.
public struct UnattributedUsage: Sendable, Hashable, Codable {
    /// Their bytes with no ledger event overlapping in time, in bytes.
    public var bytes: Int64
    /// How many vendor records (requests, or hours for the stats API) that is.
    public var records: Int
}

/// The outcome of ``Reconciler/reconcile(_:ours:options:)``.
public struct ReconciliationReport: Sendable, Hashable, Codable {
    /// Where their figures come from.
    public var source: VendorSource
    /// The vendor file, when known.
    public var vendorFile: String?
    /// Which of our bytes were compared: `response` against the native Squid format (it logs
    /// reply sizes only), else `both` (request + response). JSON: `compared_direction`.
    public var comparedDirection: ComparedDirection
    /// The half-open window `[windowStart, windowEnd)`, RFC 3339 UTC.
    public var windowStart: String
    /// The exclusive end of the window, RFC 3339 UTC.
    public var windowEnd: String
    /// The offset the buckets are aligned to (`Z`, `+05:30`).
    public var utcOffset: String
    /// The tolerance, in percent.
    public var tolerancePercent: Double
    /// Non-empty buckets (ours or theirs > 0): hours first, then days, each in time order.
    public var buckets: [BucketComparison]
    /// The whole window.
    public var total: BucketComparison
    /// Their bytes that match no ledger event.
    public var unattributed: UnattributedUsage
    /// Vendor records read, and how many fell outside the window.
    public var vendorRecords: Int
    /// Vendor records outside the window (ignored).
    public var vendorRecordsOutsideWindow: Int
    /// Ledger events in the window.
    public var ledgerEvents: Int
    /// Malformed input lines that were skipped.
    public var badLines: [BadLine]
    /// Things the reader should know, e.g. that the window holds no data at all.
    public var warnings: [String]

    /// Buckets and the total whose `|delta %|` exceeds `percent` (or whose delta % is undefined).
    ///
    /// - Parameter percent: The threshold in percent.
    public func bucketsOver(percent: Double) -> [BucketComparison] {
        (buckets + [total]).filter { !$0.isWithin(percent: percent) }
    }
}
