import Foundation
import Ledger

/// Parses a Webshare activity CSV export into ``VendorRecord``s.
///
/// Columns (found by header name, any order; extra columns are ignored):
/// `Time,Hostname,Destination Port,Bytes,Duration,Proxy,Your IP Address,Error Reason,Protocol`.
/// `Time` must carry an offset (see ``VendorTime``) and lie in years 1970 to 9999; `Bytes` is an
/// integer number of bytes, at most 2^53; `Duration` is milliseconds, or a number with an `ms` or
/// `s` suffix, at most 366 days (empty = 0); an `Error Reason` of `None` (or empty) means no error.
/// Quoting follows RFC 4180 (quoted fields, `""` escapes, CRLF or LF record ends); a leading
/// UTF-8 byte order mark (Excel's "CSV UTF-8") is ignored.
///
/// ``parse(_:skipBadLines:file:)`` reads an export held in memory; ``WebshareActivityCSVFile``
/// reads a file in chunks and hands over one record at a time.
public enum WebshareActivityCSV {
    /// The columns that must be present.
    public static let requiredColumns = ["Time", "Hostname", "Bytes"]

    /// Parses a whole export held in memory.
    ///
    /// - Parameters:
    ///   - text: The CSV text, header first.
    ///   - skipBadLines: When `true`, malformed records are listed in ``VendorImport/badLines`` and skipped.
    ///   - file: The file name, for errors.
    /// - Returns: The records, in file order; `linesRead` counts data records.
    /// - Throws: ``ReconciliationError`` `.malformedInput` when the export is empty, a required
    ///   column is missing or a column name appears twice; `.malformedLine` (with the 1-based line
    ///   on which the record starts, the header being 1) for a bad record: fewer fields than the
    ///   header, a time without an offset or out of range, a bad `Bytes` or `Duration`, more than
    ///   1 MiB (an unclosed quote).
    public static func parse(
        _ text: String, skipBadLines: Bool = false, file: String? = nil
    ) throws(ReconciliationError) -> VendorImport {
        var records: [VendorRecord] = []
        var parser = RecordParser(skipBadLines: skipBadLines, file: file)
        var reader = CSVReader(skippingByteOrderMark: true)
        let keep = { (record: VendorRecord) throws(ReconciliationError) in records.append(record) }
        try reader.feed(text.utf8) { row throws(ReconciliationError) in try parser.take(row, keep) }
        try reader.finish { row throws(ReconciliationError) in try parser.take(row, keep) }
        let scan = try parser.finish()
        return VendorImport(
            source: .webshareActivityCSV, records: records, badLines: scan.badLines, linesRead: scan.linesRead,
            file: file)
    }

    /// The state of one pass over an export: CSV records in, vendor records out.
    struct RecordParser {
        let skipBadLines: Bool
        let file: String?
        /// The header's columns (lower-cased name → index) and field count, once read.
        private var header: (column: [String: Int], count: Int)?
        private var scan: VendorScan

        init(skipBadLines: Bool, file: String?) {
            self.skipBadLines = skipBadLines
            self.file = file
            scan = VendorScan(source: .webshareActivityCSV, file: file, records: 0, linesRead: 0)
        }

        /// Reads the header, or parses a data record and hands it to `body`; blank records are ignored.
        ///
        /// - Throws: `.malformedInput` for a bad header, `.malformedLine` for a bad record unless
        ///   skipping; what `body` throws.
        mutating func take(
            _ row: CSVReader.Record, _ body: (VendorRecord) throws(ReconciliationError) -> Void
        ) throws(ReconciliationError) {
            guard let header else {
                guard !row.isTruncated else {
                    throw ReconciliationError(.malformedInput, "the CSV header is longer than 1 MiB", file: file)
                }
                header = (try columns(of: row, file: file), row.fields.count)
                return
            }
            guard row.isTruncated || !(row.fields.count == 1 && row.fields[0].isEmpty) else { return }
            scan.linesRead += 1
            let parsed =
                row.isTruncated
                ? .failure(RecordError(message: "record longer than 1 MiB (an unclosed quote?)"))
                : record(row, headerCount: header.count) { row, name in
                    guard let index = header.column[name.lowercased()], index < row.fields.count else { return nil }
                    return row.fields[index].trimmingCharacters(in: .whitespaces)
                }
            switch parsed {
            case .success(let record):
                scan.records += 1
                try body(record)
            case .failure(let problem):
                guard skipBadLines else {
                    throw ReconciliationError(
                        .malformedLine, problem.message + " (use --skip-bad-lines to skip it)", file: file,
                        line: row.line)
                }
                scan.badLines.append(
                    BadLine(line: row.line, reason: problem.message, text: row.fields.joined(separator: ",")))
            }
        }

