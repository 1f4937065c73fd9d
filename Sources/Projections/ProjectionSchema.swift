import GRDB

/// The SQLite schema of the projection, one `registerMigration` per version.
///
/// Tables (docs/projection.md):
/// - `proxy_request_logs`: one row per distinct `event_id`. Since `v4`: `event_id` as its 16
///   bytes, the instant as `timestamp_us` (UTC µs since the Unix epoch, indexed), component,
///   operation and error type as ids of `projection_labels`; the view
///   `proxy_request_logs_readable` shows the original design's columns as text (`timestamp` and `created_at`
///   as RFC 3339 UTC with six fraction digits). Booleans are 0/1, byte counts are bytes,
///   `duration_ms` is milliseconds.
/// - `projection_labels` (since `v4`): the label dictionary.
/// - `proxy_usage_hourly`: sums per UTC hour (`hour` RFC 3339 and `hour_us` UTC µs of the hour
///   start), component, operation, success, error_type (`''` for none) and, since `v2`, proxied.
///   Byte sums treat NULL as 0.
/// - `proxy_usage_hourly_by_key` (since `v2`): requests and billed bytes of proxied events per
///   UTC hour and job, channel or video; see ``v2``.
/// - `projection_checkpoints`: per ledger partition, the next sequence to apply; written in the
///   same transaction as the rows it covers.
///
/// Related SQLite documentation: <https://www.sqlite.org/lang_createtable.html>,
/// <https://www.sqlite.org/withoutrowid.html>.
enum ProjectionSchema {
    /// Secondary indexes of `proxy_request_logs`, dropped before a rebuild's bulk load and
    /// created again after it (the unique `event_id` index stays, the load needs it). Since `v4`
    /// only the one on `timestamp_us`.
    static let secondaryIndexes: [(name: String, sql: String)] = [timestampIndex]

    /// The `v1` secondary indexes (on text), which `v4` replaces.
    private static let v1Indexes = [
        "CREATE INDEX proxy_request_logs_timestamp ON proxy_request_logs(timestamp)",
        "CREATE INDEX proxy_request_logs_component ON proxy_request_logs(component)",
        "CREATE INDEX proxy_request_logs_component_timestamp ON proxy_request_logs(component, timestamp)",
    ]

    /// The migrator: `v1` creates the three tables and all indexes; `v2` keys the hourly rollup
    /// by `proxied` and adds the per-key rollup (backfilling both from `proxy_request_logs`);
    /// `v3` adds retention; `v4` stores `proxy_request_logs` compactly (see ``v4(_:)``); `v5` marks
    /// the file as a projection and adds `projection_metadata` (see ``ProjectionMetadata``); `v6`
    /// creates the vendor tables `reconcile` fills (see ``VendorTables``).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE proxy_request_logs (
                        id INTEGER PRIMARY KEY,
                        event_id TEXT NOT NULL UNIQUE,
                        timestamp TEXT NOT NULL,
                        timestamp_us INTEGER NOT NULL,
                        component TEXT NOT NULL,
                        operation TEXT NOT NULL,
                        video_id TEXT,
                        channel_name TEXT,
                        job_id TEXT,
                        correlation_id TEXT,
                        success INTEGER NOT NULL CHECK (success IN (0, 1)),
                        error_type TEXT,
                        estimated_bytes INTEGER CHECK (estimated_bytes >= 0),
                        duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
                        created_at TEXT NOT NULL,
                        request_bytes INTEGER CHECK (request_bytes >= 0),
                        response_bytes INTEGER CHECK (response_bytes >= 0),
                        http_status INTEGER,
                        bytes_measured INTEGER NOT NULL CHECK (bytes_measured IN (0, 1)),
                        proxied INTEGER NOT NULL CHECK (proxied IN (0, 1)),
                        attempt INTEGER NOT NULL CHECK (attempt >= 1),
                        ledger_partition INTEGER NOT NULL,
                        ledger_sequence INTEGER NOT NULL,
                        schema_version INTEGER NOT NULL
                    );
                    CREATE TABLE proxy_usage_hourly (
                        hour TEXT NOT NULL,
                        hour_us INTEGER NOT NULL,
                        component TEXT NOT NULL,
                        operation TEXT NOT NULL,
                        success INTEGER NOT NULL,
                        error_type TEXT NOT NULL DEFAULT '',
                        requests INTEGER NOT NULL,
                        request_bytes INTEGER NOT NULL,
                        response_bytes INTEGER NOT NULL,
                        estimated_bytes INTEGER NOT NULL,
                        PRIMARY KEY (hour, component, operation, success, error_type)
                    ) WITHOUT ROWID;
                    CREATE TABLE projection_checkpoints (
                        "partition" INTEGER PRIMARY KEY,
                        next_sequence INTEGER NOT NULL
                    );
                    """
            )
            for index in v1Indexes {
                try db.execute(sql: index)
            }
        }
        migrator.registerMigration("v2-rollups-by-proxied-and-key") { db in try v2(db) }
        migrator.registerMigration("v3-retention") { db in try Retention.v3(db) }
        migrator.registerMigration("v4-compact-request-logs") { db in try v4(db) }
        migrator.registerMigration("v5-application-id-and-ledger-binding") { db in try ProjectionMetadata.v5(db) }
        migrator.registerMigration("v6-vendor-usage") { db in try VendorTables.v6(db) }
        return migrator
    }

    /// Inserts one event into the `v4` table; a second insert of the same `event_id` changes
    /// nothing. Only the `event_id` conflict is ignored: CHECK and NOT NULL violations still fail
    /// the transaction. Parameters are numbered as ``RequestLogInserter`` binds them.
    static let insertLogSQL = """
        INSERT INTO proxy_request_logs (
            event_id, timestamp_us, component_id, operation_id, video_id, channel_name, job_id,
            correlation_id, success, error_type_id, estimated_bytes, duration_ms, request_bytes,
            response_bytes, http_status, bytes_measured, proxied, attempt, ledger_partition,
            ledger_sequence, schema_version)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
        ON CONFLICT (event_id) DO NOTHING
        """

    /// Adds one group's sums (each ≥ 0) to the hourly rollup. SQLite turns an integer `+` that
    /// overflows into a float, so the update is skipped instead when any stored sum plus the
    /// added one would pass Int64.max: then no row changes (`changes() == 0`) and the loader
    /// throws.
    static let upsertHourlySQL = """
        INSERT INTO proxy_usage_hourly (
            hour, hour_us, component, operation, success, error_type, proxied,
            requests, request_bytes, response_bytes, estimated_bytes)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (hour, component, operation, success, error_type, proxied) DO UPDATE SET
            requests = requests + excluded.requests,
            request_bytes = request_bytes + excluded.request_bytes,
            response_bytes = response_bytes + excluded.response_bytes,
            estimated_bytes = estimated_bytes + excluded.estimated_bytes
        WHERE requests <= 9223372036854775807 - excluded.requests
            AND request_bytes <= 9223372036854775807 - excluded.request_bytes
            AND response_bytes <= 9223372036854775807 - excluded.response_bytes
            AND estimated_bytes <= 9223372036854775807 - excluded.estimated_bytes
        """

    /// Advances a partition's checkpoint; it never moves backwards.
    static let upsertCheckpointSQL = """
        INSERT INTO projection_checkpoints ("partition", next_sequence) VALUES (?, ?)
        ON CONFLICT ("partition") DO UPDATE SET
            next_sequence = max(next_sequence, excluded.next_sequence)
        """
}
