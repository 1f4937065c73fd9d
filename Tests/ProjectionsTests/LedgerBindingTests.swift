import Foundation
import Ledger
import Testing
import TestSupport

@testable import Projections

/// A projection holds the events of one ledger only.
@Suite struct LedgerBindingTests {
    private func writeLedger(_ directory: String, events count: Int, seed: Int) async throws -> LedgerReader {
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: directory, partition: 0, fsyncPolicy: .none))
        _ = try await writer.append(EventFactory.events(count, seed: seed))
        try await writer.close()
        return try LedgerReader(directory: directory)
    }

    @Test func replayingAnotherLedgerIntoAProjectionFailsNamingBoth() async throws {
        let directory = try TemporaryDirectory()
        let first = try await writeLedger(directory.file("a"), events: 30, seed: 1)
        let second = try await writeLedger(directory.file("b"), events: 20, seed: 2)
        let firstID = try #require(try first.ledgerID())
        let secondID = try #require(try second.ledgerID())
        #expect(firstID != secondID)

        let path = directory.file("p.sqlite")
        let store = try ProjectionStore(path: path)
        #expect(try Projector(store: store).replay(from: first).eventsApplied == 30)
        #expect(try store.boundLedger() == LedgerIdentity(id: firstID, path: first.directory))

        let error = try #require(throws: ProjectionError.self) { try Projector(store: store).replay(from: second) }
        #expect(error.code == .ledgerMismatch)
        for part in [firstID, secondID, first.directory, second.directory, "replay --rebuild"] {
            #expect(error.message.contains(part), "message names \(part): \(error.message)")
        }
        #expect(try store.requestLogCount() == 30)
        #expect(throws: ProjectionError.self) { try store.bind(to: second) }
        try store.bind(to: first)  // the same ledger again is fine
        try store.close()

        // A rebuild from the other ledger replaces the projection and binds it to that ledger.
        #expect(try Projector.rebuild(ledger: second, databasePath: path).eventsApplied == 20)
        let rebuilt = try ProjectionStore(path: path, access: .readOnly)
        #expect(try rebuilt.boundLedger()?.id == secondID)
        #expect(try rebuilt.requestLogCount() == 20)
    }

    @Test func aProjectionMadeBeforeBindingsIsBoundByItsNextReplay() async throws {
        let directory = try TemporaryDirectory()
        let ledger = try await writeLedger(directory.file("a"), events: 10, seed: 3)
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        try Projector(store: store).apply((0..<4).map { makeRecord(sequence: UInt64($0)) })  // records with no ledger
        #expect(try store.boundLedger() == nil)
        try Projector(store: store).replay(from: ledger)
        #expect(try store.boundLedger()?.id == (try ledger.ledgerID()))
    }
}
