import Foundation
import GRDB

extension ProjectionSchema {
    /// The readable view of `proxy_request_logs` (since `v4`): the columns of the `v1` table, in
    /// its order, with text labels, lower-case UUID text and RFC 3339 timestamps.
    static let readableView = "proxy_request_logs_readable"

    /// The index of `proxy_request_logs` on `timestamp_us` (since `v4`), dropped during a
    /// rebuild's bulk load.
    static let timestampIndex = (
        name: "proxy_request_logs_timestamp_us",
        sql: "CREATE INDEX proxy_request_logs_timestamp_us ON proxy_request_logs(timestamp_us)"
    )

    /// The `v4` layout of `proxy_request_logs`: labels as `projection_labels` ids, `event_id` as
    /// its 16 bytes, time only as UTC µs (`timestamp` and `created_at` are in the view).
    private static let compactTable = """
        CREATE TABLE proxy_request_logs_v4 (
            id INTEGER PRIMARY KEY,
            event_id BLOB NOT NULL UNIQUE,
            timestamp_us INTEGER NOT NULL,
            component_id INTEGER NOT NULL,
            operation_id INTEGER NOT NULL,
            video_id TEXT,
            channel_name TEXT,
            job_id TEXT,
            correlation_id TEXT,
            success INTEGER NOT NULL CHECK (success IN (0, 1)),
            error_type_id INTEGER,
            estimated_bytes INTEGER CHECK (estimated_bytes >= 0),
            duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
            request_bytes INTEGER CHECK (request_bytes >= 0),
            response_bytes INTEGER CHECK (response_bytes >= 0),
            http_status INTEGER,
            bytes_measured INTEGER NOT NULL CHECK (bytes_measured IN (0, 1)),
            proxied INTEGER NOT NULL CHECK (proxied IN (0, 1)),
            attempt INTEGER NOT NULL CHECK (attempt >= 1),
            ledger_partition INTEGER NOT NULL,
            ledger_sequence INTEGER NOT NULL,
            schema_version INTEGER NOT NULL
        )
        """

    /// `timestamp_us` as RFC 3339 UTC with six fraction digits (floor division, also before 1970).
    private static let timestampText = """
        strftime('%Y-%m-%dT%H:%M:%S', (l.timestamp_us - ((l.timestamp_us % 1000000) + 1000000) % 1000000) / 1000000,
                 'unixepoch') || printf('.%06dZ', ((l.timestamp_us % 1000000) + 1000000) % 1000000)
        """

    /// `event_id`'s 16 bytes as the lower-case `8-4-4-4-12` text.
    private static let eventIDText = uuidText("l.event_id")

    /// The SQL text of 16 UUID bytes `expression` as lower-case `8-4-4-4-12` text.
    static func uuidText(_ expression: String) -> String {
        let hex = "lower(hex(\(expression)))"
        return "substr(\(hex), 1, 8) || '-' || substr(\(hex), 9, 4) || '-' || substr(\(hex), 13, 4) || '-' "
            + "|| substr(\(hex), 17, 4) || '-' || substr(\(hex), 21)"
    }

    /// SQL giving the text of a stored `job_id`, `correlation_id` or per-key rollup name
    /// `expression`: a 16-byte BLOB (a UUID, ``TextEncoding/storedIdentifier(_:)``) as its
    /// lower-case text, anything else unchanged.
    static func identifierText(_ expression: String) -> String {
        "(CASE WHEN typeof(\(expression)) = 'blob' THEN \(uuidText(expression)) ELSE \(expression) END)"
    }

    /// The label text of the id in `column` (correlated, so `proxy_request_logs` drives any query).
    private static func label(_ column: String) -> String {
        "(SELECT text FROM projection_labels WHERE id = l.\(column))"
    }

    private static var viewSQL: String {
        """
        CREATE VIEW \(readableView) AS
        SELECT l.id AS id, \(eventIDText) AS event_id, \(timestampText) AS timestamp, l.timestamp_us AS timestamp_us,
               \(label("component_id")) AS component, \(label("operation_id")) AS operation, l.video_id AS video_id,
               l.channel_name AS channel_name, \(identifierText("l.job_id")) AS job_id,
               \(identifierText("l.correlation_id")) AS correlation_id,
               l.success AS success, \(label("error_type_id")) AS error_type, l.estimated_bytes AS estimated_bytes,
               l.duration_ms AS duration_ms, \(timestampText) AS created_at, l.request_bytes AS request_bytes,
               l.response_bytes AS response_bytes, l.http_status AS http_status, l.bytes_measured AS bytes_measured,
               l.proxied AS proxied, l.attempt AS attempt, l.ledger_partition AS ledger_partition,
               l.ledger_sequence AS ledger_sequence, l.schema_version AS schema_version
        FROM proxy_request_logs AS l
        """
    }

