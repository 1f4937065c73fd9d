import Foundation
import GRDB
import Ledger
import Testing
import TestSupport

@testable import Projections

/// `prune`: old rows go, rollups (and so reports) stay, uniqueness holds for ever.
@Suite struct RetentionTests {
    static func ledger(_ count: Int) -> InMemoryLedger {
        InMemoryLedger(records: (0..<count).map { makeRecord(sequence: UInt64($0)) })
    }

    /// The horizon: the timestamp of record `index`.
    static func horizon(at index: Int) -> LedgerTimestamp { makeRecord(sequence: UInt64(index)).event.timestamp }

    @Test func pruneDeletesOldRowsKeepsRollupsAndIsIdempotent() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        _ = try Projector(store: store).replay(from: Self.ledger(100))
        let rollupsBefore = try dumpTable(store.databasePool, "proxy_usage_hourly", orderBy: "hour, component, operation, success, error_type, proxied")
        let result = try store.prune(before: Self.horizon(at: 40))
        #expect(result.rowsDeleted == 40)
        #expect(try store.requestLogCount() == 60)
        #expect(try dumpTable(store.databasePool, "proxy_usage_hourly", orderBy: "hour, component, operation, success, error_type, proxied")
            == rollupsBefore, "reports read the rollups, which keep the pruned rows")
        #expect(try store.prune(before: Self.horizon(at: 40)).rowsDeleted == 0)
        #expect(try store.prune(before: Self.horizon(at: 10)).horizon == Self.horizon(at: 40), "the horizon never moves back")
    }

    @Test func aPrunedEventAppendedAgainIsStillADuplicate() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let projector = Projector(store: store)
        _ = try projector.replay(from: Self.ledger(50))
        _ = try store.prune(before: Self.horizon(at: 30))
        let rollups = try dumpProjection(store.databasePool)["proxy_usage_hourly"]
        // The same events appended again later in the ledger (an old retry outside the dedupe window).
        var again = Self.ledger(50)
        again.records += (0..<30).map { index in
            let original = makeRecord(sequence: UInt64(index))
            return LedgerRecord(schemaVersion: 1, position: LedgerPosition(partition: 0, sequence: UInt64(50 + index)), event: original.event)
        }
        let replayed = try projector.replay(from: again)
        #expect(replayed.eventsRead == 30)
        #expect(replayed.eventsApplied == 0)
        #expect(try dumpProjection(store.databasePool)["proxy_usage_hourly"] == rollups, "never counted twice")
    }

    @Test func aRebuildPrunesToTheSameHorizonAndGivesTheSameRows() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("p.sqlite")
        let ledger = Self.ledger(80)
        do {
            let store = try ProjectionStore(path: path)
            _ = try Projector(store: store).replay(from: ledger)
            _ = try store.prune(before: Self.horizon(at: 25))
            try store.close()
        }
        let incremental = try dumpProjection(try DatabaseQueue(path: path))
        try Projector.rebuild(from: ledger, databasePath: path)
        let rebuilt = try dumpProjection(try DatabaseQueue(path: path))
        #expect(rebuilt == incremental)
        #expect(rebuilt["proxy_request_logs"]?.count == 55)
    }
}
