import Ledger

/// Settings for ``Reconciler/reconcile(_:ours:options:)``.
public struct ReconciliationOptions: Sendable, Hashable {
    /// The window start, UTC µs, inclusive; `nil` = the start of the first vendor record's day.
    public var from: Int64?
    /// The window end, UTC µs, exclusive; `nil` = the end of the last vendor record's day.
    public var to: Int64?
    /// Which bucket sizes to report. Default hour and day.
    public var granularities: [Granularity]
    /// The offset buckets align to, seconds east of UTC. Default 0 (UTC hours and days).
    public var utcOffsetSeconds: Int
    /// The tolerance in percent. Default 1.
    public var tolerancePercent: Double
    /// How far apart in time a vendor request and a ledger event may be and still match, in ms. Default 2 000.
    public var matchSlackMS: Int64

    /// Creates options; see the properties for the defaults.
    public init(
        from: Int64? = nil, to: Int64? = nil, granularities: [Granularity] = [.hour, .day], utcOffsetSeconds: Int = 0,
        tolerancePercent: Double = 1, matchSlackMS: Int64 = 2_000
    ) {
        self.from = from
        self.to = to
        self.granularities = granularities
        self.utcOffsetSeconds = utcOffsetSeconds
        self.tolerancePercent = tolerancePercent
        self.matchSlackMS = matchSlackMS
    }

    /// The window: the given bounds, else the vendor records' span widened to whole days.
    ///
    /// - Returns: `nil` when there are no bounds and no records.
    public func window(for records: [VendorRecord]) -> (from: Int64, to: Int64)? {
        let grid = BucketGrid(.day, utcOffsetSeconds: utcOffsetSeconds)
        let times = records.map(\.timestamp.microseconds)
        guard let lower = from ?? times.min().map(grid.start(of:)) else { return nil }
        guard let upper = to ?? times.max().map({ grid.start(of: $0) + Granularity.day.microseconds }) else { return nil }
        return (lower, max(lower, upper))
    }
}

/// Compares vendor figures with the ledger's bytes per bucket.
///
/// Ours are bucketed by event start; theirs by the vendor's time (Squid logs when a request ended,
/// so a long tunnel can land one bucket later than its event). A vendor record *matches* when a
/// ledger event's span `[start, start + duration]` overlaps the record's span widened by
/// ``ReconciliationOptions/matchSlackMS``: for requests `[t − duration, t + duration]` (a
/// source's time may be the start or the end), for a stats hour `[hour, hour + 1 h)`. Unmatched
/// bytes form the *unattributed* row.
public enum Reconciler {
    /// Builds the report.
    ///
    /// - Parameters:
    ///   - vendor: Their figures.
    ///   - ours: Our proxied events; those starting outside the window are used only for matching.
    ///   - options: Window, buckets, tolerance and matching slack.
    /// - Returns: The report; an empty window gives zero totals.
    /// - Complexity: O((v + e) log e) for v vendor records and e events.
    public static func reconcile(
        _ vendor: VendorImport, ours: [LedgerUsageEvent], options: ReconciliationOptions
    ) -> ReconciliationReport {
        let (from, to) = options.window(for: vendor.records) ?? (0, 0)
        let intervals = mergedIntervals(ours)
        let slack = options.matchSlackMS * 1_000
        var inWindow: [(record: VendorRecord, attributed: Bool)] = []
        for record in vendor.records where (from..<to).contains(record.timestamp.microseconds) {
            let t = record.timestamp.microseconds
            let duration = record.durationMS * 1_000
            let span = vendor.source.isPerRequest ? (t - duration - slack, t + duration + slack) : (t, t + duration - 1)
            inWindow.append((record, overlaps(intervals, span.0, span.1)))
        }
        let ourEvents = ours.filter { (from..<to).contains($0.start) }
        var buckets: [BucketComparison] = []
        for granularity in options.granularities {
            let grid = BucketGrid(granularity, utcOffsetSeconds: options.utcOffsetSeconds)
            var sums: [Int64: (ours: Int64, theirs: Int64, unattributed: Int64)] = [:]
            for event in ourEvents { sums[grid.start(of: event.start), default: (0, 0, 0)].ours += event.bytes }
            for (record, attributed) in inWindow {
                let key = grid.start(of: record.timestamp.microseconds)
                sums[key, default: (0, 0, 0)].theirs += record.bytes
                if !attributed { sums[key, default: (0, 0, 0)].unattributed += record.bytes }
            }
            for (start, sum) in sums.sorted(by: { $0.key < $1.key }) where sum.ours != 0 || sum.theirs != 0 {
                buckets.append(
                    BucketComparison(
                        granularity: granularity, label: grid.label(of: start), start: max(start, from),
                        end: min(start + granularity.microseconds, to), ours: sum.ours, theirs: sum.theirs,
                        theirsUnattributed: sum.unattributed))
            }
        }
        let unattributed = inWindow.filter { !$0.attributed }
        let unattributedBytes = unattributed.reduce(Int64(0)) { $0 + $1.record.bytes }
        return ReconciliationReport(
            source: vendor.source, windowStart: LedgerTimestamp(microseconds: from).rfc3339,
            windowEnd: LedgerTimestamp(microseconds: to).rfc3339, utcOffset: BucketGrid.offsetText(options.utcOffsetSeconds),
            tolerancePercent: options.tolerancePercent, buckets: buckets,
            total: BucketComparison(
                granularity: nil, label: "total", start: from, end: to, ours: ourEvents.reduce(0) { $0 + $1.bytes },
                theirs: inWindow.reduce(0) { $0 + $1.record.bytes }, theirsUnattributed: unattributedBytes),
            unattributed: UnattributedUsage(bytes: unattributedBytes, records: unattributed.count),
            vendorRecords: vendor.records.count, vendorRecordsOutsideWindow: vendor.records.count - inWindow.count,
            ledgerEvents: ourEvents.count, badLines: vendor.badLines)
    }

    /// Sorted, disjoint, closed intervals covering every event span.
    static func mergedIntervals(_ events: [LedgerUsageEvent]) -> [(Int64, Int64)] {
        var merged: [(Int64, Int64)] = []
        for event in events.sorted(by: { $0.start < $1.start }) {
            if let last = merged.last, event.start <= last.1 {
                merged[merged.count - 1].1 = max(last.1, event.end)
            } else {
                merged.append((event.start, event.end))
            }
        }
        return merged
    }

    /// Whether the closed span `[lower, upper]` overlaps one of `intervals` (binary search).
    static func overlaps(_ intervals: [(Int64, Int64)], _ lower: Int64, _ upper: Int64) -> Bool {
        var low = 0, high = intervals.count
        while low < high {  // first interval whose end >= lower
            let mid = (low + high) / 2
            if intervals[mid].1 < lower { low = mid + 1 } else { high = mid }
        }
        return low < intervals.count && intervals[low].0 <= upper
    }
}
