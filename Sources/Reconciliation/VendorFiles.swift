/// A Squid access log read from a file in chunks (``VendorFileReader``): each pass splits the
/// bytes into lines itself and hands over one record per line as soon as it is parsed, so memory
/// stays flat whatever the log's size. Lines, fields and errors are those of
/// ``SquidAccessLogParser``.
public struct SquidLogFile: VendorRecordSource {
    /// The file.
    public let reader: VendorFileReader
    /// The log format.
    public let format: SquidAccessLogParser.Format
    /// Whether malformed lines are listed in ``VendorScan/badLines`` and skipped, not thrown.
    public let skipBadLines: Bool

    /// ``VendorSource/squidNative`` or ``VendorSource/squidLedger``.
    public var source: VendorSource { format.source }
    /// The file's name.
    public var file: String? { reader.path }

    /// Creates a log source; nothing is read until ``forEachRecord(_:)``.
    public init(_ reader: VendorFileReader, format: SquidAccessLogParser.Format, skipBadLines: Bool = false) {
        self.reader = reader
        self.format = format
        self.skipBadLines = skipBadLines
    }

    /// Reads the log from its start, handing each record to `body` in file order.
    ///
    /// - Throws: ``ReconciliationError`` `.malformedLine` with the 1-based line number (unless
    ///   skipping), `.unreadable` when reading fails; what `body` throws.
    public func forEachRecord(
        _ body: (VendorRecord) throws(ReconciliationError) -> Void
    ) throws(ReconciliationError) -> VendorScan {
        var parser = SquidAccessLogParser.LineParser(format: format, skipBadLines: skipBadLines, file: reader.path)
        try LineSplitter.lines(of: reader) { line throws(ReconciliationError) in try parser.take(line, body) }
        return parser.scan
    }

    /// The number of fields on the file's first non-blank line (reading no further than the
    /// chunk that holds it), for ``SquidAccessLogParser/format(fieldCount:)``.
    ///
    /// - Returns: `nil` when the file is empty or blank.
    /// - Throws: ``ReconciliationError`` `.unreadable` when reading fails.
    public static func firstLineFieldCount(_ reader: VendorFileReader) throws(ReconciliationError) -> Int? {
        let splitter = LineSplitter()
        var count: Int?
        func look(_ line: LineSplitter.Line) {
            guard count == nil, !SquidAccessLogParser.isBlank(line.bytes) else { return }
            count = SquidAccessLogParser.fields(String(decoding: line.bytes, as: UTF8.self)[...]).count
        }
        try reader.readChunks { chunk throws(ReconciliationError) in
            try splitter.feed(chunk) { line throws(ReconciliationError) in look(line) }
            return count == nil
        }
        if count == nil { try splitter.finish { line throws(ReconciliationError) in look(line) } }
        return count
    }
}

/// A Webshare activity CSV export read from a file in chunks (``VendorFileReader``): each pass
/// reads the records itself (quoted fields may span lines and chunks) and hands over one vendor
/// record per data row as soon as it is parsed. Columns, rows and errors are those of
/// ``WebshareActivityCSV``.
public struct WebshareActivityCSVFile: VendorRecordSource {
    /// The file.
    public let reader: VendorFileReader
    /// Whether malformed records are listed in ``VendorScan/badLines`` and skipped, not thrown.
    public let skipBadLines: Bool

    /// ``VendorSource/webshareActivityCSV``.
    public var source: VendorSource { .webshareActivityCSV }
    /// The file's name.
    public var file: String? { reader.path }

    /// Creates an export source; nothing is read until ``forEachRecord(_:)``.
    public init(_ reader: VendorFileReader, skipBadLines: Bool = false) {
        self.reader = reader
        self.skipBadLines = skipBadLines
    }

    /// Reads the export from its start, handing each record to `body` in file order.
    ///
    /// - Throws: ``ReconciliationError`` `.malformedInput` (empty export, bad header),
    ///   `.malformedLine` with the line on which the record starts (unless skipping),
    ///   `.unreadable` when reading fails; what `body` throws.
    public func forEachRecord(
        _ body: (VendorRecord) throws(ReconciliationError) -> Void
    ) throws(ReconciliationError) -> VendorScan {
        var parser = WebshareActivityCSV.RecordParser(skipBadLines: skipBadLines, file: reader.path)
        var csv = CSVReader(skippingByteOrderMark: true)
        try reader.forEachChunk { chunk throws(ReconciliationError) in
            try csv.feed(chunk) { row throws(ReconciliationError) in try parser.take(row, body) }
        }
        try csv.finish { row throws(ReconciliationError) in try parser.take(row, body) }
        return try parser.finish()
    }
}
