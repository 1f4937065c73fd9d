import Foundation
import Ledger
import Testing

@testable import Reconciliation

/// Real-world shapes of Webshare exports (F11, F12): Excel's BOM, European separators, short
/// records, duplicate columns; stats hours that are not whole UTC hours or appear twice.
@Suite("Webshare exports: BOM, separators, field counts, stats hours")
struct WebshareFormatTests {
    static let header = "Time,Hostname,Destination Port,Bytes,Duration,Proxy,Your IP Address,Error Reason,Protocol\n"
    static let row = "2026-11-29T16:37:20Z,127.0.0.1,45975,6394,8ms,p.webshare.io,1.2.3.4,None,HTTP\n"

    @Test("a leading UTF-8 BOM (Excel's CSV UTF-8) is ignored")
    func byteOrderMark() throws {
        let parsed = try WebshareActivityCSV.parse("\u{FEFF}" + Self.header + Self.row)
        #expect(parsed.records.map(\.bytes) == [6_394] && parsed.records[0].durationMS == 8)
        let fromBytes = String(decoding: [0xEF, 0xBB, 0xBF] + Array((Self.header + Self.row).utf8), as: UTF8.self)
        #expect(try WebshareActivityCSV.parse(fromBytes).records.count == 1)
    }

    @Test("a semicolon- or tab-separated export asks whether the file is comma-separated", arguments: [";", "\t"])
    func notCommaSeparated(_ separator: String) throws {
        let text = (Self.header + Self.row).replacingOccurrences(of: ",", with: separator)
        let error = try #require(throws: ReconciliationError.self) {
            try WebshareActivityCSV.parse(text, file: "w.csv")
        }
        #expect(error.code == .malformedInput && error.file == "w.csv")
        #expect(error.message.contains("no \"Time\" column") && error.message.hasSuffix("is the file comma-separated?"))
        // a comma-separated header without Time says only that
        let plain = try #require(throws: ReconciliationError.self) {
            try WebshareActivityCSV.parse("Hostname,Bytes\nh,1\n")
        }
        #expect(!plain.message.contains("comma-separated"))
    }

    @Test("a record with fewer fields than the header is a malformed line saying so")
    func shortRecord() throws {
        let text = "Time,Hostname,Bytes\n2026-11-29T16:37:20Z,h\n2026-11-29T16:37:21Z,h,5\n"
        let error = try #require(throws: ReconciliationError.self) {
            try WebshareActivityCSV.parse(text, file: "s.csv")
        }
        #expect(error.code == .malformedLine && error.line == 2)
        #expect(error.message.hasPrefix("record has 2 fields, the header has 3"))
        let skipped = try WebshareActivityCSV.parse(text, skipBadLines: true)
        #expect(
            skipped.records.map(\.bytes) == [5]
                && skipped.badLines.map(\.reason) == ["record has 2 fields, the header has 3"])
    }

    @Test("a column named twice in the header is malformed input naming it")
    func duplicateColumn() throws {
        let error = try #require(throws: ReconciliationError.self) {
            try WebshareActivityCSV.parse("Time,Hostname,Bytes, bytes \n2026-11-29T16:37:20Z,h,1,2\n", file: "d.csv")
        }
        #expect(error.code == .malformedInput && error.message == "the CSV header names the column \"bytes\" twice")
    }

    @Test("a stats entry not at the start of a UTC hour is malformed; +05:30 on a whole UTC hour is fine")
    func statsHalfHour() throws {
        let json = Data(#"{"results":[{"timestamp":"2026-11-29T16:30:00Z","bandwidth_total":409059}]}"#.utf8)
        let error = try #require(throws: ReconciliationError.self) { try WebshareStats.parse(json, file: "h.json") }
        #expect(
            error.code == .malformedLine && error.line == 1 && error.message.contains("not the start of a UTC hour"))
        let india = Data(#"[{"timestamp":"2026-11-29T21:30:00+05:30","bandwidth_total":409059}]"#.utf8)
        #expect(
            try WebshareStats.parse(india).records.first?.timestamp == LedgerTimestamp(rfc3339: "2026-11-29T16:00:00Z"))
    }

    @Test("two stats entries for the same hour are a duplicated page, not summed")
    func statsDuplicateHour() throws {
        let json = Data(
            (#"[{"timestamp":"2026-11-29T16:00:00Z","bandwidth_total":200000},"#
                + #"{"timestamp":"2026-11-29T21:30:00+05:30","bandwidth_total":209059}]"#).utf8)
        let error = try #require(throws: ReconciliationError.self) { try WebshareStats.parse(json) }
        #expect(
            error.line == 2 && error.message.contains("first: entry 1") && error.message.contains("duplicated page"))
        let skipped = try WebshareStats.parse(json, skipBadLines: true)
        #expect(skipped.records.map(\.bytes) == [200_000] && skipped.badLines.map(\.line) == [2])
    }

    @Test("the Reconciler refuses stats at an offset that is not a whole number of hours")
    func statsNeedWholeHourOffset() throws {
        let stats = try WebshareStats.parse(Data(#"[{"timestamp":"2026-11-29T16:00:00Z","bandwidth_total":5}]"#.utf8))
        let error = try #require(throws: ReconciliationError.self) {
            try Reconciler.reconcile(stats, ours: [], options: ReconciliationOptions(utcOffsetSeconds: 19_800))
        }
        #expect(error.code == .invalidArgument && error.message.contains("+05:00 or +06:00"))
        let whole = try Reconciler.reconcile(stats, ours: [], options: ReconciliationOptions(utcOffsetSeconds: 18_000))
        #expect(whole.total.theirs == 5)
        #expect(Reconciler.wholeHourMessage(-16_200).contains("-04:00 or -05:00"))
    }
}
