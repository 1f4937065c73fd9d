import Foundation
import Ledger
import Projections
import Testing
import TestSupport

@testable import Reconciliation

@Suite("Reconciler: buckets, tolerance, unattributed, storage")
struct ReconcilerTests {
    /// 2026-11-01T00:00:00Z in UTC µs.
    static let day: Int64 = 1_793_491_200_000_000
    static let hour: Int64 = 3_600_000_000
    static let second: Int64 = 1_000_000

    static func squid(_ records: [(Int64, Int64)]) -> VendorImport {
        VendorImport(
            source: .squidLedger,
            records: records.map { VendorRecord(timestamp: LedgerTimestamp(microseconds: $0.0), bytes: $0.1, durationMS: 100) },
            linesRead: records.count)
    }

    @Test("2026-11-01 is the day constant")
    func dayConstant() {
        #expect(LedgerTimestamp(microseconds: Self.day).rfc3339 == "2026-11-01T00:00:00.000000Z")
    }

    @Test("half-open windows and buckets: a record at the boundary belongs to the next bucket; `to` is excluded")
    func halfOpen() throws {
        let vendor = Self.squid([(Self.day + Self.hour, 100), (Self.day + Self.hour - 1, 7), (Self.day + 2 * Self.hour, 50)])
        let ours = [
            LedgerUsageEvent(start: Self.day + Self.hour, end: Self.day + Self.hour, bytes: 100),
            LedgerUsageEvent(start: Self.day + Self.hour - 1, end: Self.day + Self.hour - 1, bytes: 7),
        ]
        let report = try Reconciler.reconcile(
            vendor, ours: ours, options: ReconciliationOptions(from: Self.day, to: Self.day + 2 * Self.hour))
        let hours = report.buckets.filter { $0.granularity == .hour }
        #expect(hours.map(\.label) == ["2026-11-01T00:00Z", "2026-11-01T01:00Z"])
        #expect(hours.map(\.theirs) == [7, 100] && hours.map(\.ours) == [7, 100])
        #expect(report.vendorRecordsOutsideWindow == 1)
        let days = report.buckets.filter { $0.granularity == .day }
        #expect(days.count == 1 && days[0].end == "2026-11-01T02:00:00.000000Z")
        #expect(report.total.theirs == 107 && report.total.delta == 0 && report.total.deltaPercent == 0)
    }

    @Test("days aligned to +05:30 start at 18:30Z and are labelled in local dates")
    func offsetGrid() {
        let grid = BucketGrid(.day, utcOffsetSeconds: 19_800)
        let start = grid.start(of: Self.day)  // 2026-11-01T00:00Z is 05:30 local on Nov 1
        #expect(LedgerTimestamp(microseconds: start).rfc3339 == "2026-10-31T18:30:00.000000Z")
        #expect(grid.label(of: start) == "2026-11-01")
        #expect(BucketGrid(.hour, utcOffsetSeconds: 19_800).label(of: start) == "2026-11-01T00:00+05:30")
        #expect(BucketGrid.parseOffset("+05:30") == 19_800 && BucketGrid.parseOffset("-0700") == -25_200)
        #expect(BucketGrid.parseOffset("05:30") == nil && BucketGrid.offsetText(-25_200) == "-07:00")
        #expect(BucketGrid(.hour).start(of: -1) == -Self.hour)
    }

