import Foundation
import Ledger
import Testing

@testable import Reconciliation

/// Out-of-range numbers in vendor files (the breaker's crafted crash cases, F7) are malformed
/// lines with their number, skippable with `skipBadLines`; sums beyond Int64 are a clear error.
@Suite("Out-of-range vendor numbers: bad lines and checked sums, never a crash")
struct OutOfRangeTests {
    static let csvHeader = "Time,Hostname,Destination Port,Bytes,Duration,Proxy,Your IP Address,Error Reason,Protocol\n"

    /// Parses `text` as a ledger-format Squid log and returns the error for line `line`.
    static func squidError(_ text: String, line: Int = 1) throws -> ReconciliationError {
        let error = try #require(throws: ReconciliationError.self) {
            try SquidAccessLogParser.parse(text, format: .ledger, file: "g.log")
        }
        #expect(error.code == .malformedLine && error.file == "g.log" && error.line == line)
        let skipped = try SquidAccessLogParser.parse(text, format: .ledger, skipBadLines: true, file: "g.log")
        #expect(skipped.badLines.map(\.line).contains(line))
        return error
    }

    static func csvError(duration: String) throws -> ReconciliationError {
        let text =
            csvHeader + "2026-11-29T16:37:20+00:00,127.0.0.1,45975,6394,\(duration),p.webshare.io,1.2.3.4,None,HTTP\n"
        let error = try #require(throws: ReconciliationError.self) {
            try WebshareActivityCSV.parse(text, file: "a.csv")
        }
        #expect(error.code == .malformedLine && error.line == 2)
        let skipped = try WebshareActivityCSV.parse(text, skipBadLines: true, file: "a.csv")
        #expect(skipped.records.isEmpty && skipped.badLines.map(\.line) == [2])
        return error
    }

    @Test("Squid: a time of 9999999999999 s (beyond year 9999) is a bad time")
    func squidHugeTime() throws {
        let error = try Self.squidError("9999999999999.000      1 127.0.0.1 TCP_MISS/200 464 5930 GET http://x/ lab\n")
        #expect(error.message.hasPrefix("bad time \"9999999999999.000\""))
        // the last second of 9999 is still accepted
        let last = try SquidAccessLogParser.parse("253402300799.999 1 c TCP_MISS/200 1 2 GET u -", format: .ledger)
        #expect(last.records.first?.timestamp.microseconds == 253_402_300_799_999_000)
    }

    @Test("Squid: an elapsed time of Int64.max ms is a bad elapsed time")
    func squidHugeElapsed() throws {
        let error = try Self.squidError(
            "1795970240.610 9223372036854775807 127.0.0.1 TCP_MISS/200 464 5930 GET http://x/ lab\n")
        #expect(error.message.hasPrefix("bad elapsed time \"9223372036854775807\""))
    }

    @Test("Squid: a request size of Int64.max (request + reply would overflow) is a bad byte count")
    func squidHugeBytes() throws {
        let error = try Self.squidError(
            "1795970240.610 1 127.0.0.1 TCP_MISS/200 9223372036854775807 5930 GET http://x/ lab\n")
        #expect(error.message.hasPrefix("bad byte count \"9223372036854775807\""))
        let justOver = try Self.squidError("1 1 c TCP_MISS/200 9007199254740993 0 GET u -\n")
        #expect(justOver.message.contains("2^53"))
        let max = try SquidAccessLogParser.parse(
            "1 1 c TCP_MISS/200 9007199254740992 9007199254740992 GET u -", format: .ledger)
        #expect(max.records.first?.bytes == 18_014_398_509_481_984)
    }

    @Test("Squid: two lines whose sum overflows Int64 are bad lines, and the Reconciler's sums are checked")
    func squidOverflowingSum() throws {
        let text = """
            1795970240.610 1 127.0.0.1 TCP_MISS/200 9223372036854775000 0 GET http://x/ lab
            1795970240.611 1 127.0.0.1 TCP_MISS/200 9223372036854775000 0 GET http://x/ lab
            """
        _ = try Self.squidError(text)
        let skipped = try SquidAccessLogParser.parse(text, format: .ledger, skipBadLines: true)
        #expect(skipped.badLines.map(\.line) == [1, 2] && skipped.records.isEmpty)
        // records built directly (not by a parser) still cannot make the Reconciler trap
        let half = Int64.max / 2 + 1
        let vendor = ReconcilerTests.squid([(ReconcilerTests.day, half), (ReconcilerTests.day + 1, half)])
        let error = try #require(throws: ReconciliationError.self) {
            try Reconciler.reconcile(vendor, ours: [], options: ReconciliationOptions())
        }
        #expect(error.code == .outOfRange && error.message.contains("the vendor's bytes in 2026-11-01T00:00Z"))
        #expect(vendor.totalBytes == nil)
        let ours = [LedgerUsageEvent(start: ReconcilerTests.day, end: ReconcilerTests.day, bytes: half)]
        let oursError = try #require(throws: ReconciliationError.self) {
            try Reconciler.reconcile(
                ReconcilerTests.squid([(ReconcilerTests.day, 1)]), ours: ours + ours, options: .init())
        }
        #expect(oursError.code == .outOfRange && oursError.message.hasPrefix("our bytes in"))
    }

    @Test("a poisoned ledger event (request_bytes + response_bytes beyond Int64) is a clear error")
    func poisonedLedgerEvent() throws {
        let event = ProxyRequestEvent(
            eventID: UUID(uuidString: "41111111-1111-4111-8111-111111111111") ?? UUID(),
            timestamp: LedgerTimestamp(microseconds: ReconcilerTests.day), component: "c", operation: "o",
            success: true,
            requestBytes: .max, responseBytes: 10, bytesMeasured: true, durationMS: 1, proxied: true)
        let error = try #require(throws: ReconciliationError.self) { try LedgerUsageEvent.make(event) }
        #expect(error.code == .outOfRange && error.message.contains("41111111-1111-4111-8111-111111111111"))
        var long = event
        long.requestBytes = 1
        long.durationMS = .max
        #expect(throws: ReconciliationError.self) { try LedgerUsageEvent.make(long) }
        long.durationMS = 1_500
        #expect(
            try LedgerUsageEvent.make(long)
                == LedgerUsageEvent(
                    start: ReconcilerTests.day, end: ReconcilerTests.day + 1_500_000, bytes: 11, responseBytes: 10))
    }

    @Test("CSV: a Duration of 1e30 ms is a bad line")
    func csvHugeDuration() throws {
        #expect(try Self.csvError(duration: "1e30").message.hasPrefix("Duration \"1e30\" is not a number"))
    }

    @Test(
        "CSV: a Duration of nan, NaN, inf or -inf is a bad line", arguments: ["nan", "NaN", "inf", "-inf", "infinity"])
    func csvNotANumberDuration(_ text: String) throws {
        #expect(try Self.csvError(duration: text).message.contains("Duration \"\(text)\""))
    }

    @Test("CSV: a Duration of 1e17s is a bad line; 1.5s and 850ms still parse")
    func csvHugeSecondsDuration() throws {
        #expect(try Self.csvError(duration: "1e17s").message.hasPrefix("Duration \"1e17s\""))
        #expect(WebshareActivityCSV.durationMS("1.5s") == 1_500 && WebshareActivityCSV.durationMS("850ms") == 850)
        #expect(WebshareActivityCSV.durationMS("-1") == nil && WebshareActivityCSV.durationMS("abc") == nil)
    }

    @Test("CSV: Bytes above 2^53 and a Time before 1970 are bad lines")
    func csvBytesAndTime() throws {
        let text =
            Self.csvHeader + "2026-11-29T16:37:20Z,h,443,9223372036854775807,1,p,ip,None,http\n"
            + "1969-12-31T23:59:59Z,h,443,1,1,p,ip,None,http\n"
        let parsed = try WebshareActivityCSV.parse(text, skipBadLines: true)
        #expect(parsed.badLines.map(\.line) == [2, 3])
        #expect(parsed.badLines[0].reason.hasPrefix("Bytes \"9223372036854775807\" is not an integer from 0 to 2^53"))
        #expect(parsed.badLines[1].reason.contains("outside years 1970 to 9999"))
    }

    @Test("stats: a bandwidth_total of 1e30 is a bad entry")
    func statsHugeBandwidth() throws {
        let json = Data(#"[{"timestamp":"2026-11-29T16:00:00Z","bandwidth_total":1e30}]"#.utf8)
        let error = try #require(throws: ReconciliationError.self) { try WebshareStats.parse(json, file: "s.json") }
        #expect(error.code == .malformedLine && error.line == 1 && error.message.contains("bandwidth_total"))
        #expect(try WebshareStats.parse(json, skipBadLines: true).badLines.map(\.line) == [1])
        let exact = Data(#"[{"timestamp":"2026-11-29T16:00:00Z","bandwidth_total":1e3}]"#.utf8)
        #expect(try WebshareStats.parse(exact).records.map(\.bytes) == [1_000])
    }

    @Test("stats: two hours of Int64.max bytes (an overflowing sum) are bad entries")
    func statsOverflowingSum() throws {
        let json = Data(
            (#"[{"timestamp":"2026-11-29T16:00:00Z","bandwidth_total":9223372036854775807},"#
                + #"{"timestamp":"2026-11-29T17:00:00Z","bandwidth_total":9223372036854775807}]"#).utf8)
        let parsed = try WebshareStats.parse(json, skipBadLines: true)
        #expect(parsed.records.isEmpty && parsed.badLines.map(\.line) == [1, 2])
        #expect(parsed.badLines[0].reason == "bandwidth_total is not an integer from 0 to 2^53")
    }
}
