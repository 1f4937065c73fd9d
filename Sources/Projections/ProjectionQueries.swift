import GRDB
import Ledger

/// The identifiers reports rank (top jobs, channels and videos): the `kind` of
/// `proxy_usage_hourly_by_key` and the `proxy_request_logs` column it counts.
public enum UsageKeyKind: String, Sendable, Hashable, CaseIterable {
    case job
    case channel
    case video

    /// The `proxy_request_logs` column holding the identifier.
    var column: String {
        switch self {
        case .job: "job_id"
        case .channel: "channel_name"
        case .video: "video_id"
        }
    }
}

/// Typed queries over one consistent snapshot of the projection (one read transaction); get one
/// from ``ProjectionStore/read(_:)``. Times are UTC µs since the Unix epoch, ranges half-open
/// `[from, to)`, bytes are bytes with NULL counted as 0.
///
/// Other modules read the projection only through these methods: they send no SQL of their own.
public struct ProjectionQueries {
    let db: Database

    /// The usage of one group of events: one hour (or one event) × component × operation ×
    /// success × error type × proxied.
    public struct UsageGroup: Sendable, Hashable {
        /// The hour start (hourly groups) or the event's start (``ProjectionQueries/eventUsage(from:to:_:)``), UTC µs.
        public var start: Int64
        public var component: String
        public var operation: String
        public var success: Bool
        /// The error type, `""` for none.
        public var errorType: String
        /// `false` for events that did not go through the gateway (not billed).
        public var proxied: Bool
        public var requests: Int64
        public var requestBytes: Int64
        public var responseBytes: Int64
        /// Billed bytes: measured totals where measured, else the estimate.
        public var estimatedBytes: Int64
    }

    /// The requests and billed bytes of one job, channel or video.
    public struct KeyUsage: Sendable, Hashable {
        /// The identifier as text (a UUID job id in its lower-case form).
        public var name: String
        public var requests: Int64
        public var estimatedBytes: Int64
        /// The start of the first UTC hour with one of its events in the range, UTC µs.
        public var firstHour: Int64
    }

    /// What a job was for: the video or channel of its events.
    public struct JobSubject: Sendable, Hashable {
        public var videoID: String?
        public var channelName: String?
    }

