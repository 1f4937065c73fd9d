/// What one pass over a vendor input found besides its records: counts and skipped lines.
public struct VendorScan: Sendable, Hashable {
    /// Where the figures come from.
    public var source: VendorSource
    /// The input's file name, for messages (`nil` when unknown).
    public var file: String?
    /// Records handed over: well-formed log lines, CSV records or stats hours.
    public var records: Int
    /// Malformed lines that were skipped (only with `skipBadLines`).
    public var badLines: [BadLine]
    /// Non-blank lines (or CSV records, or JSON entries) read, including bad ones.
    public var linesRead: Int

    /// Creates a scan result.
    public init(source: VendorSource, file: String?, records: Int, badLines: [BadLine] = [], linesRead: Int) {
        self.source = source
        self.file = file
        self.records = records
        self.badLines = badLines
        self.linesRead = linesRead
    }
}

/// Vendor records that can be read more than once, each time from the start, without holding
/// them all: a reconciliation passes over a file twice (once for the window, once for the sums)
/// and keeps only per-bucket sums, so its memory depends on the number of buckets, not lines.
///
/// Conformers: ``VendorImport`` (records already in memory), ``SquidLogFile`` and
/// ``WebshareActivityCSVFile`` (read from a ``VendorFileReader`` in fixed-size chunks).
public protocol VendorRecordSource {
    /// Where the figures come from.
    var source: VendorSource { get }
    /// The input's file name, for messages.
    var file: String? { get }

    /// Reads every record from the start, in input order, handing each to `body` as soon as it
    /// is parsed.
    ///
    /// - Returns: The counts and skipped lines of this pass.
    /// - Throws: ``ReconciliationError``: `.malformedLine` (with its 1-based line) for the first
    ///   malformed line unless bad lines are skipped, `.malformedInput` for an input of the wrong
    ///   shape, `.unreadable` when the file cannot be read; and whatever `body` throws.
    func forEachRecord(
        _ body: (VendorRecord) throws(ReconciliationError) -> Void
    ) throws(ReconciliationError) -> VendorScan
}

extension VendorImport: VendorRecordSource {
    /// Hands over ``records`` in order.
    ///
    /// - Throws: What `body` throws.
    public func forEachRecord(
        _ body: (VendorRecord) throws(ReconciliationError) -> Void
    ) throws(ReconciliationError) -> VendorScan {
        for record in records { try body(record) }
        return scan
    }

    /// The import's counts and skipped lines, without its records.
    public var scan: VendorScan {
        VendorScan(source: source, file: file, records: records.count, badLines: badLines, linesRead: linesRead)
    }
}
