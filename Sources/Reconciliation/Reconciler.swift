import Ledger
public import Projections

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
    /// - Throws: ``ReconciliationError`` `.outOfRange` when a record's time is outside years 1970
    ///   to 9999 or its span does not fit in Int64.
    public func window(for vendor: VendorImport) throws(ReconciliationError) -> ReconciliationWindow? {
        try survey(vendor).window
    }

    /// One pass over `vendor` that checks every record's time and span and finds the window
    /// (``window(for:)``), without keeping the records: the first of the two passes of a
    /// streaming reconciliation (``Reconciler/reconcile(_:survey:ours:options:each:)``).
    ///
    /// - Returns: The pass's counts and skipped lines, and the window (`nil` when a bound is
    ///   missing and there are no records).
    /// - Throws: What reading `vendor` throws (a malformed line, an unreadable file);
    ///   ``ReconciliationError`` `.outOfRange` when a record's time is outside years 1970 to 9999
    ///   (checked first, over all records) or a record's span does not fit in Int64.
    public func survey(_ vendor: some VendorRecordSource) throws(ReconciliationError) -> VendorSurvey {
        var badTime: VendorRecord?
        var spanError: ReconciliationError?
        var lower: Int64?
        var upper: Int64?
        let scan = try vendor.forEachRecord { record throws(ReconciliationError) in
            if badTime == nil, !VendorBounds.isValidTime(record.timestamp) { badTime = record }
            guard spanError == nil else { return }
            let checked = Result { () throws(ReconciliationError) in try matchSpan(of: record, source: vendor.source) }
            switch checked {
            case .success(let span):
                lower = min(lower ?? span.0, span.0)
                upper = max(upper ?? span.1, span.1)
            case .failure(let error):
                spanError = error
            }
        }
        if let badTime {
            throw ReconciliationError(
                .outOfRange,
                "a vendor record's time (\(badTime.timestamp.microseconds) µs) is outside years 1970 to 9999")
        }
        if let spanError { throw spanError }
        guard let start = from ?? lower, let end = to ?? upper.map({ $0 + 1 }) else {
            return VendorSurvey(scan: scan, window: nil)
        }
        let window = ReconciliationWindow(from: start, to: max(start, end), followsRecords: from == nil || to == nil)
        return VendorSurvey(scan: scan, window: window)
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

/// The first pass of a streaming reconciliation: the vendor input's counts and the window.
public struct VendorSurvey: Sendable, Hashable {
    /// The pass's counts and skipped lines.
    public var scan: VendorScan
    /// The window, `nil` when a bound is missing and there are no records.
    public var window: ReconciliationWindow?

    /// Creates a survey.
    public init(scan: VendorScan, window: ReconciliationWindow?) {
        self.scan = scan
        self.window = window
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
    /// Builds the report, reading `vendor` twice: once for the window (``ReconciliationOptions/survey(_:)``),
    /// once for the per-bucket sums; no record is kept.
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
    ///   record's time is outside years 1970 to 9999; what reading `vendor` throws.
    /// - Complexity: O((v + e) log e) time for v vendor records and e events; memory O(e + buckets).
    public static func reconcile(
        _ vendor: some VendorRecordSource, ours: [LedgerUsageEvent], options: ReconciliationOptions
    ) throws(ReconciliationError) -> ReconciliationReport {
        try check(options, source: vendor.source)
        return try reconcile(vendor, survey: try options.survey(vendor), ours: ours, options: options)
    }

    /// Builds the report from a survey already made (``ReconciliationOptions/survey(_:)``),
    /// reading `vendor` once more and folding each record into the bucket sums straight away.
    ///
    /// - Parameters:
    ///   - vendor: Their figures, the same as surveyed.
    ///   - survey: The first pass's result: its window bounds the comparison.
    ///   - ours: Our proxied events.
    ///   - options: The options the survey was made with.
    ///   - each: Called with every record of this pass, in input order, after it is summed (to
    ///     store the records on the way, say).
    /// - Returns: The report; counts and skipped lines are this pass's.
    /// - Throws: What ``reconcile(_:ours:options:)`` throws, and what `each` throws.
    public static func reconcile(
        _ vendor: some VendorRecordSource, survey: VendorSurvey, ours: [LedgerUsageEvent],
        options: ReconciliationOptions, each: (VendorRecord) throws(ReconciliationError) -> Void = { _ in }
    ) throws(ReconciliationError) -> ReconciliationReport {
        try check(options, source: vendor.source)
        let window = survey.window ?? ReconciliationWindow(from: 0, to: 0, followsRecords: false)
        var fold = try ReconciliationFold(source: vendor.source, ours: ours, window: window, options: options)
        let scan = try vendor.forEachRecord { record throws(ReconciliationError) in
            try fold.add(record)
            try each(record)
        }
        var warnings: [String] = []
        if window.followsRecords, let notice = try leftOutNotice(ours, window: window, options: options) {
            warnings.append(notice)
        }
        return fold.report(scan: scan, warnings: warnings)
    }

    /// Rejects options that cannot work with `source`.
    ///
    /// - Throws: ``ReconciliationError`` `.invalidArgument` (see ``reconcile(_:ours:options:)``).
    static func check(_ options: ReconciliationOptions, source: VendorSource) throws(ReconciliationError) {
        if source == .webshareStats, options.utcOffsetSeconds % 3_600 != 0 {
            throw ReconciliationError(.invalidArgument, wholeHourMessage(options.utcOffsetSeconds))
        }
        guard (0...VendorBounds.maxDurationMS).contains(options.matchSlackMS) else {
            throw ReconciliationError(
                .invalidArgument, "the matching slack must be 0 to \(VendorBounds.maxDurationMS) ms")
        }
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

        /// `label` (the bucket's, for the overflow message) is only made when the sum overflows.
        mutating func add(ours bytes: Int64, label: @autoclosure () -> String) throws(ReconciliationError) {
            ours = try CheckedMath.add(ours, bytes, "our bytes in \(label())")
        }

        mutating func add(
            theirs bytes: Int64, attributed: Bool, label: @autoclosure () -> String
        ) throws(ReconciliationError) {
            theirs = try CheckedMath.add(theirs, bytes, "the vendor's bytes in \(label())")
            if !attributed {
                unattributed = try CheckedMath.add(unattributed, bytes, "the vendor's bytes in \(label())")
            }
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
