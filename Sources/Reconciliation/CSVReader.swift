/// A minimal RFC 4180 reader over bytes fed in chunks: quoted fields may hold commas, quotes
/// (`""`) and line breaks, also across chunk boundaries.
///
/// Records end at LF outside quotes; a CR outside quotes is dropped. Fields are UTF-8 (invalid
/// bytes read as U+FFFD). Only the record being read is held: a record longer than
/// ``maxRecordBytes`` (an unclosed quote, say) keeps its first bytes and is marked
/// ``Record/isTruncated``.
struct CSVReader {
    /// One record and the 1-based line on which it starts.
    struct Record {
        var fields: [String]
        var line: Int
        /// Whether bytes past ``CSVReader/maxRecordBytes`` were dropped.
        var isTruncated = false
    }

    /// The longest record kept whole, in bytes: 1 MiB.
    static let defaultMaxRecordBytes = 1 << 20

    let maxRecordBytes: Int
    /// Bytes of a leading UTF-8 byte order mark matched so far; `nil` once past the start (or
    /// when the mark is not skipped).
    private var markMatched: Int?
    private var fields: [String] = []
    private var field: [UInt8] = []
    /// Bytes of the current field, also those dropped from a truncated record.
    private var fieldLength = 0
    private var inQuotes = false
    /// A quote was read inside quotes: the next byte says whether it was `""` or the closing one.
    private var quoteInQuotes = false
    private var recordBytes = 0
    private var line = 1
    private var recordLine = 1

    /// - Parameters:
    ///   - maxRecordBytes: See ``maxRecordBytes``.
    ///   - skippingByteOrderMark: Whether a leading UTF-8 byte order mark (EF BB BF) is dropped.
    init(maxRecordBytes: Int = CSVReader.defaultMaxRecordBytes, skippingByteOrderMark: Bool = false) {
        self.maxRecordBytes = maxRecordBytes
        markMatched = skippingByteOrderMark ? 0 : nil
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Splits a whole text into records.
    static func records(_ text: String) -> [Record] {
        var reader = CSVReader()
        var records: [Record] = []
        reader.feed(text.utf8) { records.append($0) }
        reader.finish { records.append($0) }
        return records
    }

    /// Reads `bytes`, handing over each record that ends in them.
    mutating func feed<Bytes: Sequence<UInt8>, Failure: Error>(
        _ bytes: Bytes, _ body: (Record) throws(Failure) -> Void
    ) throws(Failure) {
        for byte in bytes { try take(byte, body) }
    }

    /// Hands over the last record when the input does not end with a line break.
    mutating func finish<Failure: Error>(_ body: (Record) throws(Failure) -> Void) throws(Failure) {
        if quoteInQuotes { (inQuotes, quoteInQuotes) = (false, false) }
        if fieldLength > 0 || !fields.isEmpty || recordBytes > maxRecordBytes { try endRecord(body) }
    }

    private mutating func take<Failure: Error>(_ byte: UInt8, _ body: (Record) throws(Failure) -> Void)
        throws(Failure)
    {
        if let matched = markMatched {
            markMatched = nil
            if byte == Self.byteOrderMark[matched] {
                markMatched = matched + 1 < Self.byteOrderMark.count ? matched + 1 : nil
                return
            }
            for earlier in Self.byteOrderMark[..<matched] { try take(earlier, body) }  // not a mark after all
        }
        if quoteInQuotes {
            quoteInQuotes = false
            if byte == UInt8(ascii: "\"") { return append(byte) }
            inQuotes = false  // that quote closed the field; read `byte` outside quotes
        } else if inQuotes {
            if byte == UInt8(ascii: "\"") {
                quoteInQuotes = true
            } else {
                if byte == 0x0A { line += 1 }
                append(byte)
            }
            return
        }
        switch byte {
        case UInt8(ascii: "\"") where fieldLength == 0: inQuotes = true
        case UInt8(ascii: ","):
            recordBytes += 1
            if recordBytes <= maxRecordBytes { fields.append(String(decoding: field, as: UTF8.self)) }
            field.removeAll(keepingCapacity: true)
            fieldLength = 0
        case 0x0D: break
        case 0x0A:
            try endRecord(body)
            line += 1
            recordLine = line
        default: append(byte)
        }
    }

    private mutating func append(_ byte: UInt8) {
        recordBytes += 1
        fieldLength += 1
        if recordBytes <= maxRecordBytes { field.append(byte) }
    }

    private mutating func endRecord<Failure: Error>(_ body: (Record) throws(Failure) -> Void) throws(Failure) {
        fields.append(String(decoding: field, as: UTF8.self))
        let record = Record(fields: fields, line: recordLine, isTruncated: recordBytes > maxRecordBytes)
        fields.removeAll(keepingCapacity: true)
        field.removeAll(keepingCapacity: true)
        (fieldLength, recordBytes) = (0, 0)
        try body(record)
    }
}
