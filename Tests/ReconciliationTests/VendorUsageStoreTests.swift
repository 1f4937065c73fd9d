import Foundation
import GRDB
import Ledger
import Projections
import TestSupport
import Testing

@testable import Reconciliation

/// `VendorUsageStore.save`: an import replaces the store only inside its own time span.
@Suite("VendorUsageStore: imports merge by time span")
struct VendorUsageStoreTests {
    static let day = ReconcilerTests.day
    static let hour = ReconcilerTests.hour
    static let second = ReconcilerTests.second

    /// A Squid log in the lab's `ledger` format: one line per (µs since `day`, request, reply bytes).
    static func squidLog(_ lines: [(Int64, Int64, Int64)]) -> String {
        lines.map { offset, up, down in
            let ms = (day + offset) / 1_000
            return "\(ms / 1_000).\(String(format: "%03d", ms % 1_000))    400 127.0.0.1 TCP_TUNNEL/200 \(up) \(down)"
                + " CONNECT www.youtube.com:443 u-rotate"
        }.joined(separator: "\n") + "\n"
    }

    /// 23 requests from 10:00:00Z to 11:13:20Z, 200 s apart, except that the 12th and 13th both end
    /// at 10:40:00.500 (a rotation inside one millisecond when the log is split after 12 lines).
    static let fullLog: [(Int64, Int64, Int64)] = (0..<23).map { index in
        let time = index == 11 || index == 12 ? 10 * hour + 2_400_500_000 : 10 * hour + Int64(index) * 200 * second
        return (time, Int64(100 + index), Int64(9_000 + 37 * index))
    }

    static func totalBytes(_ lines: [(Int64, Int64, Int64)]) -> Int64 { lines.reduce(0) { $0 + $1.1 + $1.2 } }

    static func save(_ lines: [(Int64, Int64, Int64)], into path: String, utcOffsetSeconds: Int = 0) throws {
        let vendor = try SquidAccessLogParser.parse(squidLog(lines), format: .ledger)
        try VendorUsageStore.save(vendor, databasePath: path, from: 0, to: day * 2, utcOffsetSeconds: utcOffsetSeconds)
    }

