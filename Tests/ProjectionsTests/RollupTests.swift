import Foundation
import GRDB
import Ledger
import Testing
import TestSupport

@testable import Projections

@Suite struct RollupTests {
    /// `proxy_usage_hourly` recomputed from `proxy_request_logs`.
    private static let hourlyFromBase = """
        SELECT substr(timestamp, 1, 13) || ':00:00.000000Z', timestamp_us - timestamp_us % 3600000000, component,
               operation, success, COALESCE(error_type, ''), proxied, COUNT(*), COALESCE(SUM(request_bytes), 0),
               COALESCE(SUM(response_bytes), 0), COALESCE(SUM(estimated_bytes), 0)
        FROM proxy_request_logs_readable GROUP BY 1, 3, 4, 5, 6, 7 ORDER BY 1, 3, 4, 5, 6, 7
        """

    /// `proxy_usage_hourly_by_key` recomputed from `proxy_request_logs`.
    private static let byKeyFromBase =
        ["job": "job_id", "channel": "channel_name", "video": "video_id"]
        .sorted { $0.key < $1.key }
        .map { kind, column in
            """
            SELECT '\(kind)', timestamp_us - timestamp_us % 3600000000 AS h, \(column), COUNT(*),
                   COALESCE(SUM(estimated_bytes), 0)
            FROM proxy_request_logs WHERE proxied = 1 AND \(column) IS NOT NULL GROUP BY 2, 3
            """
        }.joined(separator: " UNION ALL ") + " ORDER BY 1, 2, 3"

    private func rows(_ reader: some DatabaseReader, _ sql: String) throws -> [[String]] {
        try reader.read { db in
            try Row.fetchAll(db, sql: sql).map { $0.databaseValues.map { $0.isNull ? "NULL" : $0.description } }
        }
    }

    @Test func rollupsEqualGroupingTheBaseTableAfterIncrementalApplies() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let projector = Projector(store: store)
        let records = (0..<3_000).map { makeRecord(sequence: UInt64($0)) }
        for start in stride(from: 0, to: records.count, by: 700) {
            try projector.apply(Array(records[start..<min(start + 700, records.count)]))
        }
        try projector.apply(Array(records[100..<900]))  // duplicates add nothing
        let hourly = try rows(store.databasePool, Self.hourlyFromBase)
        #expect(hourly.count > 20)
        #expect(hourly.contains { $0[6] == "0" })
        #expect(
            try rows(store.databasePool, "SELECT * FROM proxy_usage_hourly ORDER BY hour, 3, 4, 5, 6, 7") == hourly)
        let byKey = try rows(store.databasePool, Self.byKeyFromBase)
        #expect(Set(byKey.map { $0[0] }) == [#""channel""#, #""job""#, #""video""#])
        #expect(
            try rows(store.databasePool, "SELECT * FROM proxy_usage_hourly_by_key ORDER BY kind, hour_us, name")
                == byKey)
    }

    @Test func migratingAVersion1DatabaseBackfillsTheRollups() throws {
        let directory = try TemporaryDirectory()
        let current = try ProjectionStore(path: directory.file("current.sqlite"))
        try Projector(store: current).apply((0..<2_000).map { makeRecord(sequence: UInt64($0)) })
        try current.close()

        // A database as `v1` left it: the same events, the rollup without `proxied`.
        let oldPath = directory.file("v1.sqlite")
        let old = try DatabaseQueue(path: oldPath)
        try ProjectionSchema.migrator.migrate(old, upTo: "v1")
        try old.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS current", arguments: [directory.file("current.sqlite")])
            try db.execute(
                sql: """
                    INSERT INTO proxy_request_logs SELECT * FROM current.proxy_request_logs_readable;
                    INSERT INTO projection_checkpoints SELECT * FROM current.projection_checkpoints;
                    INSERT INTO proxy_usage_hourly
                    SELECT hour, hour_us, component, operation, success, error_type, SUM(requests),
                           SUM(request_bytes), SUM(response_bytes), SUM(estimated_bytes)
                    FROM current.proxy_usage_hourly GROUP BY 1, 3, 4, 5, 6;
                    """)
            try db.execute(sql: "DETACH DATABASE current")
        }
        try old.close()

        let migrated = try ProjectionStore(path: oldPath)
        let reference = try DatabaseQueue(path: directory.file("current.sqlite"))
        #expect(try dumpProjection(migrated.databasePool) == dumpProjection(reference))
        #expect(
            try migrated.databasePool.read { db in try db.columns(in: "proxy_usage_hourly").map(\.name) }
                == reference.read { db in try db.columns(in: "proxy_usage_hourly").map(\.name) })
    }

    @Test func rebuildKeepsImportedVendorRows() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("p.sqlite")
        let ledger = InMemoryLedger(records: (0..<100).map { makeRecord(sequence: UInt64($0)) })
        try Projector.rebuild(from: ledger, databasePath: path)
        let store = try ProjectionStore(path: path)
        try store.databasePool.write { db in
            // The migrator's vendor tables (`v6`), plus an index of our own.
            try db.execute(
                sql: """
                    CREATE INDEX vendor_usage_daily_source ON vendor_usage_daily(source);
                    INSERT INTO vendor_usage_daily VALUES
                        ('2026-11-01', 'Z', 1793491200000000, 'webshare_csv', 5000, NULL, NULL, 3, 'x'),
                        ('2026-11-02', 'Z', 1793577600000000, 'webshare_csv', 7000, 1000, 6000, 4, 'x');
                    INSERT INTO vendor_usage_hourly VALUES
                        ('2026-11-01T00:00:00.000000Z', 1793491200000000, 'Z', 'webshare_csv', 5000, NULL, NULL, 3, 'x');
                    INSERT INTO vendor_usage_points VALUES
                        ('squid-ledger', 1793491201400000, 3000, 1000, 2000, 1, 'x'),
                        ('squid-ledger', 1793491201400000, 2000, NULL, NULL, 2, 'x');
                    """)
        }
        let vendor = try dumpTable(store.databasePool, "vendor_usage_daily", orderBy: "date")
        let points = try dumpTable(store.databasePool, "vendor_usage_points", orderBy: "bytes")
        try store.close()

        for _ in 1...2 {
            try Projector.rebuild(from: ledger, databasePath: path)
            let rebuilt = try ProjectionStore(path: path)
            #expect(try dumpTable(rebuilt.databasePool, "vendor_usage_daily", orderBy: "date") == vendor)
            #expect(try dumpTable(rebuilt.databasePool, "vendor_usage_hourly", orderBy: "hour_start").count == 1)
            #expect(try dumpTable(rebuilt.databasePool, "vendor_usage_points", orderBy: "bytes") == points)
            #expect(points.count == 2)
            #expect(
                try rebuilt.databasePool.read { db in try db.indexes(on: "vendor_usage_points").map(\.name) }
                    .contains("vendor_usage_points_time"))
            #expect(
                try rebuilt.databasePool.read { db in try db.indexes(on: "vendor_usage_daily").map(\.name) }
                    .contains("vendor_usage_daily_source"))
            #expect(try rebuilt.requestLogCount() == 100)
            try rebuilt.close()
        }
    }

    @Test func rebuildReplacesAFileThatIsNotADatabase() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("p.sqlite")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x5A, count: 8_192)))
        try Projector.rebuild(from: InMemoryLedger(records: [makeRecord(sequence: 0)]), databasePath: path)
        let store = try ProjectionStore(path: path)
        #expect(try store.requestLogCount() == 1)
        #expect(try store.databasePool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM vendor_usage_daily") } == 0)
    }
}
