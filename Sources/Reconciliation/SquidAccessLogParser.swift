import Foundation
import Ledger

/// Parses Squid access logs into ``VendorRecord``s.
///
/// Two formats (source: Squid `logformat` documentation, squid-cache.org/Doc/config/logformat):
/// - ``Format/native``, Squid's default `squid` format, 10 fields:
///   `%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt`. It has only the reply size
///   (`%<st`, bytes sent to the client), so ``VendorRecord/requestBytes`` is `nil`; the
///   ``Reconciler`` then compares it with our response bytes only.
/// - ``Format/ledger``, the lab's format, 9 fields:
///   `%ts.%03tu %6tr %>a %Ss/%03>Hs %>st %<st %rm %ru %un`; bytes are `%>st + %<st`.
///
/// Lines end at LF; a CR before the LF is dropped, so CRLF logs read like LF logs (no other
/// character ends a line). Fields are separated by runs of the bytes space, tab or CR (`%6tr` is
/// padded). Time is Unix seconds, with or without `.mmm` (always UTC, no offset). Blank lines are
/// ignored. IPv6 clients (`::1`), `TCP_DENIED/407` lines, 0-byte CONNECT lines and status `000`
/// are ordinary records. A time outside years 1970 to 9999, an elapsed time above 366 days, a
/// byte count above 2^53 (``VendorBounds``) or a line longer than 1 MiB makes the line malformed.
///
/// ``parse(_:format:skipBadLines:file:)`` reads a log held in memory; ``SquidLogFile`` reads a
/// file in chunks and hands over one record at a time.
public enum SquidAccessLogParser {
    /// A Squid log format.
    public enum Format: String, Sendable, CaseIterable {
        /// Squid's native `squid` logformat (10 fields).
        case native
        /// The lab's `ledger` logformat (9 fields).
        case ledger

        /// The number of whitespace-separated fields per line.
        var fieldCount: Int { self == .native ? 10 : 9 }

        /// The source its records come from.
        var source: VendorSource { self == .native ? .squidNative : .squidLedger }
    }

    /// Guesses the format from the first non-blank line: 10 fields is native, 9 is ledger.
    ///
    /// - Parameter text: The log text.
    /// - Returns: The format, or `nil` when there is no non-blank line or it has another field count.
    public static func detectFormat(_ text: String) -> Format? {
        firstLineFieldCount(text).flatMap(format(fieldCount:))
    }

    /// The format with `fieldCount` fields per line, if any.
    public static func format(fieldCount: Int) -> Format? {
        Format.allCases.first { $0.fieldCount == fieldCount }
    }

    /// The number of fields on the first non-blank line of `text`; `nil` when there is none.
    public static func firstLineFieldCount(_ text: String) -> Int? {
        var count: Int?
        try? LineSplitter.lines(of: text) { line throws(ReconciliationError) in
            guard count == nil, !isBlank(line.bytes) else { return }
            count = fields(String(decoding: line.bytes, as: UTF8.self)[...]).count
        }
        return count
    }

    /// Parses a whole log held in memory.
    ///
    /// - Parameters:
    ///   - text: The log text (LF or CRLF line ends).
    ///   - format: The log format.
    ///   - skipBadLines: When `true`, malformed lines are listed in ``VendorImport/badLines`` and
    ///     skipped; when `false`, the first one throws.
    ///   - file: The file name, for errors.
    /// - Returns: The records, in file order.
    /// - Throws: ``ReconciliationError`` with code `.malformedLine` and the 1-based line number.
    public static func parse(
        _ text: String, format: Format, skipBadLines: Bool = false, file: String? = nil
    ) throws(ReconciliationError) -> VendorImport {
        var records: [VendorRecord] = []
        var parser = LineParser(format: format, skipBadLines: skipBadLines, file: file)
        try LineSplitter.lines(of: text) { line throws(ReconciliationError) in
            try parser.take(line) { record throws(ReconciliationError) in records.append(record) }
        }
        let scan = parser.scan
        return VendorImport(
            source: format.source, records: records, badLines: scan.badLines, linesRead: scan.linesRead, file: file)
    }

    /// The state of one pass over a log: lines in, records out.
    struct LineParser {
        let format: Format
        let skipBadLines: Bool
        let file: String?
        private(set) var scan: VendorScan

        init(format: Format, skipBadLines: Bool, file: String?) {
            self.format = format
            self.skipBadLines = skipBadLines
            self.file = file
            scan = VendorScan(source: format.source, file: file, records: 0, linesRead: 0)
        }

