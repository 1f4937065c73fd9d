import Foundation
import GRDB
import Ledger
import Testing
import TestSupport

@testable import Projections

/// Migration `v4`: the compact `proxy_request_logs`, its label dictionary and readable view.
@Suite struct CompactLayoutTests {
    @Test func migratingAVersion3DatabaseGivesTheSameProjection() throws {
        let directory = try TemporaryDirectory()
        let current = try ProjectionStore(path: directory.file("current.sqlite"))
        try Projector(store: current).apply((0..<1_500).map { makeRecord(sequence: UInt64($0)) })
        try current.close()

        // A database as `v3` left it: text labels, text event ids, RFC 3339 timestamps.
        let oldPath = directory.file("v3.sqlite")
        let old = try DatabaseQueue(path: oldPath)
        try ProjectionSchema.migrator.migrate(old, upTo: "v3-retention")
        try old.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS current", arguments: [directory.file("current.sqlite")])
            try db.execute(
                sql: """
                    INSERT INTO proxy_request_logs SELECT * FROM current.proxy_request_logs_readable;
                    INSERT INTO projection_checkpoints SELECT * FROM current.projection_checkpoints;
                    INSERT INTO proxy_usage_hourly SELECT * FROM current.proxy_usage_hourly;
                    INSERT INTO proxy_usage_hourly_by_key SELECT * FROM current.proxy_usage_hourly_by_key;
                    """)
            try db.execute(sql: "DETACH DATABASE current")
        }
        let oldRows = try old.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM proxy_request_logs") }
        try old.close()
        #expect(oldRows == 1_500)

        let migrated = try ProjectionStore(path: oldPath)
        let reference = try DatabaseQueue(path: directory.file("current.sqlite"))
        #expect(try dumpProjection(migrated.databasePool) == dumpProjection(reference))
        #expect(
            try dumpTable(migrated.databasePool, ProjectionSchema.readableView, orderBy: "id")
                == dumpTable(reference, ProjectionSchema.readableView, orderBy: "id"))
        // The projection keeps working after the migration.
        try Projector(store: migrated).apply([makeRecord(sequence: 1_500)])
        #expect(try migrated.requestLogCount() == 1_501)
    }

    @Test func theReadableViewShowsTextAndTheTableStoresCodes() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let before1970 = ProxyRequestEvent(
            timestamp: LedgerTimestamp(microseconds: -1), component: "c", operation: "o",
            success: false, errorType: .timeout, durationMS: 5, proxied: true)
        try Projector(store: store).apply([LedgerRecord(schemaVersion: 1, position: .init(partition: 0, sequence: 0), event: before1970)])
        let (text, stored) = try store.databasePool.read { db in
            (
                try Row.fetchOne(db, sql: "SELECT * FROM proxy_request_logs_readable"),
                try Row.fetchOne(db, sql: "SELECT typeof(event_id), length(event_id), component_id FROM proxy_request_logs")
            )
        }
        let row = try #require(text)
        #expect(row["timestamp"] == "1969-12-31T23:59:59.999999Z")
        #expect(row["event_id"] == TextEncoding.lowercase(before1970.eventID))
        #expect(row["component"] == "c")
        #expect(row["error_type"] == "timeout")
        let codes = try #require(stored)
        #expect(codes[0] == "blob")
        #expect(codes[1] == 16)
        #expect(codes[2] == 1)
    }
}