    /// Migration `v4`: `proxy_request_logs` in about a third of the bytes.
    ///
    /// - `projection_labels(id, kind, text)`: every component, operation and error type once
    ///   (`kind` `component`, `operation` or `error_type`), numbered in order of first use.
    /// - `proxy_request_logs` is recreated with `event_id` as a 16-byte BLOB, `component_id`,
    ///   `operation_id` and `error_type_id` (NULL for none) as label ids, and without the
    ///   `timestamp` and `created_at` text (the instant is `timestamp_us`). Row ids are kept.
    ///   `job_id` and `correlation_id` that are canonical lower-case UUIDs are stored as their 16
    ///   bytes (other text stays text), and so are the job names of `proxy_usage_hourly_by_key`.
    /// - One secondary index, on `timestamp_us`, replaces the three on text.
    /// - The view ``readableView`` shows the rows as the `v1` table did.
    ///
    /// The rollups do not change.
    ///
    /// - Throws: `DatabaseError`; a stored `event_id` that is not a UUID fails the migration
    ///   (NOT NULL), the database is then left as it was.
    static func v4(_ db: Database) throws {
        db.add(function: uuidBlob)
        db.add(function: identifier)
        defer {
            db.remove(function: uuidBlob)
            db.remove(function: identifier)
        }
        try db.execute(
            sql: """
                CREATE TABLE projection_labels (
                    id INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('component', 'operation', 'error_type')),
                    text TEXT NOT NULL,
                    UNIQUE (kind, text)
                );
                INSERT INTO projection_labels (kind, text)
                SELECT kind, text FROM (
                    SELECT 'component' AS kind, component AS text, MIN(id) * 3 AS first FROM proxy_request_logs
                    GROUP BY component
                    UNION ALL
                    SELECT 'operation', operation, MIN(id) * 3 + 1 FROM proxy_request_logs GROUP BY operation
                    UNION ALL
                    SELECT 'error_type', error_type, MIN(id) * 3 + 2 FROM proxy_request_logs
                    WHERE error_type IS NOT NULL GROUP BY error_type)
                ORDER BY first;
                \(compactTable);
                INSERT INTO proxy_request_logs_v4
                SELECT id, proxy_ledger_uuid_blob(event_id), timestamp_us,
                       (SELECT id FROM projection_labels WHERE kind = 'component' AND text = component),
                       (SELECT id FROM projection_labels WHERE kind = 'operation' AND text = operation),
                       video_id, channel_name, proxy_ledger_identifier(job_id), proxy_ledger_identifier(correlation_id),
                       success,
                       (SELECT id FROM projection_labels WHERE kind = 'error_type' AND text = error_type),
                       estimated_bytes, duration_ms, request_bytes, response_bytes, http_status, bytes_measured,
                       proxied, attempt, ledger_partition, ledger_sequence, schema_version
                FROM proxy_request_logs ORDER BY id;
                DROP TABLE proxy_request_logs;
                ALTER TABLE proxy_request_logs_v4 RENAME TO proxy_request_logs;
                \(timestampIndex.sql);
                \(viewSQL);
                UPDATE proxy_usage_hourly_by_key SET name = proxy_ledger_identifier(name) WHERE kind = 'job';
                """)
    }

    /// `proxy_ledger_identifier(text)`: ``TextEncoding/storedIdentifier(_:)`` (NULL stays NULL).
    private static let identifier = DatabaseFunction("proxy_ledger_identifier", argumentCount: 1, pure: true) { values in
        String.fromDatabaseValue(values[0]).map(TextEncoding.storedIdentifier)
    }

    /// `proxy_ledger_uuid_blob(text)`: the 16 bytes of a UUID's text, or NULL when it is not one.
    private static let uuidBlob = DatabaseFunction("proxy_ledger_uuid_blob", argumentCount: 1, pure: true) { values in
        guard let text = String.fromDatabaseValue(values[0]), let uuid = UUID(uuidString: text) else { return nil }
        return withUnsafeBytes(of: uuid.uuid) { Data($0) }
    }
}
