import Foundation
import GRDB
import Ledger
import Testing
import TestSupport

@testable import Projections

/// Records held in memory, standing in for a `LedgerReader`.
struct InMemoryLedger: LedgerRecordSource {
    var records: [LedgerRecord]
    /// Records per `scan` callback, like one ledger frame.
    var frameSize = 7
    /// When set, `scan` throws this once it reaches the record with that sequence.
    var failAtSequence: UInt64?

    struct Failure: Error {}

    func partitions() throws -> [Int] {
        Array(Set(records.map(\.position.partition))).sorted()
    }

    func scan(partition: Int, from sequence: UInt64, _ body: ([LedgerRecord]) throws -> Void) throws {
        let selected = records.filter { $0.position.partition == partition && $0.position.sequence >= sequence }
            .sorted { $0.position < $1.position }
        var start = 0
        while start < selected.count {
            let frame = Array(selected[start..<min(start + frameSize, selected.count)])
            if let failAtSequence, frame.contains(where: { $0.position.sequence >= failAtSequence }) {
                throw Failure()
            }
            try body(frame)
            start += frameSize
        }
    }
}

/// 2026-11-01T00:00:00Z in UTC µs.
let baseMicroseconds: Int64 = 1_793_491_200_000_000

/// A record with deterministic, varied fields; `index` picks the values.
func makeRecord(partition: Int = 0, sequence: UInt64, index: Int? = nil, eventID: UUID? = nil) -> LedgerRecord {
    let n = index ?? Int(sequence)
    let errors: [ProxyErrorType?] = [nil, nil, nil, .rateLimited, .botCheck, .timeout]
    let errorType = errors[n % errors.count]
    let event = ProxyRequestEvent(
        eventID: eventID ?? deterministicUUID(partition: partition, index: n),
        timestamp: LedgerTimestamp(microseconds: baseMicroseconds + Int64(n) * 1_234_567),
        component: n % 3 == 0 ? "api-youtube-service" : "transcribe-worker",
        operation: ["subtitle-download", "channel-listing", "video-metadata"][n % 3],
        videoID: n % 2 == 0 ? "vid\(n)" : nil,
        channelName: n % 5 == 0 ? "channel\(n % 4)" : nil,
        jobID: "job-\(n / 3)",
        correlationID: n % 4 == 0 ? nil : "corr-\(n)",
        success: errorType == nil,
        errorType: errorType,
        httpStatus: errorType == .rateLimited ? 429 : 200,
        requestBytes: n % 7 == 0 ? nil : Int64(1_000 + n),
        responseBytes: n % 7 == 0 ? nil : Int64(50_000 + 13 * n),
        estimatedBytes: Int64(51_000 + 14 * n),
        bytesMeasured: n % 7 != 0,
        durationMS: Int64(100 + n % 900),
        proxied: n % 11 != 0,
        attempt: 1 + n % 3
    )
    return LedgerRecord(schemaVersion: 1, position: LedgerPosition(partition: partition, sequence: sequence), event: event)
}

/// A UUID derived from `partition` and `index`, so rebuilds see the same ids.
func deterministicUUID(partition: Int, index: Int) -> UUID {
    let a = UInt64(truncatingIfNeeded: partition) &* 0x9E37_79B9_7F4A_7C15
    let b = UInt64(truncatingIfNeeded: index) &* 0xBF58_476D_1CE4_E5B9 ^ 0xDEAD_BEEF
    func byte(_ value: UInt64, _ shift: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: value >> shift) }
    return UUID(
        uuid: (
            byte(a, 56), byte(a, 48), byte(a, 40), byte(a, 32), byte(a, 24), byte(a, 16), 0x40 | byte(a, 8) & 0x0f,
            byte(a, 0), 0x80 | byte(b, 56) & 0x3f, byte(b, 48), byte(b, 40), byte(b, 32), byte(b, 24), byte(b, 16),
            byte(b, 8), byte(b, 0)
        )
    )
}

/// Every row of `table` in a stable order, each value rendered as text (`NULL` for null).
func dumpTable(_ reader: some DatabaseReader, _ table: String, orderBy: String) throws -> [[String]] {
    try reader.read { db in
        try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(orderBy)").map { row in
            row.databaseValues.map { $0.isNull ? "NULL" : $0.description }
        }
    }
}

/// The full contents of the projection: every table, every row.
func dumpProjection(_ reader: some DatabaseReader) throws -> [String: [[String]]] {
    [
        "proxy_request_logs": try dumpTable(reader, "proxy_request_logs", orderBy: "id"),
        "proxy_usage_hourly": try dumpTable(
            reader, "proxy_usage_hourly", orderBy: "hour, component, operation, success, error_type, proxied"),
        "proxy_usage_hourly_by_key": try dumpTable(reader, "proxy_usage_hourly_by_key", orderBy: "kind, hour_us, name"),
        "projection_checkpoints": try dumpTable(reader, "projection_checkpoints", orderBy: "\"partition\""),
        "projection_labels": try dumpTable(reader, "projection_labels", orderBy: "id"),
    ]
}
