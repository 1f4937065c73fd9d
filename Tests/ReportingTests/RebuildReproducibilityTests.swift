import Foundation
import Ledger
import Projections
import Reporting
import TestSupport
import Testing

@Suite struct RebuildReproducibilityTests {
    /// Renders every format from the projection at `path`, closing the store afterwards.
    private func renderAll(databasePath: String, schedule: RateCardSchedule) throws -> [ReportFormat: String] {
        let store = try ProjectionStore(path: databasePath)
        defer { try? store.close() }
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: schedule.billingPeriod)
        let report = try ReportBuilder.build(store: store, request: ReportRequest(schedule: schedule, period: period))
        var out: [ReportFormat: String] = [:]
        for format in ReportFormat.allCases { out[format] = ReportRenderer.render(report, as: format) }
        return out
    }

    @Test func aReportAfterReplayRebuildIsByteIdentical() async throws {
        let scratch = try TemporaryDirectory("report-rebuild")
        let ledgerDirectory = scratch.file("ledger")
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: ledgerDirectory, fsyncPolicy: .none))
        // 5,000 events 500 s apart from 2026-11-01T05:00Z (all in November in New York), plus a
        // duplicate append of the first ten.
        let events = EventFactory.events(5_000).enumerated().map { index, event in
            var event = event
            event.timestamp = LedgerTimestamp(microseconds: 1_793_509_200_000_000 + Int64(index) * 500_000_000)
            return event
        }
        for batch in stride(from: 0, to: events.count, by: 500) {
            _ = try await writer.append(Array(events[batch..<min(batch + 500, events.count)]))
        }
        _ = try await writer.append(Array(events.prefix(10)))
        try await writer.close()

        let schedule = try RateCardSchedule.load(path: repositoryRoot + "/Fixtures/rate-card.example.json")
        let databasePath = scratch.file("projections.sqlite")
        // Incremental replay first, as `proxy-ledger replay` does.
        let live = try ProjectionStore(path: databasePath)
        try Projector(store: live).replay(from: try LedgerReader(directory: ledgerDirectory))
        try live.close()
        let before = try renderAll(databasePath: databasePath, schedule: schedule)

        try Projector.rebuild(ledger: try LedgerReader(directory: ledgerDirectory), databasePath: databasePath)
        let afterFirst = try renderAll(databasePath: databasePath, schedule: schedule)
        try Projector.rebuild(ledger: try LedgerReader(directory: ledgerDirectory), databasePath: databasePath)
        let afterSecond = try renderAll(databasePath: databasePath, schedule: schedule)

        for format in ReportFormat.allCases {
            let reference = try #require(before[format])
            #expect(Array(reference.utf8) == Array((afterFirst[format] ?? "").utf8), "\(format)")
            #expect(Array(reference.utf8) == Array((afterSecond[format] ?? "").utf8), "\(format)")
        }
        let json = try #require(before[.json])
        #expect(json.contains(#""requests": 5000"#))
        #expect(json.contains(#""data_through": "2026-11-29T22:18:20-05:00""#))
        #expect(json.contains(#""status": "provisional""#))
    }
}
