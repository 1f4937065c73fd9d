import Foundation
import Ledger

/// Parses Webshare's hourly proxy statistics (`GET https://proxy.webshare.io/api/v2/stats/`,
/// "Proxy Statistics", apidocs.webshare.io/proxystats) into ``VendorRecord``s, one per hour.
///
/// Each stat object has `timestamp` (ISO 8601 with an offset, the start of a 1-hour window with
/// 00:00 minute and second) and `bandwidth_total` (bytes in both directions for that hour).
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
    ///   `.malformedLine` (entry index) for an entry without a valid `timestamp` or `bandwidth_total`.
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
        for (index, entry) in entries.enumerated() {
            guard case .object(let object) = entry else {
                try reject("entry is not an object", index: index, skip: skipBadLines, file: file, into: &bad)
                continue
            }
            if case .bool(true)? = object["is_projected"] { continue }
            guard case .string(let timeText)? = object["timestamp"], let time = VendorTime.parse(timeText) else {
                try reject("timestamp is missing or has no offset", index: index, skip: skipBadLines, file: file, into: &bad)
                continue
            }
            let bytes: Int64?
            switch object["bandwidth_total"] {
            case .integer(let value)?: bytes = value
            case .number(let value)? where value >= 0 && value == value.rounded(): bytes = Int64(value)
            default: bytes = nil
            }
            guard let bytes, bytes >= 0 else {
                try reject("bandwidth_total is not a non-negative integer", index: index, skip: skipBadLines, file: file, into: &bad)
                continue
            }
            records.append(VendorRecord(timestamp: time, bytes: bytes, durationMS: 3_600_000))
        }
        return VendorImport(source: .webshareStats, records: records, badLines: bad, linesRead: entries.count)
    }

    private static func reject(
        _ reason: String, index: Int, skip: Bool, file: String?, into bad: inout [BadLine]
    ) throws(ReconciliationError) {
        guard skip else {
            throw ReconciliationError(.malformedLine, "stats entry \(index + 1): \(reason)", file: file, line: index + 1)
        }
        bad.append(BadLine(line: index + 1, reason: reason, text: "entry \(index + 1)"))
    }
}
