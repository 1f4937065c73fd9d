import Ledger

/// Settings for ``Reconciler/reconcile(_:ours:options:)``.
public struct ReconciliationOptions: Sendable, Hashable {
    /// The window start, UTC µs, inclusive; `nil` = where the vendor records begin (see ``window(for:)``).
    public var from: Int64?
    /// The window end, UTC µs, exclusive; `nil` = where the vendor records end.
    public var to: Int64?
    /// Which bucket sizes to report. Default hour and day.
    public var granularities: [Granularity]
    /// The offset buckets align to, seconds east of UTC. Default 0 (UTC hours and days).
    public var utcOffsetSeconds: Int
    /// The tolerance in percent. Default 1.
    public var tolerancePercent: Double
    /// How far apart in time a vendor request and a ledger event may be and still match, in ms,
    /// `0...VendorBounds.maxDurationMS`. Default 2 000.
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

    /// The window: the given bounds; a bound not given follows the vendor records' own span, so
    /// that ledger events from before or after what the vendor file covers (another run earlier
    /// the same day, say) are not compared with it. For per-request sources the span reaches
    /// from the earliest `time − duration` to the latest `time + duration`, widened by
    /// ``matchSlackMS`` (a source's time may be a request's start or end); for Webshare stats it
    /// is the first hour's start to the last hour's end.
    ///
    /// - Returns: `nil` when a bound is missing and there are no records.
    /// - Throws: ``ReconciliationError`` `.outOfRange` when a record's span does not fit in Int64.
    public func window(for vendor: VendorImport) throws(ReconciliationError) -> ReconciliationWindow? {
        var spans: [(Int64, Int64)] = []
        for record in vendor.records { spans.append(try matchSpan(of: record, source: vendor.source)) }
        guard let lower = from ?? spans.map(\.0).min(), let upper = to ?? spans.map(\.1).max().map({ $0 + 1 }) else {
            return nil
        }
        return ReconciliationWindow(from: lower, to: max(lower, upper), followsRecords: from == nil || to == nil)
    }

    /// The closed span `[lower, upper]` (UTC µs) a ledger event must overlap to match `record`:
    /// for per-request sources `[t − duration, t + duration]` widened by ``matchSlackMS`` (a
    /// source's time may be a request's start or end), for a stats hour `[hour, hour + 1 h)`.
    ///
    /// - Throws: ``ReconciliationError`` `.outOfRange` when the span does not fit in Int64.
    func matchSpan(of record: VendorRecord, source: VendorSource) throws(ReconciliationError) -> (Int64, Int64) {
        let t = record.timestamp.microseconds
        let what = "a vendor record's time and duration (\(record.durationMS) ms)"
        let duration = try CheckedMath.multiply(max(0, record.durationMS), 1_000, what)
        guard source.isPerRequest else { return (t, try CheckedMath.add(t, duration - 1, what)) }
        let slack = matchSlackMS * 1_000
        return (try CheckedMath.add(t - slack, -duration, what), try CheckedMath.add(t + slack, duration, what))
    }
}

/// The half-open window `[from, to)` a reconciliation compares, in UTC µs.
public struct ReconciliationWindow: Sendable, Hashable {
    /// The start, inclusive.
    public var from: Int64
    /// The end, exclusive.
    public var to: Int64
    /// `true` when a bound came from the vendor records' span: then every ledger event whose span
    /// overlaps the window is compared; with both bounds given, the events that start in it.
    public var followsRecords: Bool

