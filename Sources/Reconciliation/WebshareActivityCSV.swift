import Foundation
import Ledger

/// Parses a Webshare activity CSV export into ``VendorRecord``s.
///
/// Columns (found by header name, any order; extra columns are ignored):
/// `Time,Hostname,Destination Port,Bytes,Duration,Proxy,Your IP Address,Error Reason,Protocol`.
/// `Time` must carry an offset (see ``VendorTime``); `Bytes` is an integer number of bytes;
/// `Duration` is milliseconds, or a number with an `ms` or `s` suffix; an `Error Reason` of
/// `None` (or empty) means no error. Quoting follows RFC 4180 (quoted fields, `""` escapes,
/// CRLF or LF record ends).
public enum WebshareActivityCSV {
    /// The columns that must be present.
    public static let requiredColumns = ["Time", "Hostname", "Bytes"]

    /// Parses a whole export.
    ///
    /// - Parameters:
    ///   - text: The CSV text, header first.
    ///   - skipBadLines: When `true`, malformed records are listed in ``VendorImport/badLines`` and skipped.
    ///   - file: The file name, for errors.
    /// - Returns: The records, in file order; `linesRead` counts data records.
    /// - Throws: ``ReconciliationError`` `.malformedInput` when a required column is missing,
    ///   `.malformedLine` (with the 1-based record number, the header being 1) for a bad record.
    public static func parse(
        _ text: String, skipBadLines: Bool = false, file: String? = nil
    ) throws(ReconciliationError) -> VendorImport {
        let rows = CSVReader.records(text)
        guard let header = rows.first else {
            throw ReconciliationError(.malformedInput, "the CSV export is empty", file: file)
        }
        var column: [String: Int] = [:]
        for (index, name) in header.fields.enumerated() {
            column[name.trimmingCharacters(in: .whitespaces).lowercased()] = index
        }
        for name in requiredColumns where column[name.lowercased()] == nil {
            throw ReconciliationError(.malformedInput, "the CSV export has no \"\(name)\" column", file: file)
        }
        func field(_ row: CSVReader.Record, _ name: String) -> String? {
            guard let index = column[name.lowercased()], index < row.fields.count else { return nil }
            return row.fields[index].trimmingCharacters(in: .whitespaces)
        }
        var records: [VendorRecord] = []
        var bad: [BadLine] = []
        let dataRows = rows.dropFirst().filter { !($0.fields.count == 1 && $0.fields[0].isEmpty) }
        for row in dataRows {
            let problem: String?
            if let timeText = field(row, "Time"), let time = VendorTime.parse(timeText) {
                if let bytes = field(row, "Bytes").flatMap({ Int64($0) }), bytes >= 0 {
                    let reason = field(row, "Error Reason").flatMap { $0.isEmpty || $0 == "None" ? nil : $0 }
                    let port = field(row, "Destination Port") ?? ""
                    let host = field(row, "Hostname") ?? ""
                    records.append(
                        VendorRecord(
                            timestamp: time, bytes: bytes, durationMS: field(row, "Duration").flatMap(durationMS) ?? 0,
                            method: field(row, "Protocol"), target: port.isEmpty ? host : "\(host):\(port)",
                            errorReason: reason))
                    problem = nil
                } else {
                    problem = "Bytes is not a non-negative integer"
                }
            } else {
                problem = "Time is missing or has no offset (times are never assumed to be UTC)"
            }
            if let problem {
                guard skipBadLines else {
                    throw ReconciliationError(.malformedLine, problem + " (use --skip-bad-lines to skip it)", file: file, line: row.line)
                }
                bad.append(BadLine(line: row.line, reason: problem, text: row.fields.joined(separator: ",")))
            }
        }
        return VendorImport(source: .webshareActivityCSV, records: records, badLines: bad, linesRead: dataRows.count)
    }

    /// `"1234"` → 1234 ms, `"850ms"` → 850, `"1.5s"` → 1500, `"2.5"` → 2 ms (bare = ms, truncated).
    static func durationMS(_ text: String) -> Int64? {
        let lower = text.lowercased()
        if lower.hasSuffix("ms") { return Double(lower.dropLast(2)).map { Int64($0) } }
        if lower.hasSuffix("s") { return Double(lower.dropLast()).map { Int64($0 * 1_000) } }
        return Double(lower).map { Int64($0) }
    }
}

/// A minimal RFC 4180 reader: quoted fields may hold commas, quotes (`""`) and line breaks.
enum CSVReader {
    /// One record and the 1-based line on which it starts.
    struct Record {
        var fields: [String]
        var line: Int
    }

    /// Splits `text` into records.
    static func records(_ text: String) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func endRecord() {
            fields.append(field)
            records.append(Record(fields: fields, line: recordLine))
            fields = []
            field = ""
        }
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; pending = next }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty: inQuotes = true
            case ",": fields.append(field); field = ""
            case "\r": break
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default: field.unicodeScalars.append(scalar)
            }
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}
