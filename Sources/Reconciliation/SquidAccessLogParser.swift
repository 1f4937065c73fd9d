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
/// Fields are separated by runs of spaces or tabs (`%6tr` is padded). Time is Unix seconds, with
/// or without `.mmm` (always UTC, no offset). Blank lines are ignored. IPv6 clients (`::1`),
/// `TCP_DENIED/407` lines, 0-byte CONNECT lines and status `000` are ordinary records. A time
/// outside years 1970 to 9999, an elapsed time above 366 days or a byte count above 2^53
/// (``VendorBounds``) makes the line malformed.
public enum SquidAccessLogParser {
    /// A Squid log format.
    public enum Format: String, Sendable, CaseIterable {
        /// Squid's native `squid` logformat (10 fields).
        case native
        /// The lab's `ledger` logformat (9 fields).
        case ledger

        /// The number of whitespace-separated fields per line.
        var fieldCount: Int { self == .native ? 10 : 9 }
    }

    /// Guesses the format from the first non-blank line: 10 fields is native, 9 is ledger.
    ///
    /// - Parameter text: The log text.
    /// - Returns: The format, or `nil` when there is no non-blank line or it has another field count.
    public static func detectFormat(_ text: String) -> Format? {
        // `\.isNewline`, not `"\n"`: Swift reads "\r\n" as one Character, which `"\n"` never matches.
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            return Format.allCases.first { $0.fieldCount == fields.count }
        }
        return nil
    }

    /// Parses a whole log.
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
        var bad: [BadLine] = []
        var read = 0
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            read += 1
            switch parseLine(line, format: format) {
            case .success(let record):
                records.append(record)
            case .failure(let reason):
                guard skipBadLines else {
                    throw ReconciliationError(
                        .malformedLine, "\(reason.message) (use --skip-bad-lines to skip it): \(line.prefix(80))",
                        file: file, line: index + 1)
                }
                bad.append(BadLine(line: index + 1, reason: reason.message, text: line))
            }
        }
        return VendorImport(
            source: format == .native ? .squidNative : .squidLedger, records: records, badLines: bad, linesRead: read,
            file: file)
    }

    /// Why one line was rejected.
    struct LineError: Error {
        var message: String
    }

    /// Parses one non-blank line.
    static func parseLine(_ line: Substring, format: Format) -> Result<VendorRecord, LineError> {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
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
            user: userField == "-" ? nil : String(userField).removingPercentEncoding ?? String(userField))
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