        /// The pass's counts.
        ///
        /// - Throws: `.malformedInput` when there was not even a header.
        func finish() throws(ReconciliationError) -> VendorScan {
            guard header != nil else {
                throw ReconciliationError(.malformedInput, "the CSV export is empty", file: file)
            }
            return scan
        }
    }

    /// The header's lower-cased, trimmed names and their indexes.
    private static func columns(of header: CSVReader.Record, file: String?) throws(ReconciliationError) -> [String: Int]
    {
        var column: [String: Int] = [:]
        for (index, raw) in header.fields.enumerated() {
            let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
            guard !name.isEmpty else { continue }
            guard column[name] == nil else {
                throw ReconciliationError(
                    .malformedInput,
                    "the CSV header names the column \"\(raw.trimmingCharacters(in: .whitespaces))\" twice",
                    file: file)
            }
            column[name] = index
        }
        for name in requiredColumns where column[name.lowercased()] == nil {
            var message = "the CSV export has no \"\(name)\" column"
            let joined = header.fields.joined(separator: ",")
            if header.fields.count == 1, joined.contains(";") || joined.contains("\t") {
                message += "; its header is one column \"\(joined.prefix(60))\": is the file comma-separated?"
            }
            throw ReconciliationError(.malformedInput, message, file: file)
        }
        return column
    }

    /// Why one record was rejected.
    struct RecordError: Error {
        var message: String
    }

    /// One data record, or why it is malformed.
    private static func record(
        _ row: CSVReader.Record, headerCount: Int, field: (CSVReader.Record, String) -> String?
    ) -> Result<VendorRecord, RecordError> {
        guard row.fields.count >= headerCount else {
            return .failure(
                RecordError(message: "record has \(row.fields.count) fields, the header has \(headerCount)"))
        }
        guard let timeText = field(row, "Time"), let time = VendorTime.parse(timeText) else {
            return .failure(
                RecordError(message: "Time is missing or has no offset (times are never assumed to be UTC)"))
        }
        guard VendorBounds.isValidTime(time) else {
            return .failure(RecordError(message: "Time \"\(timeText.prefix(40))\" is outside years 1970 to 9999"))
        }
        let bytesText = field(row, "Bytes") ?? ""
        guard let bytes = Int64(bytesText), VendorBounds.isValidByteCount(bytes) else {
            return .failure(RecordError(message: "Bytes \"\(bytesText.prefix(24))\" is not an integer from 0 to 2^53"))
        }
        let durationText = field(row, "Duration") ?? ""
        guard let duration = durationText.isEmpty ? 0 : durationMS(durationText) else {
            return .failure(
                RecordError(
                    message: "Duration \"\(durationText.prefix(24))\" is not a number of ms (or s) up to 366 days"))
        }
        let reason = field(row, "Error Reason").flatMap { $0.isEmpty || $0 == "None" ? nil : $0 }
        let port = field(row, "Destination Port") ?? ""
        let host = field(row, "Hostname") ?? ""
        return .success(
            VendorRecord(
                timestamp: time, bytes: bytes, durationMS: duration, method: field(row, "Protocol"),
                target: port.isEmpty ? host : "\(host):\(port)", errorReason: reason))
    }

    /// `"1234"` → 1234 ms, `"850ms"` → 850, `"1.5s"` → 1500, `"2.5"` → 2 ms (bare = ms, truncated).
    ///
    /// - Returns: `nil` for text that is not a number, and for NaN, infinities, negatives or more
    ///   than 366 days (``VendorBounds/maxDurationMS``).
    static func durationMS(_ text: String) -> Int64? {
        let lower = text.lowercased()
        let (number, scale): (Substring, Double) =
            lower.hasSuffix("ms")
            ? (lower.dropLast(2), 1) : lower.hasSuffix("s") ? (lower.dropLast(), 1_000) : (lower[...], 1)
        guard let value = Double(number) else { return nil }
        return VendorBounds.durationMS(value * scale)
    }
}
