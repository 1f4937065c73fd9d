import Foundation
import GRDB
import Ledger
import Projections

/// Our side of the comparison: one proxied ledger event's time span and billed bytes.
public struct LedgerUsageEvent: Sendable, Hashable {
    /// When the operation started, UTC µs (the event's `timestamp`).
    public var start: Int64
    /// When it ended, UTC µs (`timestamp + duration_ms`).
    public var end: Int64
    /// `request_bytes + response_bytes` when `bytes_measured`, else `estimated_bytes` (0 when null).
    public var bytes: Int64

    /// Creates a usage event.
    public init(start: Int64, end: Int64, bytes: Int64) {
        self.start = start
        self.end = max(start, end)
        self.bytes = bytes
    }

    /// The usage of a ledger event, or `nil` when it was not proxied (nothing billed).
    public init?(_ event: ProxyRequestEvent) {
        guard event.proxied else { return nil }
        let bytes = event.bytesMeasured
            ? (event.requestBytes ?? 0) + (event.responseBytes ?? 0) : (event.estimatedBytes ?? 0)
        let start = event.timestamp.microseconds
        self.init(start: start, end: start + max(0, event.durationMS) * 1_000, bytes: bytes)
    }
}

/// Reads our bytes from the ledger or from its SQLite projection.
public enum LedgerUsageReader {
    /// Proxied events whose start is in `[from, to)`, from the projection's `proxy_request_logs`
    /// (Projections, `DESIGN.md` §5). Run `proxy-ledger replay` first so it is up to date.
    ///
    /// - Parameters:
    ///   - databasePath: The projection database; it must exist.
    ///   - from: Lower bound, UTC µs, inclusive.
    ///   - to: Upper bound, UTC µs, exclusive.
    /// - Returns: The events in `timestamp` order.
    /// - Throws: ``ReconciliationError`` `.storageFailed` when the file is missing or cannot be read.
    public static func fromDatabase(_ databasePath: String, from: Int64, to: Int64) throws(ReconciliationError) -> [LedgerUsageEvent] {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw ReconciliationError(.storageFailed, "no projection database at \(databasePath); run `proxy-ledger replay`")
        }
        do {
            let store = try ProjectionStore(path: databasePath)
            defer { try? store.close() }
            return try store.databasePool.read { db in
                var events: [LedgerUsageEvent] = []
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT timestamp_us, duration_ms,
                               CASE WHEN bytes_measured = 1 THEN COALESCE(request_bytes, 0) + COALESCE(response_bytes, 0)
                                    ELSE COALESCE(estimated_bytes, 0) END
                        FROM proxy_request_logs
                        WHERE proxied = 1 AND timestamp_us >= ? AND timestamp_us < ?
                        ORDER BY timestamp_us
                        """,
                    arguments: [from, to])
                while let row = try rows.next() {
                    let start: Int64 = row[0]
                    let duration: Int64 = row[1]
                    events.append(LedgerUsageEvent(start: start, end: start + duration * 1_000, bytes: row[2]))
                }
                return events
            }
        } catch {
            throw ReconciliationError(.storageFailed, "reading proxy_request_logs from \(databasePath) failed: \(error)")
        }
    }

    /// Proxied events whose start is in `[from, to)`, read from every partition of a ledger.
    ///
    /// - Complexity: Reads the whole ledger, O(events).
    /// - Throws: ``ReconciliationError`` `.storageFailed` when the ledger is missing or corrupt.
    public static func fromLedger(_ directory: String, from: Int64, to: Int64) throws(ReconciliationError) -> [LedgerUsageEvent] {
        do {
            var events: [LedgerUsageEvent] = []
            try LedgerReader(directory: directory).scanAll { records in
                for record in records {
                    let time = record.event.timestamp.microseconds
                    guard time >= from, time < to, let usage = LedgerUsageEvent(record.event) else { continue }
                    events.append(usage)
                }
            }
            return events.sorted { $0.start < $1.start }
        } catch {
            throw ReconciliationError(.storageFailed, "reading the ledger \(directory) failed: \(error)")
        }
    }
}
