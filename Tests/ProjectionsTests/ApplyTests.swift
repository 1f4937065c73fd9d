import Foundation
import GRDB
import Ledger
import Testing
import TestSupport

@testable import Projections

@Suite struct ApplyTests {
    @Test func applyInsertsRowsWithCorrectColumnValues() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let id = try #require(UUID(uuidString: "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"))
        let timestamp = try #require(LedgerTimestamp(rfc3339: "2026-11-01T13:45:06.123456Z"))
        let event = ProxyRequestEvent(
            eventID: id, timestamp: timestamp, component: "transcribe-worker", operation: "subtitle-download",
            videoID: "dQw4w9WgXcQ", channelName: nil, jobID: "job-7", correlationID: "corr-1",
            success: false, errorType: .rateLimited, httpStatus: 429, requestBytes: 1_234,
            responseBytes: 56_789, estimatedBytes: 58_023, bytesMeasured: true, durationMS: 812,
            proxied: true, attempt: 2
        )
        let record = LedgerRecord(schemaVersion: 1, position: LedgerPosition(partition: 3, sequence: 41), event: event)

        #expect(try Projector(store: store).apply([record]) == 1)

        let row = try #require(try store.databasePool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM proxy_request_logs_readable") })
        #expect(row["event_id"] == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
        #expect(row["timestamp"] == "2026-11-01T13:45:06.123456Z")
        #expect(row["created_at"] == "2026-11-01T13:45:06.123456Z")
        #expect(row["timestamp_us"] == timestamp.microseconds)
        #expect(row["component"] == "transcribe-worker")
        #expect(row["operation"] == "subtitle-download")
        #expect(row["video_id"] == "dQw4w9WgXcQ")
        #expect((row["channel_name"] as DatabaseValue).isNull)
        #expect(row["job_id"] == "job-7")
        #expect(row["correlation_id"] == "corr-1")
        #expect(row["success"] == 0)
        #expect(row["error_type"] == "rate_limited")
        #expect(row["http_status"] == 429)
        #expect(row["request_bytes"] == 1_234)
        #expect(row["response_bytes"] == 56_789)
        #expect(row["estimated_bytes"] == 58_023)
        #expect(row["bytes_measured"] == 1)
        #expect(row["duration_ms"] == 812)
        #expect(row["proxied"] == 1)
        #expect(row["attempt"] == 2)
        #expect(row["ledger_partition"] == 3)
        #expect(row["ledger_sequence"] == 41)
        #expect(row["schema_version"] == 1)