    /// The newest event's start, or `nil` when no event is projected (served by the index).
    public func newestEventTime() throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT MAX(timestamp_us) FROM proxy_request_logs")
    }

    /// The rows of the two hourly rollups, `proxy_usage_hourly` plus `proxy_usage_hourly_by_key`
    /// (what a report's work grows with).
    public func rollupRowCount() throws -> Int {
        try Int.fetchOne(
            db, sql: "SELECT (SELECT COUNT(*) FROM proxy_usage_hourly) + (SELECT COUNT(*) FROM proxy_usage_hourly_by_key)"
        ) ?? 0
    }

    /// Usage per UTC hour of the hours starting in `[from, to)`. With `fromRollups` the rows of
    /// `proxy_usage_hourly` (work grows with hours); otherwise the same groups computed from
    /// `proxy_request_logs` (work grows with events; the reference the rollups are checked with).
    public func hourlyUsage(from: Int64, to: Int64, fromRollups: Bool, _ body: (UsageGroup) throws -> Void) throws {
        let rows =
            fromRollups
            ? try Row.fetchCursor(
                db,
                sql: """
                    SELECT hour_us, component, operation, success, error_type, proxied, requests, request_bytes,
                           response_bytes, estimated_bytes
                    FROM proxy_usage_hourly WHERE hour >= ? AND hour < ?
                    """,
                arguments: [LedgerTimestamp(microseconds: from).rfc3339, LedgerTimestamp(microseconds: to).rfc3339])
            : try Row.fetchCursor(
                db,
                sql: """
                    SELECT \(ProjectionSchema.hourFloor("timestamp_us")), component, operation, success,
                           COALESCE(error_type, ''), proxied, COUNT(*), COALESCE(SUM(request_bytes), 0),
                           COALESCE(SUM(response_bytes), 0), COALESCE(SUM(estimated_bytes), 0)
                    FROM \(ProjectionSchema.readableView) WHERE timestamp_us >= ? AND timestamp_us < ?
                    GROUP BY 1, 2, 3, 4, 5, 6
                    """,
                arguments: [from, to])
        while let row = try rows.next() { try body(Self.group(row)) }
    }

    /// Each event starting in `[from, to)` as a group of one (``UsageGroup/start`` is its start).
    public func eventUsage(from: Int64, to: Int64, _ body: (UsageGroup) throws -> Void) throws {
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT timestamp_us, component, operation, success, COALESCE(error_type, ''), proxied, 1,
                       COALESCE(request_bytes, 0), COALESCE(response_bytes, 0), COALESCE(estimated_bytes, 0)
                FROM \(ProjectionSchema.readableView) WHERE timestamp_us >= ? AND timestamp_us < ?
                """,
            arguments: [from, to])
        while let row = try rows.next() { try body(Self.group(row)) }
    }

    private static func group(_ row: Row) -> UsageGroup {
        UsageGroup(
            start: row[0], component: row[1], operation: row[2], success: (row[3] as Int64) != 0, errorType: row[4],
            proxied: (row[5] as Int64) != 0, requests: row[6], requestBytes: row[7], responseBytes: row[8],
            estimatedBytes: row[9])
    }

    /// The `count` jobs, channels or videos with the most billed bytes among proxied events
    /// starting in `[from, to)`; ties by name, ascending. With `fromRollups`, the whole UTC hours
    /// come from `proxy_usage_hourly_by_key` and only the pieces of hours at either end from
    /// `proxy_request_logs`; otherwise everything from `proxy_request_logs`.
    public func topKeys(_ kind: UsageKeyKind, from: Int64, to: Int64, count: Int, fromRollups: Bool) throws -> [KeyUsage] {
        let hour = LedgerTimestamp.microsecondsPerHour
        let firstWhole = from % hour == 0 ? from : LedgerTimestamp(microseconds: from).hourStart.microseconds + hour
        let endWhole = LedgerTimestamp(microseconds: to).hourStart.microseconds
        var parts: [String] = []
        var arguments: StatementArguments = []
        var pieces = [(from, to)]
        if fromRollups, firstWhole < endWhole {
            parts.append(
                """
                SELECT name AS name, requests AS requests, estimated_bytes AS bytes, hour_us AS hour FROM proxy_usage_hourly_by_key
                WHERE kind = ? AND hour_us >= ? AND hour_us < ?
                """)
            arguments += [kind.rawValue, firstWhole, endWhole]
            pieces = [(from, firstWhole), (endWhole, to)].filter { $0.0 < $0.1 }
        }
        for (start, end) in pieces {
            parts.append(
                """
                SELECT \(kind.column) AS name, 1 AS requests, COALESCE(estimated_bytes, 0) AS bytes,
                    \(ProjectionSchema.hourFloor("timestamp_us")) AS hour FROM proxy_request_logs
                WHERE timestamp_us >= ? AND timestamp_us < ? AND proxied = 1 AND \(kind.column) IS NOT NULL
                """)
            arguments += [start, end]
        }
        arguments += [count]
        return try Row.fetchAll(
            db,
            sql: """
                SELECT \(ProjectionSchema.identifierText("name")) AS shown, SUM(requests), SUM(bytes) AS total, MIN(hour)
                FROM (\(parts.joined(separator: " UNION ALL ")))
                GROUP BY name ORDER BY total DESC, shown ASC LIMIT ?
                """,
            arguments: arguments
        ).map { KeyUsage(name: $0[0], requests: $0[1], estimatedBytes: $0[2], firstHour: $0[3]) }
    }

    /// The video or channel of `job`'s events in the UTC hour starting at `hour` (where
    /// ``topKeys(_:from:to:count:fromRollups:)`` first saw it; the index serves that hour).
    ///
    /// - Parameters:
    ///   - job: The job id as text.
    ///   - hour: A ``KeyUsage/firstHour``.
    /// - Returns: `nil` when none of those events names a video or channel.
    public func subject(ofJob job: String, inHour hour: Int64) throws -> JobSubject? {
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT video_id, channel_name FROM proxy_request_logs
                WHERE timestamp_us >= ? AND timestamp_us < ? AND job_id = ?
                    AND (video_id IS NOT NULL OR channel_name IS NOT NULL)
                ORDER BY timestamp_us LIMIT 1
                """,
            arguments: [hour, hour + LedgerTimestamp.microsecondsPerHour, TextEncoding.storedIdentifier(job)])
        return row.map { JobSubject(videoID: $0[0], channelName: $0[1]) }
    }
}

