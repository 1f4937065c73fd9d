import Foundation
import Ledger

/// Parses Squid access logs into ``VendorRecord``s.
///
/// Two formats (source: Squid `logformat` documentation, squid-cache.org/Doc/config/logformat):
/// - ``Format/native``, Squid's default `squid` format, 10 fields:
///   `%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt`. It has only the reply size
///   (`%<st`), so ``VendorRecord/requestBytes`` is `nil` and the bytes undercount what a vendor
///   billing both directions charges.
/// - ``Format/ledger``, the lab's format, 9 fields:
///   `%ts.%03tu %6tr %>a %Ss/%03>Hs %>st %<st %rm %ru %un`; bytes are `%>st + %<st`.
///
/// Fields are separated by runs of spaces or tabs (`%6tr` is padded). Time is Unix seconds, with
/// or without `.mmm` (always UTC, no offset). Blank lines are ignored. IPv6 clients (`::1`),
/// `TCP_DENIED/407` lines, 0-byte CONNECT lines and status `000` are ordinary records.
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
        for line in text.split(separator: "\n") {
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
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
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
            source: format == .native ? .squidNative : .squidLedger, records: records, badLines: bad, linesRead: read)
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
        guard let time = parseTime(fields[0]) else { return .failure(LineError(message: "bad time \"\(fields[0].prefix(20))\"")) }
        guard let elapsed = Int64(fields[1]), elapsed >= 0 else { return .failure(LineError(message: "bad elapsed time")) }
        let codeStatus = fields[3].split(separator: "/", omittingEmptySubsequences: false)
        guard codeStatus.count == 2, !codeStatus[0].isEmpty, let status = Int(codeStatus[1]), codeStatus[1].count == 3
        else { return .failure(LineError(message: "bad result code/status \"\(fields[3].prefix(30))\"")) }
        let userField = fields[format == .native ? 7 : 8]
        var record = VendorRecord(
            timestamp: time, bytes: 0, durationMS: elapsed, status: status, method: String(fields[format == .native ? 5 : 6]),
            target: String(fields[format == .native ? 6 : 7]), resultCode: String(codeStatus[0]),
            user: userField == "-" ? nil : String(userField).removingPercentEncoding ?? String(userField))
        switch format {
        case .native:
            guard let reply = Int64(fields[4]), reply >= 0 else { return .failure(LineError(message: "bad byte count")) }
            record.responseBytes = reply
            record.bytes = reply
        case .ledger:
            guard let request = Int64(fields[4]), request >= 0, let reply = Int64(fields[5]), reply >= 0 else {
                return .failure(LineError(message: "bad byte count"))
            }
            record.requestBytes = request
            record.responseBytes = reply
            record.bytes = request + reply
        }
        return .success(record)
    }

    /// `SECONDS` or `SECONDS.FRACTION` since the Unix epoch, UTC.
    static func parseTime(_ text: Substring) -> LedgerTimestamp? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let seconds = Int64(parts[0]), seconds >= 0,
            parts[0].allSatisfy(\.isASCII)
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
