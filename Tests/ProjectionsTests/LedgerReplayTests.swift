import Foundation
import GRDB
import Ledger
import Testing
import TestSupport

@testable import Projections

/// Replay and rebuild against a real on-disk ledger written by `LedgerWriter`.
@Suite struct LedgerReplayTests {
    /// Writes `counts[p]` events to partition `p`, in several frames, and re-appends one event id.
    private func writeLedger(_ directory: String, counts: [Int]) async throws {
        for (partition, count) in counts.enumerated() {
            let writer = try LedgerWriter.open(
                LedgerConfiguration(directory: directory, partition: partition, fsyncPolicy: .none)
            )
            let events = EventFactory.events(count, seed: partition)
            var start = 0
            while start < events.count {
                _ = try await writer.append(Array(events[start..<min(start + 97, events.count)]))
                start += 97
            }
            try await writer.close()
        }
    }

    @Test func rebuildFromALedgerTwiceGivesIdenticalRows() async throws {
        let directory = try TemporaryDirectory()
        let ledgerPath = directory.file("ledger")
        try await writeLedger(ledgerPath, counts: [500, 230])
        let reader = try LedgerReader(directory: ledgerPath)
        let path = directory.file("p.sqlite")

        let first = try Projector.rebuild(ledger: reader, databasePath: path)
        let firstDump = try dumpProjection(try DatabaseQueue(path: path))
        let second = try Projector.rebuild(ledger: reader, databasePath: path)
        let secondDump = try dumpProjection(try DatabaseQueue(path: path))

        #expect(first == second)
        #expect(first.eventsApplied == 730)
        #expect(first.nextSequences == [0: 500, 1: 230])
        #expect(firstDump == secondDump)

        let store = try ProjectionStore(path: directory.file("incremental.sqlite"))
        var progressCalls = 0
        let replayed = try Projector(store: store).replay(from: reader) { _ in progressCalls += 1 }
        #expect(replayed == first)
        #expect(progressCalls == 2)
        #expect(try dumpProjection(store.databasePool) == firstDump)
        #expect(try Projector(store: store).replay(from: reader).eventsRead == 0)
    }

    @Test func replayPicksUpEventsAppendedLater() async throws {
        let directory = try TemporaryDirectory()
        let ledgerPath = directory.file("ledger")
        try await writeLedger(ledgerPath, counts: [120])
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let projector = Projector(store: store)
        #expect(try projector.replay(from: try LedgerReader(directory: ledgerPath)).eventsApplied == 120)

        let writer = try LedgerWriter.open(LedgerConfiguration(directory: ledgerPath, partition: 0, fsyncPolicy: .none))
        _ = try await writer.append(EventFactory.events(30, start: 1_800_000_000_000_000, seed: 5))
        try await writer.close()

        let result = try projector.replay(from: try LedgerReader(directory: ledgerPath))
        #expect(result.eventsRead == 30)
        #expect(result.eventsApplied == 30)
        #expect(result.nextSequences == [0: 150])
        let summary = try store.summary(since: LedgerTimestamp(microseconds: 1_800_000_000_000_000))
        #expect(summary.totalRequests == 30)
    }
}