extension ProjectionQueries {
    /// One day of imported vendor figures (`vendor_usage_daily`, summed over its rows).
    public struct VendorDay: Sendable, Hashable {
        /// The calendar day `YYYY-MM-DD` at ``utcOffset``.
        public var date: String
        /// `Z` or `±HH:MM`.
        public var utcOffset: String
        /// The vendor source's raw value (`squid_access_log`, `webshare_csv`, …).
        public var source: String
        /// The day's start, UTC µs; the day is 24 hours long (a fixed offset).
        public var start: Int64
        public var bytes: Int64
    }

    /// Every stored vendor day, ordered by date, offset and source; empty when nothing was imported.
    public func vendorDays() throws -> [VendorDay] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT date, utc_offset, source, MIN(day_start_us), SUM(bytes) FROM vendor_usage_daily
                GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                """
        ).map { VendorDay(date: $0[0], utcOffset: $0[1], source: $0[2], start: $0[3], bytes: $0[4]) }
    }

    /// One stored `vendor_usage_daily` row.
    public struct VendorDailyRow: Sendable, Hashable {
        public var date: String
        public var source: String
        public var bytes: Int64
        public var records: Int
    }

    /// The stored daily rows of one alignment, ordered by date and source.
    ///
    /// - Parameter utcOffsetSeconds: The offset the days are aligned to, seconds east of UTC.
    public func vendorDailyRows(utcOffsetSeconds: Int) throws -> [VendorDailyRow] {
        try Row.fetchAll(
            db,
            sql: "SELECT date, source, bytes, records FROM vendor_usage_daily WHERE utc_offset = ? ORDER BY date, source",
            arguments: [BucketGrid.offsetText(utcOffsetSeconds)]
        ).map { VendorDailyRow(date: $0[0], source: $0[1], bytes: $0[2], records: $0[3]) }
    }

    /// One proxied event's timing and bytes, as reconciliation matches it with vendor records.
    public struct ProxiedEvent: Sendable, Hashable {
        public var eventID: String
        /// Start, UTC µs.
        public var start: Int64
        public var durationMS: Int64
        public var bytesMeasured: Bool
        public var requestBytes: Int64
        public var responseBytes: Int64
        public var estimatedBytes: Int64
    }

    /// The proxied events starting in `[from, to)`, in start order (served by the index).
    public func proxiedEvents(from: Int64, to: Int64) throws -> [ProxiedEvent] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT event_id, timestamp_us, duration_ms, bytes_measured, COALESCE(request_bytes, 0),
                       COALESCE(response_bytes, 0), COALESCE(estimated_bytes, 0)
                FROM \(ProjectionSchema.readableView)
                WHERE proxied = 1 AND timestamp_us >= ? AND timestamp_us < ?
                ORDER BY timestamp_us
                """,
            arguments: [from, to]
        ).map {
            ProxiedEvent(
                eventID: $0[0], start: $0[1], durationMS: $0[2], bytesMeasured: ($0[3] as Int64) != 0,
                requestBytes: $0[4], responseBytes: $0[5], estimatedBytes: $0[6])
        }
    }
}

extension ProjectionStore {
    /// Runs `body` with typed queries on one consistent snapshot of the projection.
    ///
    /// - Throws: ``ProjectionError`` `.readFailed` wrapping a SQLite error; what `body` throws.
    public func read<T>(_ body: (ProjectionQueries) throws -> T) throws -> T {
        do {
            return try databasePool.read { db in try body(ProjectionQueries(db: db)) }
        } catch let error as DatabaseError {
            throw ProjectionError(code: .readFailed, message: "reading the projection \(path) failed", underlying: "\(error)")
        }
    }
}
