import Foundation
import Ledger
import Testing
import TestSupport

@testable import Projections

@Suite struct PrefetchingRecordSourceTests {
    private static func ledger(failAtSequence: UInt64? = nil) -> InMemoryLedger {
        var records = (0..<100).map { makeRecord(partition: 0, sequence: UInt64($0)) }
        records += (0..<30).map { makeRecord(partition: 2, sequence: UInt64($0)) }
        return InMemoryLedger(records: records, frameSize: 7, failAtSequence: failAtSequence)
    }

    private static func scanAll(_ source: some LedgerRecordSource, partition: Int, from start: UInt64 = 0) throws -> [[LedgerRecord]] {
        var batches: [[LedgerRecord]] = []
        try source.scan(partition: partition, from: start) { batches.append($0) }
        return batches
    }

    @Test func deliversTheBaseBatchesInOrder() throws {
        let base = Self.ledger()
        let prefetching = PrefetchingRecordSource(base, capacity: 10)
        #expect(try prefetching.partitions() == [0, 2])
        for (partition, start) in [(0, UInt64(0)), (0, 33), (2, 0)] {
            let expected = try Self.scanAll(base, partition: partition, from: start)
            #expect(try Self.scanAll(prefetching, partition: partition, from: start) == expected)
        }
    }

    @Test func everyBatchBeforeAFailureArrivesBeforeTheError() throws {
        let prefetching = PrefetchingRecordSource(Self.ledger(failAtSequence: 50), capacity: 1)
        var received: [LedgerRecord] = []
        #expect(throws: InMemoryLedger.Failure.self) {
            try prefetching.scan(partition: 0, from: 0) { received += $0 }
        }
        // Frames of 7: the frame holding sequence 50 (49..<56) fails, the seven before it arrive.
        #expect(received.map(\.position.sequence) == Array(0..<49))
    }

    @Test func anErrorFromTheBodyStopsTheReaderAndIsRethrown() throws {
        struct Refused: Error {}
        let prefetching = PrefetchingRecordSource(Self.ledger(), capacity: 1)
        var calls = 0
        #expect(throws: Refused.self) {
            try prefetching.scan(partition: 0, from: 0) { _ in
                calls += 1
                if calls == 3 { throw Refused() }
            }
        }
        #expect(calls == 3)
    }

    @Test func aRebuildFromALedgerMatchesOneReadInline() throws {
        let directory = try TemporaryDirectory()
        let ledger = Self.ledger()
        let inline = try Projector.rebuild(from: ledger, databasePath: directory.file("inline.sqlite"), batchSize: 16)
        let ahead = try Projector.rebuild(
            from: PrefetchingRecordSource(ledger, capacity: 20), databasePath: directory.file("ahead.sqlite"), batchSize: 16)
        #expect(ahead == inline)
        #expect(ahead.eventsApplied == 130)
    }
}