    /// (hour_start_us, bytes, request_bytes, response_bytes, records) of every hourly row.
    static func hourly(_ path: String) throws -> [[Int64?]] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT hour_start_us, bytes, request_bytes, response_bytes, records FROM vendor_usage_hourly
                    ORDER BY hour_start_us
                    """
            ).map { row in (0..<5).map { row[$0] as Int64? } }
        }
    }

    @Test("two imports into one open store each stage only their own records")
    func importsSharingAStoreStageApart() throws {
        let scratch = try TemporaryDirectory("vendor-shared-store")
        let store = try ProjectionStore(path: scratch.file("p.sqlite"))
        defer { try? store.close() }
        let halves = [Array(Self.fullLog[..<10]), Array(Self.fullLog[15...])]
        var changes: [VendorUsageStore.Change] = []
        for half in halves {
            let vendor = try SquidAccessLogParser.parse(Self.squidLog(half), format: .ledger)
            let staged = VendorUsageStore.Import(source: vendor.source, store: store, from: 0, to: Self.day * 2)
            for record in vendor.records { try staged.add(record) }
            changes.append(try staged.commit())
        }
        #expect(changes.map(\.after.records) == [10, 8])
        #expect(changes[1].span?.lowerBound == Self.day + Self.fullLog[15].0, "the second span starts at its own first record")
    }

    @Test("an import says what it replaced, so a filtered log over the same span shows as fewer records")
    func changeReportsWhatWasReplaced() throws {
        let scratch = try TemporaryDirectory("vendor-change")
        let path = scratch.file("p.sqlite")
        let parse = { (lines: [(Int64, Int64, Int64)]) in try SquidAccessLogParser.parse(Self.squidLog(lines), format: .ledger) }
        let first = try VendorUsageStore.saveReportingChange(try parse(Self.fullLog), databasePath: path, from: 0, to: Self.day * 2)
        #expect(first.before == VendorUsageStore.Tally(records: 0, bytes: 0))
        #expect(first.after == VendorUsageStore.Tally(records: 23, bytes: Self.totalBytes(Self.fullLog)))
        let filtered = Array(Self.fullLog[..<5]) + Array(Self.fullLog[18...])
        let second = try VendorUsageStore.saveReportingChange(try parse(filtered), databasePath: path, from: 0, to: Self.day * 2)
        #expect(second.before == first.after)
        #expect(second.after == VendorUsageStore.Tally(records: 10, bytes: Self.totalBytes(filtered)))
    }

    @Test("the two halves of a rotated log are both kept, in either order, also at a shared millisecond")
    func rotatedHalvesAreSummed() throws {
        let scratch = try TemporaryDirectory("vendor-rotated")
        let (first, second) = (Array(Self.fullLog[..<12]), Array(Self.fullLog[12...]))
        let whole = scratch.file("whole.sqlite")
        let forward = scratch.file("forward.sqlite")
        let backward = scratch.file("backward.sqlite")
        try Self.save(Self.fullLog, into: whole)
        try Self.save(first, into: forward)
        try Self.save(second, into: forward)
        try Self.save(second, into: backward)
        try Self.save(first, into: backward)

        let total = Self.totalBytes(Self.fullLog)
        #expect(total == 218_914)
        for path in [forward, backward] {
            #expect(
                try VendorUsageStore.dailyRows(databasePath: path) == [
                    .init(key: "2026-11-01", source: "squid-ledger", bytes: total, records: 23)
                ])
            #expect(try Self.hourly(path) == Self.hourly(whole))
        }
        let hours = try Self.hourly(forward)
        #expect(hours.map { $0[0] } == [Self.day + 10 * Self.hour, Self.day + 11 * Self.hour])
        #expect(hours.map { $0[4] } == [18, 5])
        #expect(hours.compactMap { $0[2] }.reduce(0, +) == Self.fullLog.reduce(0) { $0 + $1.1 })
    }

    @Test("importing the same file twice changes nothing")
    func sameFileTwiceIsIdempotent() throws {
        let scratch = try TemporaryDirectory("vendor-twice")
        let path = scratch.file("p.sqlite")
        try Self.save(Self.fullLog, into: path)
        let daily = try VendorUsageStore.dailyRows(databasePath: path)
        let hourly = try Self.hourly(path)
        try Self.save(Self.fullLog, into: path)
        #expect(try VendorUsageStore.dailyRows(databasePath: path) == daily)
        #expect(try Self.hourly(path) == hourly)
        #expect(daily.first?.bytes == Self.totalBytes(Self.fullLog))
    }

    @Test("a growing log imported again replaces its earlier import")
    func growingFileReplaces() throws {
        let scratch = try TemporaryDirectory("vendor-growing")
        let path = scratch.file("p.sqlite")
        try Self.save(Array(Self.fullLog[..<7]), into: path)
        try Self.save(Array(Self.fullLog[..<15]), into: path)
        try Self.save(Self.fullLog, into: path)
        #expect(
            try VendorUsageStore.dailyRows(databasePath: path) == [
                .init(key: "2026-11-01", source: "squid-ledger", bytes: Self.totalBytes(Self.fullLog), records: 23)
            ])
    }

    @Test("an import with a later span keeps the earlier hours, and the earlier part of a shared hour")
    func laterSpanKeepsEarlierHours() throws {
        let scratch = try TemporaryDirectory("vendor-later")
        let path = scratch.file("p.sqlite")
        let early: [(Int64, Int64, Int64)] = [
            (8 * Self.hour + 5 * Self.second, 10, 1_000), (9 * Self.hour + 600 * Self.second, 20, 2_000),
        ]
        let later: [(Int64, Int64, Int64)] = [
            (9 * Self.hour + 2_400 * Self.second, 30, 3_000), (14 * Self.hour, 40, 4_000),
        ]
        try Self.save(early, into: path)
        try Self.save(later, into: path)
        #expect(
            try Self.hourly(path).map { [$0[0], $0[1], $0[4]] } == [
                [Self.day + 8 * Self.hour, 1_010, 1],
                [Self.day + 9 * Self.hour, 2_020 + 3_030, 2],
                [Self.day + 14 * Self.hour, 4_040, 1],
            ])
        #expect(try VendorUsageStore.dailyRows(databasePath: path).map(\.bytes) == [1_010 + 2_020 + 3_030 + 4_040])
    }

    @Test("days at every stored offset are recomputed; an import spanning two days touches both")
    func everyStoredOffsetIsRecomputed() throws {
        let scratch = try TemporaryDirectory("vendor-offsets")
        let path = scratch.file("p.sqlite")
        // 20:00Z is 01:30 on 2026-11-02 at +05:30.
        try Self.save([(2 * Self.hour, 1, 99), (20 * Self.hour, 1, 199)], into: path, utcOffsetSeconds: 19_800)
        try Self.save([(23 * Self.hour, 1, 299), (25 * Self.hour, 1, 399)], into: path)
        #expect(
            try VendorUsageStore.dailyRows(databasePath: path, utcOffsetSeconds: 19_800).map(\.bytes) == [
                100, 200 + 300 + 400,
            ])
        #expect(try VendorUsageStore.dailyRows(databasePath: path).map(\.bytes) == [100 + 200 + 300, 400])
    }

    @Test("an hour-grained source (Webshare stats) replaces an hour fetched again, never adds to it")
    func statsHoursAreReplaced() throws {
        let scratch = try TemporaryDirectory("vendor-stats")
        let path = scratch.file("p.sqlite")
        func stats(_ hours: [(Int64, Int64)]) -> VendorImport {
            VendorImport(
                source: .webshareStats,
                records: hours.map {
                    VendorRecord(timestamp: LedgerTimestamp(microseconds: Self.day + $0.0 * Self.hour), bytes: $0.1)
                },
                linesRead: hours.count)
        }
        try VendorUsageStore.save(stats([(9, 500), (10, 700)]), databasePath: path, from: 0, to: Self.day * 2)
        try VendorUsageStore.save(stats([(10, 900), (11, 300)]), databasePath: path, from: 0, to: Self.day * 2)
        #expect(
            try Self.hourly(path).map { [$0[0], $0[1], $0[2]] } == [
                [Self.day + 9 * Self.hour, 500, nil], [Self.day + 10 * Self.hour, 900, nil],
                [Self.day + 11 * Self.hour, 300, nil],
            ])
        #expect(try VendorUsageStore.dailyRows(databasePath: path).map(\.bytes) == [1_700])
    }

    @Test("negative bytes are refused and nothing is stored")
    func negativeBytesAreRefused() throws {
        let scratch = try TemporaryDirectory("vendor-negative")
        let path = scratch.file("p.sqlite")
        let vendor = VendorImport(
            source: .squidLedger,
            records: [VendorRecord(timestamp: LedgerTimestamp(microseconds: Self.day), bytes: -1)], linesRead: 1)
        let error = try #require(throws: ReconciliationError.self) {
            try VendorUsageStore.save(vendor, databasePath: path, from: 0, to: Self.day * 2)
        }
        #expect(error.code == .outOfRange)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("the finance report reads the summed figures of both halves")
    func reportSeesTheSummedFigures() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let scratch = try TemporaryDirectory("vendor-report")
        let path = scratch.file("p.sqlite")
        let store = try ProjectionStore(path: path)
        let event = ProxyRequestEvent(
            timestamp: LedgerTimestamp(microseconds: Self.day + 10 * Self.hour), component: "c", operation: "o",
            success: true, requestBytes: 2_553, responseBytes: 216_361, estimatedBytes: 218_914, bytesMeasured: true,
            durationMS: 5, proxied: true)
        let late = ProxyRequestEvent(
            timestamp: LedgerTimestamp(microseconds: Self.day + 30 * Self.hour), component: "c", operation: "o",
            success: true, requestBytes: 1, responseBytes: 1, estimatedBytes: 2, bytesMeasured: true, durationMS: 5,
            proxied: true)
        _ = try Projector(store: store).apply(
            [event, late].enumerated().map { index, event in
                LedgerRecord(schemaVersion: 1, position: .init(partition: 0, sequence: UInt64(index)), event: event)
            })
        try store.close()
        try Self.save(Array(Self.fullLog[..<12]), into: path)
        try Self.save(Array(Self.fullLog[12...]), into: path)

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let report = try BuiltExecutable.run([
            "report", "--db", path, "--rate-card", root.appendingPathComponent("Fixtures/rate-card.example.json").path,
            "--from", "2026-11-01T00:00:00Z", "--to", "2026-11-03T00:00:00Z", "--tz", "UTC",
            "--as-of", "2026-11-03T00:00:00Z", "--format", "json", "--out", "-",
        ])
        #expect(report.status == 0, "\(report.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let days = try #require((json["reconciliation"] as? [String: Any])?["days"] as? [[String: Any]])
        #expect(days.count == 1)
        #expect(days.first?["date"] as? String == "2026-11-01")
        #expect((days.first?["theirs_bytes"] as? NSNumber)?.int64Value == 218_914)
        #expect((days.first?["ours_bytes"] as? NSNumber)?.int64Value == 218_914)
        #expect(days.first?["within_tolerance"] as? Bool == true)
    }
}