    @Test("tolerance: within and over, and a bucket with ours but not theirs is over")
    func tolerance() throws {
        let vendor = Self.squid([(Self.day + 10 * Self.second, 1_000), (Self.day + Self.hour + Self.second, 1_000)])
        let ours = [
            LedgerUsageEvent(start: Self.day + 10 * Self.second, end: Self.day + 11 * Self.second, bytes: 1_005),
            LedgerUsageEvent(start: Self.day + Self.hour, end: Self.day + Self.hour + 2 * Self.second, bytes: 1_030),
            LedgerUsageEvent(start: Self.day + 5 * Self.hour, end: Self.day + 5 * Self.hour, bytes: 9),
        ]
        let report = try Reconciler.reconcile(
            vendor, ours: ours, options: ReconciliationOptions(from: Self.day, to: Self.day + 24 * Self.hour, granularities: [.hour]))
        #expect(report.windowStart == "2026-11-01T00:00:00.000000Z" && report.windowEnd == "2026-11-02T00:00:00.000000Z")
        let hours = report.buckets
        #expect(hours.map(\.label) == ["2026-11-01T00:00Z", "2026-11-01T01:00Z", "2026-11-01T05:00Z"])
        #expect(hours[0].deltaPercent == 0.5 && hours[0].isWithin(percent: 1))
        #expect(hours[1].delta == 30 && !hours[1].isWithin(percent: 1) && hours[1].isWithin(percent: 3))
        #expect(hours[2].deltaPercent == nil && !hours[2].isWithin(percent: 100))
        #expect(report.bucketsOver(percent: 1).map(\.label) == ["2026-11-01T01:00Z", "2026-11-01T05:00Z", "total"])
        let text = report.renderText()
        #expect(text.contains("2026-11-01T00:00Z") && text.contains("+0.50") && text.contains("NO") && text.contains("unattributed"))
    }

    @Test("without --from/--to the window follows the vendor records; an earlier run that day is left out, with a notice")
    func windowFollowsTheRecords() throws {
        // This run: one request logged at 10:00:05 that took 2 s; its event started 1 s before it.
        let vendor = Self.squid([(Self.day + 10 * Self.hour + 5 * Self.second, 1_000)])
        let thisRun = LedgerUsageEvent(
            start: Self.day + 10 * Self.hour + 2 * Self.second, end: Self.day + 10 * Self.hour + 6 * Self.second, bytes: 1_000)
        let earlierRun = LedgerUsageEvent(start: Self.day + 10 * Self.hour - 60 * Self.second, end: Self.day + 10 * Self.hour - 50 * Self.second, bytes: 777)
        let report = try Reconciler.reconcile(vendor, ours: [earlierRun, thisRun], options: ReconciliationOptions())
        #expect(report.total.ours == 1_000 && report.total.theirs == 1_000 && report.total.delta == 0)
        #expect(report.ledgerEvents == 1)
        #expect(report.warnings.contains { $0.hasPrefix("1 ledger event(s) (777 B) earlier that day") })
        // With fixed bounds both runs are compared, and the difference shows.
        let fixed = try Reconciler.reconcile(
            vendor, ours: [earlierRun, thisRun], options: ReconciliationOptions(from: Self.day, to: Self.day + 24 * Self.hour))
        #expect(fixed.total.ours == 1_777 && fixed.ledgerEvents == 2 && fixed.warnings.isEmpty)
    }

    @Test("vendor bytes with no ledger event nearby go to the unattributed row")
    func unattributed() throws {
        let vendor = Self.squid([
            (Self.day + 10 * Self.second, 500),  // during the event
            (Self.day + 13 * Self.second, 40),  // within the 2 s slack after it
            (Self.day + 600 * Self.second, 3_461),  // a stray 407 ten minutes later
        ])
        let ours = [LedgerUsageEvent(start: Self.day + 9 * Self.second, end: Self.day + 11 * Self.second, bytes: 540)]
        let report = try Reconciler.reconcile(vendor, ours: ours, options: ReconciliationOptions())
        #expect(report.unattributed == UnattributedUsage(bytes: 3_461, records: 1))
        #expect(report.total.theirsUnattributed == 3_461)
        let tight = try Reconciler.reconcile(vendor, ours: ours, options: ReconciliationOptions(matchSlackMS: 0))
        #expect(tight.unattributed.records == 2)
        let stats = VendorImport(
            source: .webshareStats,
            records: [
                VendorRecord(timestamp: LedgerTimestamp(microseconds: Self.day), bytes: 900, durationMS: 3_600_000),
                VendorRecord(timestamp: LedgerTimestamp(microseconds: Self.day + Self.hour), bytes: 80, durationMS: 3_600_000),
            ], linesRead: 2)
        #expect(try Reconciler.reconcile(stats, ours: ours, options: .init()).unattributed == UnattributedUsage(bytes: 80, records: 1))
    }

