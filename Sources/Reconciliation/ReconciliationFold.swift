import Ledger
import Projections

/// The per-bucket sums of one reconciliation, fed one vendor record at a time: memory holds our
/// events' merged spans and one ``Reconciler/Sums`` per non-empty bucket, never the records.
struct ReconciliationFold {
    let source: VendorSource
    let window: ReconciliationWindow
    let options: ReconciliationOptions
    /// Our events in the window.
    let ourEvents: [LedgerUsageEvent]
    /// Sorted, disjoint spans of all our events, for matching.
    private let intervals: [(Int64, Int64)]
    private let grids: [BucketGrid]
    /// Per grid (in ``grids`` order): bucket start (UTC µs) → sums.
    private var sums: [[Int64: Reconciler.Sums]]
    private var total = Reconciler.Sums()
    /// Vendor records in the window, and those matching no ledger event.
    private var inWindow = 0
    private var unattributed = 0

    /// Sums our side.
    ///
    /// - Throws: ``ReconciliationError`` `.outOfRange` when our bytes in a bucket do not fit in Int64.
    init(
        source: VendorSource, ours: [LedgerUsageEvent], window: ReconciliationWindow, options: ReconciliationOptions
    ) throws(ReconciliationError) {
        self.source = source
        self.window = window
        self.options = options
        ourEvents = ours.filter(window.contains)
        intervals = Reconciler.mergedIntervals(ours)
        grids = options.granularities.map { BucketGrid($0, utcOffsetSeconds: options.utcOffsetSeconds) }
        sums = Array(repeating: [:], count: grids.count)
        let direction = source.comparedDirection
        for (index, grid) in grids.enumerated() {
            for event in ourEvents {
                let key = grid.start(of: max(event.start, window.from))
                try sums[index][key, default: Reconciler.Sums()].add(
                    ours: event.bytes(direction), label: grid.label(of: key))
            }
        }
        for event in ourEvents { try total.add(ours: event.bytes(direction), label: "the window") }
    }

    /// Adds one vendor record to its buckets (records outside the window are only counted).
    ///
    /// - Throws: ``ReconciliationError`` `.outOfRange` when a bucket's bytes do not fit in Int64
    ///   or the record's span does not.
    mutating func add(_ record: VendorRecord) throws(ReconciliationError) {
        let time = record.timestamp.microseconds
        guard (window.from..<window.to).contains(time) else { return }
        let span = try options.matchSpan(of: record, source: source)
        let attributed = Reconciler.overlaps(intervals, span.0, span.1)
        inWindow += 1
        if !attributed { unattributed += 1 }
        for (index, grid) in grids.enumerated() {
            let key = grid.start(of: time)
            try sums[index][key, default: Reconciler.Sums()].add(
                theirs: record.bytes, attributed: attributed, label: grid.label(of: key))
        }
        try total.add(theirs: record.bytes, attributed: attributed, label: "the window")
    }

    /// The report, with `scan`'s counts and skipped lines and the given warnings (plus one when
    /// the window holds no data at all).
    func report(scan: VendorScan, warnings: [String]) -> ReconciliationReport {
        let (from, to) = (window.from, window.to)
        var buckets: [BucketComparison] = []
        for (index, grid) in grids.enumerated() {
            let size = grid.granularity.microseconds
            for (start, sum) in sums[index].sorted(by: { $0.key < $1.key }) where sum.ours != 0 || sum.theirs != 0 {
                buckets.append(
                    BucketComparison(
                        granularity: grid.granularity, label: grid.label(of: start), start: max(start, from),
                        end: min(start + size, to), ours: sum.ours, theirs: sum.theirs,
                        theirsUnattributed: sum.unattributed))
            }
        }
        let outside = scan.records - inWindow
        var warnings = warnings
        if inWindow == 0 && ourEvents.isEmpty {
            warnings.append(
                "the window holds no vendor record and no ledger event (\(outside) vendor record(s) fall outside it); "
                    + "check --from and --to")
        }
        return ReconciliationReport(
            source: source, vendorFile: scan.file, comparedDirection: source.comparedDirection,
            windowStart: LedgerTimestamp(microseconds: from).rfc3339,
            windowEnd: LedgerTimestamp(microseconds: to).rfc3339,
            utcOffset: BucketGrid.offsetText(options.utcOffsetSeconds), tolerancePercent: options.tolerancePercent,
            buckets: buckets,
            total: BucketComparison(
                granularity: nil, label: "total", start: from, end: to, ours: total.ours, theirs: total.theirs,
                theirsUnattributed: total.unattributed),
            unattributed: UnattributedUsage(bytes: total.unattributed, records: unattributed),
            vendorRecords: scan.records, vendorRecordsOutsideWindow: outside, ledgerEvents: ourEvents.count,
            badLines: scan.badLines, warnings: warnings)
    }
}
