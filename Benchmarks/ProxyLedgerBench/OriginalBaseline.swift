import Foundation
import GRDB
import Ledger

/// The original design's way of recording: one SQLite INSERT and commit per request into an indexed
/// `proxy_request_logs` table with `synchronous=FULL` — the baseline every ratio is measured against.
///
/// `wal: false` is the original design as it ran (SQLite's default rollback journal, as Python's sqlite3 uses);
/// `wal: true` is a kinder variant of it, printed beside it.
enum OriginalBaseline {
    static func eventsPerSecond(_ events: ArraySlice<ProxyRequestEvent>, directory: String, wal: Bool) throws -> Double {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let path = directory + (wal ? "/original-wal.sqlite" : "/original.sqlite")
        let queue: any DatabaseWriter =
            wal ? try DatabasePool(path: path, configuration: configuration) : try DatabaseQueue(path: path, configuration: configuration)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE proxy_request_logs (
                    id INTEGER PRIMARY KEY, timestamp TEXT NOT NULL, component TEXT NOT NULL, operation TEXT NOT NULL,
                    video_id TEXT, channel_name TEXT, job_id TEXT, correlation_id TEXT, success INTEGER NOT NULL,
                    error_type TEXT, estimated_bytes INTEGER, duration_ms INTEGER, created_at TEXT NOT NULL);
                CREATE INDEX idx_ts ON proxy_request_logs(timestamp);
                CREATE INDEX idx_component ON proxy_request_logs(component);
                CREATE INDEX idx_component_ts ON proxy_request_logs(component, timestamp);
                """)
        }
        let started = ContinuousClock.now
        for event in events {
            try queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO proxy_request_logs (timestamp, component, operation, video_id, channel_name, job_id,
                        correlation_id, success, error_type, estimated_bytes, duration_ms, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        event.timestamp.rfc3339, event.component, event.operation, event.videoID, event.channelName,
                        event.jobID, event.correlationID, event.success, event.errorType?.rawValue,
                        event.estimatedBytes, event.durationMS, event.timestamp.rfc3339,
                    ])
            }
        }
        return Double(events.count) / (ContinuousClock.now - started).seconds
    }
}

extension Duration {
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
