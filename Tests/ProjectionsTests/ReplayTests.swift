import Foundation
import GRDB
import Ledger
import Testing
import TestSupport

@testable import Projections

@Suite struct ReplayTests {
    /// Three partitions of different lengths, plus one event id re-appended in another partition.
    private static func ledger() -> InMemoryLedger {
        var records = (0..<120).map { makeRecord(partition: 0, sequence: UInt64($0)) }
        records += (0..<45).map { makeRecord(partition: 1, sequence: UInt64($0)) }
        records += (0..<3).map { makeRecord(partition: 4, sequence: UInt64($0)) }
        records.append(makeRecord(partition: 4, sequence: 3, eventID: records[17].event.eventID))
        return InMemoryLedger(records: records)
    }

    @Test func replayAppliesEverythingInBatchesAndReportsProgress() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        var reports: [ReplayProgress] = []
        let result = try Projector(store: store).replay(from: Self.ledger(), batchSize: 50) { reports.append($0) }

        #expect(result.eventsRead == 169)
        #expect(result.eventsApplied == 168)
        #expect(result.duplicatesSkipped == 1)
        #expect(result.nextSequences == [0: 120, 1: 45, 4: 4])
        #expect(try store.checkpoints() == result.nextSequences)
        #expect(try store.requestLogCount() == 168)
        #expect(reports.map(\.partition) == [0, 0, 0, 1, 4])
        #expect(reports.map(\.eventsRead) == [50, 100, 120, 165, 169])
        #expect(reports.last?.eventsApplied == 168)
        #expect(reports.map(\.nextSequence) == [50, 100, 120, 45, 4])
    }

    @Test func aCancelledReplayStopsAfterItsTransactionAndTheNextOneResumes() async throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let projector = Projector(store: store)
        let ledger = Self.ledger()
        let interrupted = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try projector.replay(from: ledger, batchSize: 50)
        }
        let first = try await interrupted.value
        #expect(first.stoppedEarly)
        #expect(first.eventsApplied == 50, "one transaction, then it stops")
        #expect(try store.requestLogCount() == 50)
        let rest = try projector.replay(from: ledger, batchSize: 50)
        #expect(!rest.stoppedEarly)
        #expect(try store.requestLogCount() == 168)
    }

    @Test func replayResumesAfterTheCheckpoint() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let projector = Projector(store: store)
        var ledger = Self.ledger()
        let all = ledger.records
        ledger.records = all.filter { $0.position.partition != 1 || $0.position.sequence < 20 }
        let first = try projector.replay(from: ledger, batchSize: 1_000)
        #expect(first.nextSequences[1] == 20)

        ledger.records = all
        let second = try projector.replay(from: ledger, batchSize: 1_000)
        #expect(second.eventsRead == 25)
        #expect(second.eventsApplied == 25)
        #expect(second.nextSequences == [0: 120, 1: 45, 4: 4])

        let third = try projector.replay(from: ledger)
        #expect(third == ReplayResult(eventsRead: 0, eventsApplied: 0, duplicatesSkipped: 0, nextSequences: second.nextSequences))
        #expect(try store.requestLogCount() == 168)
    }

    @Test func aLedgerErrorKeepsCommittedBatchesAndResumes() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let projector = Projector(store: store)
        var ledger = Self.ledger()
        ledger.failAtSequence = 60
        let error = try #require(throws: ProjectionError.self) { try projector.replay(from: ledger, batchSize: 25) }
        #expect(error.code == .ledgerReadFailed)
        // Frames of 7: the frame holding sequence 60 fails after 56 records were read. Every one of
        // them is applied and checkpointed before the error (not only the 50 of full batches).
        let applied = try store.requestLogCount()
        #expect(applied == 56)
        let checkpoint = try #require(try store.checkpoints()[0])
        #expect(ledger.records.filter { $0.position.partition == 0 && $0.position.sequence < checkpoint }.count == applied)

        ledger.failAtSequence = nil
        let resumed = try projector.replay(from: ledger, batchSize: 25)
        #expect(resumed.eventsApplied == 168 - applied)
        #expect(try store.requestLogCount() == 168)
    }

    @Test func rebuildTwiceGivesIdenticalRows() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("p.sqlite")
        let ledger = Self.ledger()

        let first = try Projector.rebuild(from: ledger, databasePath: path, batchSize: 40)
        let firstDump = try dumpProjection(try DatabaseQueue(path: path))
        let second = try Projector.rebuild(from: ledger, databasePath: path, batchSize: 64)
        let secondDump = try dumpProjection(try DatabaseQueue(path: path))

        #expect(first == second)
        #expect(first.eventsApplied == 168)
        #expect(firstDump == secondDump)
        #expect(firstDump["proxy_request_logs"]?.count == 168)

        // Same rows as an incremental replay into a store (ids aside, since both go in ledger order).
        let incremental = try ProjectionStore(path: directory.file("incremental.sqlite"))
        try Projector(store: incremental).replay(from: ledger, batchSize: 10)
        #expect(try dumpProjection(incremental.databasePool) == firstDump)
    }

    @Test func rebuildSwapsAtomicallyAndLeavesAUsableWALDatabase() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("p.sqlite")
        let old = try ProjectionStore(path: path)
        try Projector(store: old).apply([makeRecord(partition: 7, sequence: 0, index: 10_000)])
        try old.close()
        // Leftovers of the old file that must not be replayed into the new one.
        for suffix in ["-wal", "-shm"] {
            #expect(FileManager.default.createFile(atPath: path + suffix, contents: Data(repeating: 0xAB, count: 4_096)))
        }

        try Projector.rebuild(from: Self.ledger(), databasePath: path)

        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: path + "-shm"))
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!files.contains { $0.contains(".rebuild-") })
        let fresh = try ProjectionStore(path: path)
        #expect(try fresh.requestLogCount() == 168)
        #expect(try fresh.checkpoints() == [0: 120, 1: 45, 4: 4])
        let (indexes, journalMode) = try fresh.databasePool.read { db in
            (try db.indexes(on: "proxy_request_logs").map(\.name), try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
        #expect(Set(indexes).isSuperset(of: ProjectionSchema.secondaryIndexes.map(\.name)))
        #expect(journalMode == "wal")
        try Projector(store: fresh).apply([makeRecord(partition: 0, sequence: 120, index: 5_000)])
        #expect(try fresh.checkpoints()[0] == 121)
    }

    @Test func aFailedRebuildLeavesTheTargetUntouched() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("p.sqlite")
        try Projector.rebuild(from: InMemoryLedger(records: [makeRecord(sequence: 0)]), databasePath: path)
        let before = try dumpProjection(try DatabaseQueue(path: path))

        var failing = Self.ledger()
        failing.failAtSequence = 100
        let error = try #require(throws: ProjectionError.self) {
            try Projector.rebuild(from: failing, databasePath: path, batchSize: 10)
        }
        #expect(error.code == .ledgerReadFailed)
        #expect(try dumpProjection(try DatabaseQueue(path: path)) == before)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(!files.contains { $0.contains(".rebuild-") })
    }
}
