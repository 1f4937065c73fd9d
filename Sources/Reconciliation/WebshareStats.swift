public import Foundation
import Ledger
import Projections

/// Parses Webshare's hourly proxy statistics (`GET https://proxy.webshare.io/api/v2/stats/`,
/// "Proxy Statistics", apidocs.webshare.io/proxystats) into ``VendorRecord``s, one per hour.
///
/// Each stat object has `timestamp` (ISO 8601 with an offset, the start of a 1-hour window: a
/// whole UTC hour) and `bandwidth_total` (bytes in both directions for that hour).
/// Hours without traffic are missing, not zero; reconciliation treats a missing hour as 0 bytes.
/// Objects with `"is_projected": true` are forecasts, not usage, and are skipped. The input may be
/// a JSON array of stat objects or an object whose `results` array holds them.
public enum WebshareStats {
    /// Parses a stats response.
    ///
    /// - Parameters:
    ///   - data: The JSON bytes.
    ///   - skipBadLines: When `true`, malformed entries are listed in ``VendorImport/badLines``
    ///     (their "line" is the 1-based entry index) and skipped.
    ///   - file: The file name, for errors.
    /// - Returns: One record per real hour, ``VendorRecord/durationMS`` = 3 600 000.
    /// - Throws: ``ReconciliationError`` `.malformedInput` when the JSON is not a list of objects,
    ///   `.malformedLine` (entry index) for an entry without a valid `timestamp` (with an offset, at
    ///   the start of a UTC hour, years 1970 to 9999) or `bandwidth_total` (an integer, 0 to 2^53
    ///   bytes), and for a second entry for the same hour (a duplicated page is never summed).
    public static func parse(
        _ data: Data, skipBadLines: Bool = false, file: String? = nil
    ) throws(ReconciliationError) -> VendorImport {
        let root: JSONValue
        do {
            root = try JSONValue.parse(Array(data))
        } catch {
            throw ReconciliationError(.malformedInput, "the stats file is not JSON", file: file)
        }
        let entries: [JSONValue]
        switch root {
        case .array(let list): entries = list
        case .object(let object):
            guard case .array(let list)? = object["results"] else { fallthrough }
            entries = list
        default:
            throw ReconciliationError(
                .malformedInput, "expected a JSON array of hourly stats (or an object with \"results\")", file: file)
        }
        var records: [VendorRecord] = []
        var bad: [BadLine] = []
        var hours: [Int64: Int] = [:]  // hour start (UTC µs) → 1-based entry index
        for (index, entry) in entries.enumerated() {
            guard case .object(let object) = entry else {
                try reject("entry is not an object", index: index, skip: skipBadLines, file: file, into: &bad)
                continue
            }
            if case .bool(true)? = object["is_projected"] { continue }
            switch record(object, index: index, seen: hours) {
            case .success(let record):
                hours[record.timestamp.microseconds] = index + 1
                records.append(record)
            case .failure(let problem):
                try reject(problem.message, index: index, skip: skipBadLines, file: file, into: &bad)
            }
        }
        return VendorImport(
            source: .webshareStats, records: records, badLines: bad, linesRead: entries.count, file: file)
    }

    /// Why one entry was rejected.
    struct EntryError: Error {
        var message: String
    }

    /// One hour's record, or why the entry is malformed.
    private static func record(
        _ object: [String: JSONValue], index: Int, seen hours: [Int64: Int]
    ) -> Result<VendorRecord, EntryError> {
        guard case .string(let timeText)? = object["timestamp"], let time = VendorTime.parse(timeText) else {
            return .failure(EntryError(message: "timestamp is missing or has no offset"))
        }
        guard VendorBounds.isValidTime(time) else {
            return .failure(EntryError(message: "timestamp \"\(timeText.prefix(40))\" is outside years 1970 to 9999"))
        }
        guard time.microseconds % Granularity.hour.microseconds == 0 else {
            return .failure(EntryError(message: "timestamp \"\(timeText.prefix(40))\" is not the start of a UTC hour"))
        }
        if let first = hours[time.microseconds] {
            return .failure(
                EntryError(
                    message: "a second entry for the hour \(time.rfc3339) (first: entry \(first)); a duplicated page?"))
        }
        let bytes: Int64?
        switch object["bandwidth_total"] {
        case .integer(let value)?: bytes = VendorBounds.isValidByteCount(value) ? value : nil
        case .number(let value)?: bytes = VendorBounds.byteCount(value)
        default: bytes = nil
        }
        guard let bytes else {
            return .failure(EntryError(message: "bandwidth_total is not an integer from 0 to 2^53"))
        }
        return .success(VendorRecord(timestamp: time, bytes: bytes, durationMS: 3_600_000))
    }

    private static func reject(
        _ reason: String, index: Int, skip: Bool, file: String?, into bad: inout [BadLine]
    ) throws(ReconciliationError) {
        guard skip else {
            throw ReconciliationError(
                .malformedLine, "stats entry \(index + 1): \(reason) (use --skip-bad-lines to skip it)", file: file,
                line: index + 1)
        }
        bad.append(BadLine(line: index + 1, reason: reason, text: "entry \(index + 1)"))
    }
}
