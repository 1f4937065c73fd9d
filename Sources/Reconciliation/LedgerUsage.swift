import Foundation
public import Ledger
public import Projections

/// Our side of the comparison: one proxied ledger event's time span and billed bytes.
public struct LedgerUsageEvent: Sendable, Hashable {
    /// When the operation started, UTC µs (the event's `timestamp`).
    public var start: Int64
    /// When it ended, UTC µs (`timestamp + duration_ms`).
    public var end: Int64
    /// `request_bytes + response_bytes` when `bytes_measured`, else `estimated_bytes` (0 when null), in bytes.
    public var bytes: Int64
    /// `response_bytes` (bytes sent back to the client) when `bytes_measured`, else `nil` (an
    /// estimate has no split by direction). Compared with sources that log reply sizes only.
    public var responseBytes: Int64?

    /// Creates a usage event.
    ///
    /// - Parameters:
    ///   - start: UTC µs.
    ///   - end: UTC µs; raised to `start` when earlier.
    ///   - bytes: Both directions, in bytes.
    ///   - responseBytes: The response direction, in bytes, when measured.
    public init(start: Int64, end: Int64, bytes: Int64, responseBytes: Int64? = nil) {
        self.start = start
        self.end = max(start, end)
        self.bytes = bytes
        self.responseBytes = responseBytes
    }

    /// The bytes compared with a source that reports `direction`: ``bytes`` for both, else
    /// ``responseBytes`` (``bytes`` when the event carries only an estimate).
    public func bytes(_ direction: ComparedDirection) -> Int64 {
        direction == .both ? bytes : responseBytes ?? bytes
    }

    /// The usage of a ledger event, or `nil` when it was not proxied (nothing billed).
    ///
    /// - Throws: ``ReconciliationError`` `.outOfRange` when its bytes or end time do not fit in
    ///   Int64 (a poisoned event); the message names the event.
    public static func make(_ event: ProxyRequestEvent) throws(ReconciliationError) -> LedgerUsageEvent? {
        guard event.proxied else { return nil }
        return try make(
            start: event.timestamp.microseconds, durationMS: event.durationMS, measured: event.bytesMeasured,
            request: event.requestBytes ?? 0, response: event.responseBytes ?? 0, estimated: event.estimatedBytes ?? 0,
            name: "ledger event \(event.eventID.uuidString.lowercased())")
    }

    /// An event from a start, a duration in ms and its byte fields (NULL read as 0): measured
    /// events count request + response, the others their estimate. `name` is for the overflow
    /// message.
    static func make(
        start: Int64, durationMS: Int64, measured: Bool, request: Int64, response: Int64, estimated: Int64,
        name: String
    ) throws(ReconciliationError) -> LedgerUsageEvent {
        let bytes =
            measured ? try CheckedMath.add(request, response, "\(name): request_bytes and response_bytes") : estimated
        let span = try CheckedMath.multiply(max(0, durationMS), 1_000, "\(name): duration_ms \(durationMS)")
        let end = try CheckedMath.add(start, span, "\(name): timestamp and duration_ms")
        return LedgerUsageEvent(start: start, end: end, bytes: bytes, responseBytes: measured ? response : nil)
    }
}

/// Reads our bytes from the ledger or from its SQLite projection.
public enum LedgerUsageReader {
    /// Proxied events whose start is in `[from, to)`, from the projection's `proxy_request_logs`
    /// (Projections). Run `proxy-ledger replay` first so it is up to date.
    ///
    /// - Parameters:
    ///   - databasePath: The projection database; it must exist.
    ///   - from: Lower bound, UTC µs, inclusive.
    ///   - to: Upper bound, UTC µs, exclusive.
    /// - Returns: The events in `timestamp` order.
    /// - Throws: ``ReconciliationError`` `.storageFailed` when the file is missing or cannot be
    ///   read, `.outOfRange` when a row's bytes or end time do not fit in Int64.
    public static func fromDatabase(_ databasePath: String, from: Int64, to: Int64) throws(ReconciliationError)
        -> [LedgerUsageEvent]
    {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw ReconciliationError(
                .storageFailed, "no projection database at \(databasePath); run `proxy-ledger replay`")
        }
        do {
            let store = try ProjectionStore(path: databasePath, access: .readOnly)
            defer { try? store.close() }
            return try fromDatabase(store, from: from, to: to)
        } catch let error as ReconciliationError {
            throw error
        } catch {
            throw ReconciliationError(.storageFailed, "opening the projection \(databasePath) failed: \(error)")
        }
    }

    /// Proxied events whose start is in `[from, to)`, from an open projection store.
    ///
    /// - Throws: ``ReconciliationError`` `.storageFailed` when it cannot be read, `.outOfRange`
    ///   when a row's bytes or end time do not fit in Int64.
    public static func fromDatabase(_ store: ProjectionStore, from: Int64, to: Int64) throws(ReconciliationError)
        -> [LedgerUsageEvent]
    {
        do {
            return try store.read { queries in
                try queries.proxiedEvents(from: from, to: to).map { row in
                    try LedgerUsageEvent.make(
                        start: row.start, durationMS: row.durationMS, measured: row.bytesMeasured, request: row.requestBytes,
                        response: row.responseBytes, estimated: row.estimatedBytes,
                        name: "proxy_request_logs row for event \(row.eventID)")
                }
            }
        } catch let error as ReconciliationError {
            throw error
        } catch {
            throw ReconciliationError(.storageFailed, "reading proxy_request_logs from \(store.path) failed: \(error)")
        }
    }

    /// Proxied events whose start is in `[from, to)`, read from every partition of a ledger.
    ///
    /// - Complexity: Reads the whole ledger, O(events).
    /// - Throws: ``ReconciliationError`` `.storageFailed` when the ledger is missing or corrupt,
    ///   `.outOfRange` when an event's bytes or end time do not fit in Int64.
    public static func fromLedger(_ directory: String, from: Int64, to: Int64) throws(ReconciliationError)
        -> [LedgerUsageEvent]
    {
        do {
            var events: [LedgerUsageEvent] = []
            try LedgerReader(directory: directory).scanAll { records in
                for record in records {
                    let time = record.event.timestamp.microseconds
                    guard time >= from, time < to, let usage = try LedgerUsageEvent.make(record.event) else { continue }
                    events.append(usage)
                }
            }
            return events.sorted { $0.start < $1.start }
        } catch let error as ReconciliationError {
            throw error
        } catch {
            throw ReconciliationError(.storageFailed, "reading the ledger \(directory) failed: \(error)")
        }
    }
}
