import Foundation
import GRDB
import Ledger
import Testing
import TestSupport

@testable import Projections

@Suite struct SchemaTests {
    @Test func migrationsCreateTablesAndIndexes() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let (tables, indexes, journalMode) = try store.databasePool.read { db in
            (
                try String.fetchSet(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"),
                try Row.fetchAll(db, sql: "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'")
                    .map { (name: $0[0] as String, table: $0[1] as String) },
                try String.fetchOne(db, sql: "PRAGMA journal_mode")
            )
        }
        #expect(
            tables.isSuperset(of: [
                "proxy_request_logs", "proxy_usage_hourly", "proxy_usage_hourly_by_key", "projection_checkpoints",
                "projection_labels",
            ]))
        let names = Set(indexes.map(\.name))
        #expect(names.contains("proxy_request_logs_timestamp_us"))
        // v4 dropped the three indexes on text: one on timestamp_us serves every range.
        #expect(names.isDisjoint(with: ["proxy_request_logs_timestamp", "proxy_request_logs_component_timestamp"]))
        #expect(journalMode == "wal")

        let indexColumns = try store.databasePool.read { db in
            try db.indexes(on: "proxy_request_logs").map { ($0.name, $0.columns, $0.isUnique) }
        }
        #expect(indexColumns.contains { $0.0 == "proxy_request_logs_timestamp_us" && $0.1 == ["timestamp_us"] })
        #expect(indexColumns.contains { $0.1 == ["event_id"] && $0.2 })
    }

    @Test func requestLogColumnsMatchTheOriginalPlusLedgerFields() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        // The readable view keeps the original design's columns; the table stores labels as ids (v4).
        let columns = try store.databasePool.read { db in try db.columns(in: ProjectionSchema.readableView).map(\.name) }
        let stored = try store.databasePool.read { db in try db.columns(in: "proxy_request_logs").map(\.name) }
        #expect(stored.contains("component_id") && stored.contains("error_type_id") && !stored.contains("timestamp"))
        let original = [
            "id", "timestamp", "component", "operation", "video_id", "channel_name", "job_id", "correlation_id",
            "success", "error_type", "estimated_bytes", "duration_ms", "created_at",
        ]
        let added = [
            "event_id", "timestamp_us", "request_bytes", "response_bytes", "http_status", "bytes_measured",
            "proxied", "attempt", "ledger_partition", "ledger_sequence", "schema_version",
        ]
        #expect(Set(columns) == Set(original + added))
        let rollup = try store.databasePool.read { db in try db.primaryKey("proxy_usage_hourly").columns }
        #expect(rollup == ["hour", "component", "operation", "success", "error_type", "proxied"])
        let byKey = try store.databasePool.read { db in try db.primaryKey("proxy_usage_hourly_by_key").columns }
        #expect(byKey == ["kind", "hour_us", "name"])
    }

    @Test func reopeningAnExistingDatabaseKeepsItsRows() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("p.sqlite")
        do {
            let store = try ProjectionStore(path: path)
            try Projector(store: store).apply([makeRecord(sequence: 0)])
            try store.close()
        }
        let reopened = try ProjectionStore(path: path)
        #expect(try reopened.requestLogCount() == 1)
        #expect(try reopened.checkpoints() == [0: 1])
    }

    @Test func openingInAMissingDirectoryThrowsOpenFailed() throws {
        let directory = try TemporaryDirectory()
        let error = try #require(throws: ProjectionError.self) {
            _ = try ProjectionStore(path: directory.file("missing/p.sqlite"))
        }
        #expect(error.code == .openFailed)
        #expect(error.description.hasPrefix("open_failed: "))
    }

    @Test(arguments: [
        Int64(0), 1, 999_999, 1_000_000, -1, -1_000_001, baseMicroseconds, baseMicroseconds + 86_399_999_999,
        951_782_400_000_000,  // 2000-02-29
        253_402_300_799_999_999,  // 9999-12-31T23:59:59.999999Z
        -62_135_596_800_000_000,  // 0001-01-01
    ])
    func timestampTextMatchesTheLedger(microseconds: Int64) {
        let ledger = LedgerTimestamp(microseconds: microseconds).rfc3339
        #expect(TextEncoding.rfc3339(microseconds: microseconds) == ledger)
        #expect(LedgerTimestamp(rfc3339: ledger)?.microseconds == microseconds)
    }

    @Test func hourStartFloorsNegativeTimes() {
        #expect(TextEncoding.hourStart(microseconds: baseMicroseconds + 3_599_999_999) == baseMicroseconds)
        #expect(TextEncoding.hourStart(microseconds: -1) == -3_600_000_000)
    }

    @Test func uuidTextIsLowercase() {
        for _ in 0..<100 {
            let id = UUID()
            #expect(TextEncoding.lowercase(id) == id.uuidString.lowercased())
        }
    }
}
