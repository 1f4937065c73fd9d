import Foundation
import GRDB
import Ledger
import TestSupport
import Testing

@testable import Projections

/// Ledgers written before `append` bounded byte counts may hold values whose sums pass Int64.max:
/// projecting them must fail with an error naming the event, never trap or store a float.
@Suite struct OverflowTests {
    /// Near Int64.max: two of these overflow any sum.
    static let huge: Int64 = 9_223_372_036_854_775_000

    /// A proxied event at 2026-11-01T00:00:0`second`Z with `huge` request bytes.
    static func record(_ sequence: UInt64, component: String = "c", jobID: String? = nil, estimated: Int64? = nil)
        -> LedgerRecord
    {
        let event = ProxyRequestEvent(
            eventID: deterministicUUID(partition: 0, index: Int(sequence)),
            timestamp: LedgerTimestamp(microseconds: baseMicroseconds + Int64(sequence) * 1_000_000),
            component: component, operation: "o", jobID: jobID, success: true,
            requestBytes: estimated == nil ? huge : 1, responseBytes: 10, estimatedBytes: estimated,
            durationMS: 1, proxied: true)
        return LedgerRecord(schemaVersion: 1, position: LedgerPosition(partition: 0, sequence: sequence), event: event)
    }

    static func names(_ error: ProjectionError, _ record: LedgerRecord) -> Bool {
        error.code == .invalidRecord && error.message.contains(record.event.eventID.uuidString.lowercased())
            && error.message.contains("0:\(record.position.sequence)")
    }

    @Test func twoEventsInOneBatchWhoseSumOverflowsAreRejected() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let records = [Self.record(0), Self.record(1)]
        let error = try #require(throws: ProjectionError.self) { try Projector(store: store).apply(records) }
        #expect(Self.names(error, records[1]), "\(error)")
        #expect(error.message.contains("request_bytes"))
        #expect(try store.requestLogCount() == 0)
        #expect(try store.checkpoints().isEmpty)
    }

    @Test func anEventThatOverflowsTheStoredSumIsRejectedAndTheRowKept() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let projector = Projector(store: store)
        #expect(try projector.apply([Self.record(0)]) == 1)
        let error = try #require(throws: ProjectionError.self) { try projector.apply([Self.record(1)]) }
        #expect(Self.names(error, Self.record(1)), "\(error)")
        #expect(try store.requestLogCount() == 1)
        let stored = try store.databasePool.read { db in
            try Row.fetchOne(db, sql: "SELECT typeof(request_bytes), request_bytes FROM proxy_usage_hourly")
        }
        #expect(stored?[0] == "integer")
        #expect(stored?[1] == Self.huge)
        #expect(try store.checkpoints() == [0: 1])
    }

    @Test func replayAndRebuildOfAPoisonedLedgerFailCleanly() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("p.sqlite")
        let ledger = InMemoryLedger(records: [makeRecord(sequence: 0), Self.record(1), Self.record(2)])
        let error = try #require(throws: ProjectionError.self) {
            try Projector.rebuild(from: ledger, databasePath: path)
        }
        #expect(Self.names(error, Self.record(2)), "\(error)")
        let store = try ProjectionStore(path: path)
        let replayError = try #require(throws: ProjectionError.self) {
            try Projector(store: store).replay(from: ledger)
        }
        #expect(Self.names(replayError, Self.record(2)), "\(replayError)")
    }

    @Test func rebuildNamesTheEventWhenAPerJobSumOverflows() throws {
        // Different components keep the hourly rollup groups apart; the job's per-key sum overflows.
        let records = [
            makeRecord(sequence: 0),
            Self.record(1, component: "a", jobID: "job-x", estimated: Self.huge),
            Self.record(2, component: "b", jobID: "job-x", estimated: Self.huge - 1),
        ]
        let directory = try TemporaryDirectory()
        let error = try #require(throws: ProjectionError.self) {
            try Projector.rebuild(from: InMemoryLedger(records: records), databasePath: directory.file("p.sqlite"))
        }
        #expect(Self.names(error, records[1]), "\(error)")
        #expect(error.message.contains("per job"))

        let store = try ProjectionStore(path: directory.file("q.sqlite"))
        let applyError = try #require(throws: ProjectionError.self) { try Projector(store: store).apply(records) }
        #expect(Self.names(applyError, records[2]), "\(applyError)")
        #expect(try store.requestLogCount() == 0)
    }

    @Test func sumsUpToInt64MaxAreKept() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        var last = Self.record(1)
        last.event.requestBytes = Int64.max - Self.huge
        #expect(try Projector(store: store).apply([Self.record(0)]) == 1)
        #expect(try Projector(store: store).apply([last]) == 1)
        let sum = try store.databasePool.read { db in
            try Int64.fetchOne(db, sql: "SELECT request_bytes FROM proxy_usage_hourly")
        }
        #expect(sum == Int64.max)
    }
}