        /// Parses one line and hands its record to `body`; blank lines are ignored.
        ///
        /// - Throws: `.malformedLine` for a bad line unless skipping; what `body` throws.
        mutating func take(
            _ line: LineSplitter.Line, _ body: (VendorRecord) throws(ReconciliationError) -> Void
        ) throws(ReconciliationError) {
            guard !isBlank(line.bytes) else { return }
            scan.linesRead += 1
            let text = String(decoding: line.bytes, as: UTF8.self)[...]
            let parsed =
                line.isTruncated
                ? .failure(LineError(message: "line longer than \(LineSplitter.defaultMaxLineBytes) bytes"))
                : parseLine(text, format: format)
            switch parsed {
            case .success(let record):
                scan.records += 1
                try body(record)
            case .failure(let reason):
                guard skipBadLines else {
                    throw ReconciliationError(
                        .malformedLine, "\(reason.message) (use --skip-bad-lines to skip it): \(text.prefix(80))",
                        file: file, line: line.number)
                }
                scan.badLines.append(BadLine(line: line.number, reason: reason.message, text: text))
            }
        }
    }

    /// Whether a line holds only spaces, tabs and CRs.
    static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// A line's fields: the runs between the bytes space, tab and CR (split on UTF-8 bytes, not
    /// Characters, for speed; those ASCII bytes never occur inside a multi-byte character).
    static func fields(_ line: Substring) -> [Substring] {
        let utf8 = line.utf8
        var fields: [Substring] = []
        fields.reserveCapacity(10)
        var start: Substring.UTF8View.Index?
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == 0x20 || byte == 0x09 || byte == 0x0D {
                if let first = start { fields.append(Substring(utf8[first..<index])) }
                start = nil
            } else if start == nil {
                start = index
            }
            utf8.formIndex(after: &index)
        }
        if let first = start { fields.append(Substring(utf8[first...])) }
        return fields
    }

    /// Why one line was rejected.
    struct LineError: Error {
        var message: String
    }

    /// Parses one non-blank line.
    static func parseLine(_ line: Substring, format: Format) -> Result<VendorRecord, LineError> {
        let fields = Self.fields(line)
        guard fields.count == format.fieldCount else {
            return .failure(LineError(message: "expected \(format.fieldCount) fields, found \(fields.count)"))
        }
        guard let time = parseTime(fields[0]) else {
            return .failure(
                LineError(message: "bad time \"\(fields[0].prefix(20))\" (Unix seconds, years 1970 to 9999)"))
        }
        guard let elapsed = Int64(fields[1]), (0...VendorBounds.maxDurationMS).contains(elapsed) else {
            return .failure(LineError(message: "bad elapsed time \"\(fields[1].prefix(20))\" (ms, at most 366 days)"))
        }
        let codeStatus = fields[3].split(separator: "/", omittingEmptySubsequences: false)
        guard codeStatus.count == 2, !codeStatus[0].isEmpty, let status = Int(codeStatus[1]), codeStatus[1].count == 3
        else { return .failure(LineError(message: "bad result code/status \"\(fields[3].prefix(30))\"")) }
        let userField = fields[format == .native ? 7 : 8]
        var record = VendorRecord(
            timestamp: time, bytes: 0, durationMS: elapsed, status: status,
            method: String(fields[format == .native ? 5 : 6]),
            target: String(fields[format == .native ? 6 : 7]), resultCode: String(codeStatus[0]),
            user: userField == "-" ? nil : decodedUser(userField))
        switch format {
        case .native:
            guard let reply = byteCount(fields[4]) else { return .failure(badBytes(fields[4])) }
            record.responseBytes = reply
            record.bytes = reply
        case .ledger:
            guard let request = byteCount(fields[4]) else { return .failure(badBytes(fields[4])) }
            guard let reply = byteCount(fields[5]) else { return .failure(badBytes(fields[5])) }
            record.requestBytes = request
            record.responseBytes = reply
            record.bytes = request + reply  // each is at most 2^53: no overflow
        }
        return .success(record)
    }

    /// `%un` percent-decoded (kept as logged when that fails); without a `%` there is nothing to decode.
    static func decodedUser(_ field: Substring) -> String {
        let text = String(field)
        guard field.utf8.contains(UInt8(ascii: "%")) else { return text }
        return text.removingPercentEncoding ?? text
    }

    /// A byte count in `0...VendorBounds.maxBytes` (2^53), or `nil`.
    static func byteCount(_ text: Substring) -> Int64? {
        guard let value = Int64(text), VendorBounds.isValidByteCount(value) else { return nil }
        return value
    }

    static func badBytes(_ text: Substring) -> LineError {
        LineError(message: "bad byte count \"\(text.prefix(24))\" (0 to 2^53)")
    }

    /// `SECONDS` or `SECONDS.FRACTION` since the Unix epoch, UTC; `nil` outside years 1970 to 9999
    /// (``VendorBounds/times``).
    static func parseTime(_ text: Substring) -> LedgerTimestamp? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let seconds = Int64(parts[0]),
            (0...VendorBounds.times.upperBound / 1_000_000).contains(seconds), parts[0].allSatisfy(\.isASCII)
        else { return nil }
        var micros: Int64 = 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard !fraction.isEmpty, fraction.count <= 6, fraction.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int64(fraction)
            else { return nil }
            micros = value * Int64(pow(10.0, Double(6 - fraction.count)))
        }
        return LedgerTimestamp(microseconds: seconds * 1_000_000 + micros)
    }
}