        let hourly = try #require(try store.databasePool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM proxy_usage_hourly") })
        #expect(hourly["hour"] == "2026-11-01T13:00:00.000000Z")
        #expect(hourly["hour_us"] == baseMicroseconds + 13 * 3_600_000_000)
        #expect(hourly["error_type"] == "rate_limited")
        #expect(hourly["requests"] == 1)
        #expect(hourly["request_bytes"] == 1_234)
        #expect(hourly["response_bytes"] == 56_789)
        #expect(hourly["estimated_bytes"] == 58_023)
        #expect(try store.checkpoints() == [3: 42])
    }

    @Test func nullsStayNullAndSuccessHasEmptyErrorTypeInTheRollup() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let event = ProxyRequestEvent(
            timestamp: LedgerTimestamp(microseconds: baseMicroseconds), component: "c", operation: "o",
            success: true, durationMS: 0, proxied: false
        )
        try Projector(store: store).apply([LedgerRecord(schemaVersion: 1, position: .init(partition: 0, sequence: 0), event: event)])
        let (row, hourly) = try store.databasePool.read { db in
            (try Row.fetchOne(db, sql: "SELECT * FROM proxy_request_logs_readable"), try Row.fetchOne(db, sql: "SELECT * FROM proxy_usage_hourly"))
        }
        let log = try #require(row)
        for column in ["video_id", "channel_name", "job_id", "correlation_id", "error_type", "http_status", "request_bytes", "response_bytes", "estimated_bytes"] {
            #expect((log[column] as DatabaseValue).isNull, "\(column)")
        }
        let rollup = try #require(hourly)
        #expect(rollup["error_type"] == "")
        #expect(rollup["success"] == 1)
        #expect(rollup["request_bytes"] == 0)
        #expect(rollup["estimated_bytes"] == 0)
    }

    @Test func reapplyingTheSameRecordsIsANoOp() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let projector = Projector(store: store)
        let records = (0..<50).map { makeRecord(sequence: UInt64($0)) }

        #expect(try projector.apply(records) == 50)
        let before = try dumpProjection(store.databasePool)
        #expect(try projector.apply(records) == 0)
        #expect(try projector.apply(Array(records[10..<20])) == 0)
        #expect(try dumpProjection(store.databasePool) == before)
        #expect(try store.requestLogCount() == 50)
    }

    @Test func rollupCountsOnlyInsertedRows() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let projector = Projector(store: store)
        let first = makeRecord(sequence: 0, index: 1)
        // The same event id re-appended later at another position (outside the ledger's dedupe window).
        var again = makeRecord(sequence: 1, index: 1)
        again.event.requestBytes = 999_999
        let other = makeRecord(sequence: 2, index: 4)
        #expect(try projector.apply([first, again, other]) == 2)

        let sums = try store.databasePool.read { db in
            try Row.fetchOne(db, sql: "SELECT SUM(requests), SUM(request_bytes) FROM proxy_usage_hourly")
        }
        let row = try #require(sums)
        #expect(row[0] == 2)
        #expect(row[1] == (first.event.requestBytes ?? 0) + (other.event.requestBytes ?? 0))
        #expect(try store.checkpoints() == [0: 3])
        let stored = try store.databasePool.read { db in
            try Int.fetchOne(db, sql: "SELECT ledger_sequence FROM proxy_request_logs_readable WHERE event_id = ?",
                             arguments: [TextEncoding.lowercase(first.event.eventID)])
        }
        #expect(stored == 0)
    }

    @Test func aFailingRecordRollsBackRowsRollupAndCheckpoint() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let projector = Projector(store: store)
        try projector.apply((0..<5).map { makeRecord(sequence: UInt64($0)) })
        let before = try dumpProjection(store.databasePool)

        var bad = makeRecord(sequence: 7)
        bad.event.durationMS = -1  // violates CHECK (duration_ms >= 0)
        let batch = [makeRecord(sequence: 5), makeRecord(sequence: 6), bad, makeRecord(sequence: 8)]
        let error = try #require(throws: ProjectionError.self) { try projector.apply(batch) }
        #expect(error.code == .writeFailed)
        #expect(error.message.contains("0:7"))

        #expect(try dumpProjection(store.databasePool) == before)
        #expect(try store.checkpoints() == [0: 5])
        #expect(try store.requestLogCount() == 5)
    }

    @Test func checkpointsAdvancePerPartitionAndNeverMoveBack() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let projector = Projector(store: store)
        try projector.apply([makeRecord(partition: 0, sequence: 9), makeRecord(partition: 1, sequence: 2)])
        #expect(try store.checkpoints() == [0: 10, 1: 3])
        try projector.apply([makeRecord(partition: 0, sequence: 4, index: 100)])
        #expect(try store.checkpoints() == [0: 10, 1: 3])
        #expect(try store.requestLogCount() == 3)
    }

    @Test func aSequenceAboveInt64MaxIsRejected() throws {
        let directory = try TemporaryDirectory()
        let store = try ProjectionStore(path: directory.file("p.sqlite"))
        let error = try #require(throws: ProjectionError.self) {
            try Projector(store: store).apply([makeRecord(sequence: UInt64(Int64.max) + 1, index: 1)])
        }
        #expect(error.code == .invalidRecord)
        #expect(try store.requestLogCount() == 0)
    }
}
