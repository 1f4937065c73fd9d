import GRDB
import Ledger

extension ProjectionSchema {
    /// The kinds of `proxy_usage_hourly_by_key`.
    typealias KeyKind = UsageKeyKind

    /// Migration `v2`: a report reads only rollups, whose size grows with hours and distinct keys,
    /// not with events.
    ///
    /// - `proxy_usage_hourly` is recreated with `proxied` (0/1) in its primary key, so billed
    ///   (proxied) and unbilled usage are separate rows.
    /// - `proxy_usage_hourly_by_key(kind, name, hour_us, requests, estimated_bytes)`: per UTC hour
    ///   (`hour_us`, UTC µs of the hour start) and `kind` (`job`, `channel`, `video`), the number of
    ///   proxied events whose `job_id`, `channel_name` or `video_id` is `name` (NULL identifiers
    ///   are not counted) and their `estimated_bytes` (bytes, NULL as 0). The primary key
    ///   `(kind, hour_us, name)` serves a period's range of hours.
    ///
    /// Both are backfilled from `proxy_request_logs`, so a `v1` database keeps its reports.
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/lang_altertable.html>.
    private static let hourUS = hourFloor("timestamp_us")

    /// The UTC hour start of `column` (UTC µs), in SQL: floored, also for times before 1970.
    static func hourFloor(_ column: String) -> String {
        let hour = LedgerTimestamp.microsecondsPerHour
        return "(\(column) - ((\(column) % \(hour)) + \(hour)) % \(hour))"
    }

    static func v2(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE proxy_usage_hourly_v2 (
                    hour TEXT NOT NULL,
                    hour_us INTEGER NOT NULL,
                    component TEXT NOT NULL,
                    operation TEXT NOT NULL,
                    success INTEGER NOT NULL,
                    error_type TEXT NOT NULL DEFAULT '',
                    proxied INTEGER NOT NULL CHECK (proxied IN (0, 1)),
                    requests INTEGER NOT NULL,
                    request_bytes INTEGER NOT NULL,
                    response_bytes INTEGER NOT NULL,
                    estimated_bytes INTEGER NOT NULL,
                    PRIMARY KEY (hour, component, operation, success, error_type, proxied)
                ) WITHOUT ROWID;
                INSERT INTO proxy_usage_hourly_v2
                SELECT substr(timestamp, 1, 13) || ':00:00.000000Z', \(hourUS), component, operation, success,
                       COALESCE(error_type, ''), proxied, COUNT(*), COALESCE(SUM(request_bytes), 0),
                       COALESCE(SUM(response_bytes), 0), COALESCE(SUM(estimated_bytes), 0)
                FROM proxy_request_logs GROUP BY 1, 3, 4, 5, 6, 7;
                DROP TABLE proxy_usage_hourly;
                ALTER TABLE proxy_usage_hourly_v2 RENAME TO proxy_usage_hourly;
                CREATE TABLE proxy_usage_hourly_by_key (
                    kind TEXT NOT NULL CHECK (kind IN ('job', 'channel', 'video')),
                    hour_us INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    requests INTEGER NOT NULL,
                    estimated_bytes INTEGER NOT NULL,
                    PRIMARY KEY (kind, hour_us, name)
                ) WITHOUT ROWID;
                """)
        try fillByKeyRollup(db)
    }

    /// Fills the empty `proxy_usage_hourly_by_key` from `proxy_request_logs` in one statement
    /// per kind: the `v2` backfill, and a rebuild's last step after its bulk load (cheaper than
    /// the loader's per-batch upserts, which bind one group at a time in hash order).
    ///
    /// Each statement groups the proxied events by hour and name (a sort, then inserts in primary
    /// key order, which measured about 40 % faster than one upsert per event in rowid order).
    ///
    /// A sum that would pass Int64.max fails the statement with SQLite's "integer overflow":
    /// `sum()` of integers raises it (<https://www.sqlite.org/lang_aggfunc.html#sumunc>), it never
    /// stores a float.
    ///
    /// - Throws: ``ProjectionError`` `.invalidRecord` naming an event of the overflowing group (the
    ///   one with the most bytes) when a sum does not fit in Int64; `DatabaseError` otherwise.
    static func fillByKeyRollup(_ db: Database) throws {
        for kind in KeyKind.allCases {
            do {
                try db.execute(
                    sql: """
                        INSERT INTO proxy_usage_hourly_by_key (kind, hour_us, name, requests, estimated_bytes)
                        SELECT '\(kind.rawValue)', \(hourUS), \(kind.column), COUNT(*), COALESCE(SUM(estimated_bytes), 0)
                        FROM proxy_request_logs WHERE proxied = 1 AND \(kind.column) IS NOT NULL
                        GROUP BY 2, 3
                        """)
            } catch let error as DatabaseError where error.message?.contains("integer overflow") == true {
                throw try overflowingEvent(kind, db) ?? error
            }
        }
    }

    /// The error naming the proxied event with the most bytes in a (hour, `kind`) group whose
    /// `estimated_bytes` sum passes Int64.max (found with `total()`, which sums as a float).
    private static func overflowingEvent(_ kind: KeyKind, _ db: Database) throws -> ProjectionError? {
        let column = kind.column
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT CASE typeof(event_id) WHEN 'blob' THEN \(uuidText("event_id")) ELSE event_id END,
                           ledger_partition, ledger_sequence FROM proxy_request_logs
                    WHERE proxied = 1 AND (\(hourUS), \(column)) IN (
                        SELECT \(hourUS), \(column) FROM proxy_request_logs
                        WHERE proxied = 1 AND \(column) IS NOT NULL GROUP BY 1, 2
                        HAVING total(estimated_bytes) >= 9.2e18)
                    ORDER BY estimated_bytes DESC LIMIT 1
                    """)
        else { return nil }
        let eventID: String = row[0]
        let partition: Int64 = row[1], sequence: Int64 = row[2]
        return ProjectionError(
            code: .invalidRecord,
            message: "event \(eventID) at ledger position \(partition):\(sequence): the hourly estimated_bytes sum "
                + "per \(kind.rawValue) does not fit in a 64-bit integer; the ledger holds an impossible value"
        )
    }

    /// Adds one (kind, hour, name) group's sums (each ≥ 0) to `proxy_usage_hourly_by_key`. The
    /// update is skipped (`changes() == 0`, the loader throws) when a stored sum plus the added
    /// one would pass Int64.max, since SQLite would turn the overflowing `+` into a float.
    static let upsertByKeySQL = """
        INSERT INTO proxy_usage_hourly_by_key (kind, hour_us, name, requests, estimated_bytes)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (kind, hour_us, name) DO UPDATE SET
            requests = requests + excluded.requests,
            estimated_bytes = estimated_bytes + excluded.estimated_bytes
        WHERE requests <= 9223372036854775807 - excluded.requests
            AND estimated_bytes <= 9223372036854775807 - excluded.estimated_bytes
        """
}