    /// Whether `event` is compared in this window.
    func contains(_ event: LedgerUsageEvent) -> Bool {
        followsRecords ? event.end >= from && event.start < to : (from..<to).contains(event.start)
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
    /// Ours are request + response bytes, except against the native Squid format, which logs
    /// reply sizes only: then ours are response bytes (``VendorSource/comparedDirection``).
    ///
    /// - Parameters:
    ///   - vendor: Their figures.
    ///   - ours: Our proxied events; those starting outside the window are used only for matching.
    ///   - options: Window, buckets, tolerance and matching slack.
    /// - Returns: The report; an empty window gives zero totals and a warning.
    /// - Throws: ``ReconciliationError`` `.invalidArgument` for Webshare stats with an offset that is
    ///   not a whole number of hours (their UTC hours cannot line up with such buckets) or a
    ///   slack outside 0 to 366 days; `.outOfRange` when a bucket's bytes do not fit in Int64 or a
    ///   record's time is outside years 1970 to 9999.
    /// - Complexity: O((v + e) log e) for v vendor records and e events.
    public static func reconcile(
        _ vendor: VendorImport, ours: [LedgerUsageEvent], options: ReconciliationOptions
    ) throws(ReconciliationError) -> ReconciliationReport {
        if vendor.source == .webshareStats, options.utcOffsetSeconds % 3_600 != 0 {
            throw ReconciliationError(.invalidArgument, wholeHourMessage(options.utcOffsetSeconds))
        }
        guard (0...VendorBounds.maxDurationMS).contains(options.matchSlackMS) else {
            throw ReconciliationError(
                .invalidArgument, "the matching slack must be 0 to \(VendorBounds.maxDurationMS) ms")
        }
        if let record = vendor.records.first(where: { !VendorBounds.isValidTime($0.timestamp) }) {
            throw ReconciliationError(
                .outOfRange,
                "a vendor record's time (\(record.timestamp.microseconds) µs) is outside years 1970 to 9999")
        }
        let window = try options.window(for: vendor) ?? ReconciliationWindow(from: 0, to: 0, followsRecords: false)
        let (from, to) = (window.from, window.to)
        let direction = vendor.source.comparedDirection
        let intervals = mergedIntervals(ours)
        var inWindow: [(record: VendorRecord, attributed: Bool)] = []
        for record in vendor.records where (from..<to).contains(record.timestamp.microseconds) {
            let span = try options.matchSpan(of: record, source: vendor.source)
            inWindow.append((record, overlaps(intervals, span.0, span.1)))
        }
        let ourEvents = ours.filter(window.contains)
        var buckets: [BucketComparison] = []
        for granularity in options.granularities {
            let grid = BucketGrid(granularity, utcOffsetSeconds: options.utcOffsetSeconds)
            var sums: [Int64: Sums] = [:]
            for event in ourEvents {
                let key = grid.start(of: max(event.start, from))
                try sums[key, default: Sums()].add(ours: event.bytes(direction), label: grid.label(of: key))
            }
            for (record, attributed) in inWindow {
                let key = grid.start(of: record.timestamp.microseconds)
                try sums[key, default: Sums()].add(
                    theirs: record.bytes, attributed: attributed, label: grid.label(of: key))
            }
            for (start, sum) in sums.sorted(by: { $0.key < $1.key }) where sum.ours != 0 || sum.theirs != 0 {
                buckets.append(
                    BucketComparison(
                        granularity: granularity, label: grid.label(of: start), start: max(start, from),
                        end: min(start + granularity.microseconds, to), ours: sum.ours, theirs: sum.theirs,
                        theirsUnattributed: sum.unattributed))
            }
        }
        var total = Sums()
        for event in ourEvents { try total.add(ours: event.bytes(direction), label: "the window") }
        for (record, attributed) in inWindow {
            try total.add(theirs: record.bytes, attributed: attributed, label: "the window")
        }
        let outside = vendor.records.count - inWindow.count
        var warnings: [String] = []
        if window.followsRecords, let notice = try leftOutNotice(ours, window: window, options: options) {
            warnings.append(notice)
        }
        if inWindow.isEmpty && ourEvents.isEmpty {
            warnings.append(
                "the window holds no vendor record and no ledger event (\(outside) vendor record(s) fall outside it); "
                    + "check --from and --to")
        }
        return ReconciliationReport(
            source: vendor.source, vendorFile: vendor.file, comparedDirection: direction,
            windowStart: LedgerTimestamp(microseconds: from).rfc3339,
            windowEnd: LedgerTimestamp(microseconds: to).rfc3339,
            utcOffset: BucketGrid.offsetText(options.utcOffsetSeconds),
            tolerancePercent: options.tolerancePercent, buckets: buckets,
            total: BucketComparison(
                granularity: nil, label: "total", start: from, end: to, ours: total.ours, theirs: total.theirs,
                theirsUnattributed: total.unattributed),
            unattributed: UnattributedUsage(
                bytes: total.unattributed, records: inWindow.filter { !$0.attributed }.count),
            vendorRecords: vendor.records.count, vendorRecordsOutsideWindow: outside,
            ledgerEvents: ourEvents.count, badLines: vendor.badLines, warnings: warnings)
    }

    /// Says how many ledger events on the window's first day ended before a window that follows
    /// the vendor records began: they are left out of the comparison (usually another run that
    /// the vendor file does not cover), which a reader should know. `nil` when there are none.
    static func leftOutNotice(
        _ ours: [LedgerUsageEvent], window: ReconciliationWindow, options: ReconciliationOptions
    ) throws(ReconciliationError) -> String? {
        let dayStart = BucketGrid(.day, utcOffsetSeconds: options.utcOffsetSeconds).start(of: window.from)
        let earlier = ours.filter { $0.start >= dayStart && $0.end < window.from }
        guard !earlier.isEmpty else { return nil }
        var bytes: Int64 = 0
        for event in earlier { bytes = try CheckedMath.add(bytes, event.bytes(.both), "the left-out events' bytes") }
        return "\(earlier.count) ledger event(s) (\(bytes) B) earlier that day end before the vendor records begin "
            + "and are not compared (another run?); pass --from and --to to compare fixed bounds"
    }

    /// Why Webshare stats cannot be bucketed at an offset that is not a whole number of hours.
    public static func wholeHourMessage(_ utcOffsetSeconds: Int) -> String {
        let offset = BucketGrid.offsetText(utcOffsetSeconds)
        let hours = utcOffsetSeconds / 3_600
        let suggestion = [hours, hours + (utcOffsetSeconds < 0 ? -1 : 1)].map { BucketGrid.offsetText($0 * 3_600) }
        return "Webshare stats count whole UTC hours, so hourly and daily buckets at \(offset) (not a whole number of "
            + "hours) cannot line up with them; use a whole-hour --utc-offset such as \(suggestion[0]) or \(suggestion[1])"
    }

    /// Checked byte sums of one bucket, in bytes.
    struct Sums {
        var ours: Int64 = 0
        var theirs: Int64 = 0
        var unattributed: Int64 = 0

        mutating func add(ours bytes: Int64, label: String) throws(ReconciliationError) {
            ours = try CheckedMath.add(ours, bytes, "our bytes in \(label)")
        }

        mutating func add(theirs bytes: Int64, attributed: Bool, label: String) throws(ReconciliationError) {
            theirs = try CheckedMath.add(theirs, bytes, "the vendor's bytes in \(label)")
            if !attributed { unattributed = try CheckedMath.add(unattributed, bytes, "the vendor's bytes in \(label)") }
        }
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
        var low = 0
        var high = intervals.count
        while low < high {  // first interval whose end >= lower
            let mid = (low + high) / 2
            if intervals[mid].1 < lower { low = mid + 1 } else { high = mid }
        }
        return low < intervals.count && intervals[low].0 <= upper
    }
}