    @Test("ours from the projection and from the ledger: measured bytes, else estimated; unproxied events ignored")
    func ourSide() async throws {
        let scratch = try TemporaryDirectory("reconcile-ours")
        let time = LedgerTimestamp(microseconds: Self.day + Self.second)
        let events = [
            ProxyRequestEvent(timestamp: time, component: "c", operation: "o", success: true, requestBytes: 100,
                              responseBytes: 900, estimatedBytes: 1_000, bytesMeasured: true, durationMS: 1_500, proxied: true),
            ProxyRequestEvent(timestamp: time, component: "c", operation: "o", success: true, estimatedBytes: 77,
                              durationMS: 10, proxied: true),
            ProxyRequestEvent(timestamp: time, component: "c", operation: "o", success: true, estimatedBytes: 5,
                              durationMS: 10, proxied: false),
        ]
        let store = try ProjectionStore(path: scratch.file("p.sqlite"))
        _ = try Projector(store: store).apply(
            events.enumerated().map { LedgerRecord(schemaVersion: 1, position: LedgerPosition(partition: 0, sequence: UInt64($0.offset)), event: $0.element) })
        try store.close()
        let fromDB = try LedgerUsageReader.fromDatabase(scratch.file("p.sqlite"), from: Self.day, to: Self.day + Self.hour)
        #expect(fromDB.map(\.bytes) == [1_000, 77] || fromDB.map(\.bytes) == [77, 1_000])
        #expect(fromDB.contains { $0.end - $0.start == 1_500_000 })
        #expect(try LedgerUsageReader.fromDatabase(scratch.file("p.sqlite"), from: Self.day + Self.hour, to: Self.day + 2 * Self.hour).isEmpty)
        #expect(throws: ReconciliationError.self) { try LedgerUsageReader.fromDatabase(scratch.file("missing.sqlite"), from: 0, to: 1) }

        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.file("ledger")))
        _ = try await writer.append(events)
        try await writer.close()
        let fromLedger = try LedgerUsageReader.fromLedger(scratch.file("ledger"), from: Self.day, to: Self.day + Self.hour)
        #expect(Set(fromLedger.map(\.bytes)) == [1_000, 77])
    }

    @Test("vendor figures are stored per day and hour; importing twice changes nothing")
    func store() throws {
        let scratch = try TemporaryDirectory("reconcile-store")
        let path = scratch.file("p.sqlite")
        _ = try ProjectionStore(path: path)
        var vendor = Self.squid([(Self.day + Self.second, 10), (Self.day + Self.hour, 20), (Self.day + 86_400 * Self.second, 5)])
        vendor.records[0].requestBytes = 4
        for _ in 0..<2 {
            #expect(try VendorUsageStore.save(vendor, databasePath: path, from: Self.day, to: Self.day + 2 * 86_400 * Self.second) == 5)
        }
        let rows = try VendorUsageStore.dailyRows(databasePath: path)
        #expect(rows == [
            .init(key: "2026-11-01", source: "squid-ledger", bytes: 30, records: 2),
            .init(key: "2026-11-02", source: "squid-ledger", bytes: 5, records: 1),
        ])
    }

    @Test("vendor figures survive a projection rebuild (replay --rebuild)")
    func storeSurvivesRebuild() async throws {
        let scratch = try TemporaryDirectory("reconcile-rebuild")
        let path = scratch.file("p.sqlite")
        let ledger = scratch.file("ledger")
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: ledger, fsyncPolicy: .none))
        _ = try await writer.append(EventFactory.events(3))
        try await writer.close()
        try Projector.rebuild(ledger: try LedgerReader(directory: ledger), databasePath: path)
        let vendor = Self.squid([(Self.day + Self.second, 10), (Self.day + 86_400 * Self.second, 5)])
        try VendorUsageStore.save(vendor, databasePath: path, from: Self.day, to: Self.day + 2 * 86_400 * Self.second)
        let before = try VendorUsageStore.dailyRows(databasePath: path)
        #expect(before.count == 2)
        try Projector.rebuild(ledger: try LedgerReader(directory: ledger), databasePath: path)
        #expect(try VendorUsageStore.dailyRows(databasePath: path) == before)
        let store = try ProjectionStore(path: path)
        defer { try? store.close() }
        #expect(try store.requestLogCount() == 3)
    }
}
