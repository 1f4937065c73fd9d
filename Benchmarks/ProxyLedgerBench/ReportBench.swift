import Foundation
import GRDB
import Ledger
import Projections
import Reporting

/// The monthly report target (docs/benchmarks.md: a monthly report on 10 M events in under 1 s): the
/// November 2026 finance report, rendered as JSON, from the rollups (`proxy_usage_hourly`,
/// `proxy_usage_hourly_by_key`) beside the same report computed straight from
/// `proxy_request_logs` (`UsageSource.requestLogs`), on one projection database.
///
/// The database is made directly in SQLite, untimed: `BENCH_REPORT_EVENTS` (default 10,000,000)
/// rows spread evenly over the UTC month, 2 % unproxied, about 7 % failed; a job every 200
/// events, a video every 40, 200 channels. The rollups are then summed from them in SQL.
/// `BENCH_REPORT_EVENTS` rows take about a minute to make at 10 M on two cores, and the
/// `proxy_request_logs` report about 20 s more.
enum ReportBench {
    /// 2026-11-01T00:00:00Z in UTC µs.
    private static let monthStart: Int64 = 1_793_491_200_000_000
    private static let monthLength: Int64 = 30 * 86_400_000_000

    private static let card = """
        [{"provider": "webshare", "plan": "bench", "currency": "USD", "unit": "GB", "included_units": "50",
          "plan_fee": "175.00", "tiers": [{"up_to_units": "250", "unit_price": "3.50"},
          {"up_to_units": null, "unit_price": "2.50"}], "model": "graduated",
          "billing_period": {"anchor_day": 1, "time_zone": "America/New_York"},
          "effective_from": "2026-01-01T00:00:00-05:00"}]
        """

    /// Builds the database in `directory`, times both ways and prints one row each.
    ///
    /// - Throws: `DatabaseError`, `ProjectionError`, `ReportError` when a step fails.
    static func run(directory: String) throws {
        let count = Int(ProcessInfo.processInfo.environment["BENCH_REPORT_EVENTS"] ?? "") ?? 10_000_000
        let path = directory + "/report.sqlite"
        let setupStarted = ContinuousClock.now
        try makeDatabase(path: path, count: count)
        let loaded = ContinuousClock.now
        let store = try ProjectionStore(path: path)
        defer { try? store.close() }
        let rollupRows = try store.read { queries in try queries.rollupRowCount() }
        print(
            String(
                format: "report  setup (untimed): %d rows and their rollups in %.1f s, %d rollup rows",
                count, (loaded - setupStarted).seconds, rollupRows))

        let schedule = try RateCardSchedule.parse(json: Array(card.utf8))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: schedule.billingPeriod)
        func render(_ source: UsageSource) throws -> (String, Double) {
            let started = ContinuousClock.now
            let report = try ReportBuilder.build(
                store: store, request: ReportRequest(schedule: schedule, period: period, usageSource: source))
            let json = ReportRenderer.render(report, as: .json)
            return (json, (ContinuousClock.now - started).seconds)
        }
        var (fromRollups, rollupSeconds) = try render(.rollups)
        for _ in 0..<2 {
            let (json, seconds) = try render(.rollups)
            fromRollups = json
            rollupSeconds = min(rollupSeconds, seconds)
        }
        let (fromBase, baseSeconds) = try render(.requestLogs)
        let label = "report  monthly JSON, \(count / 1_000_000 > 0 ? "\(count / 1_000_000) M" : "\(count)") events"
        print(
            label.padding(toLength: 58, withPad: " ", startingAt: 0)
                + String(
                    format: " %10.3f s from rollups  %7.3f s from proxy_request_logs  %6.1f×  (target < 1 s)%@",
                    rollupSeconds, baseSeconds, baseSeconds / rollupSeconds,
                    fromRollups == fromBase ? "" : "  MISMATCH: the two reports differ"))
    }

    /// Creates the projection schema at `path`, fills `proxy_request_logs` (its `v4` layout) with
    /// `count` rows and backfills the rollups from them in SQL.
    private static func makeDatabase(path: String, count: Int) throws {
        try ProjectionStore(path: path).close()
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = OFF")
            try db.execute(sql: "PRAGMA cache_size = -262144")  // KiB: 256 MiB
        }
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        let step = monthLength / Int64(max(count, 1))
        try queue.write { db in
            try db.execute(sql: labelsSQL)
            try db.execute(sql: rowsSQL, arguments: [count, monthStart, step])
            try db.execute(sql: rollupsSQL)
            try db.execute(sql: "INSERT INTO projection_checkpoints VALUES (0, ?)", arguments: [count])
        }
    }

    /// Label ids 1–2 components, 3–6 operations, 7–10 error types.
    private static let labelsSQL = """
        INSERT INTO projection_labels (id, kind, text) VALUES
            (1, 'component', 'api-youtube-service'), (2, 'component', 'transcribe-worker'),
            (3, 'operation', 'subtitle-download'), (4, 'operation', 'channel-listing'),
            (5, 'operation', 'video-metadata'), (6, 'operation', 'batch-metadata'),
            (7, 'error_type', 'rate_limited'), (8, 'error_type', 'bot_check'),
            (9, 'error_type', 'connection_error'), (10, 'error_type', 'timeout')
        """

    private static let rowsSQL = """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1),
        e AS (SELECT i, ?2 + i * ?3 AS us, i % 5 = 0 AS api, i % 14 != 0 AS ok,
                     1000 + i % 3000 AS up, CASE WHEN i % 14 != 0 THEN 200000 + (i * 7919) % 2800000
                                                 ELSE 300 + i % 4700 END AS down
              FROM n)
        INSERT INTO proxy_request_logs (
            event_id, timestamp_us, component_id, operation_id, video_id, channel_name, job_id,
            correlation_id, success, error_type_id, estimated_bytes, duration_ms,
            request_bytes, response_bytes, http_status, bytes_measured, proxied, attempt,
            ledger_partition, ledger_sequence, schema_version)
        SELECT CAST(printf('%016d', i) AS BLOB), us, CASE WHEN api THEN 1 ELSE 2 END,
               CASE WHEN NOT api THEN 3 ELSE 4 + i / 5 % 3 END,
               CASE WHEN api AND i / 5 % 3 = 0 THEN NULL ELSE 'v' || (i / 40) END,
               CASE WHEN api AND i / 5 % 3 = 0 THEN '@channel' || (i / 15 % 200) END,
               'job-' || (i / 200), NULL, ok, CASE WHEN ok THEN NULL ELSE 7 + i % 4 END,
               up + down, 200 + i % 19800, up, down, CASE WHEN ok THEN 200 ELSE 429 END, 1,
               i % 50 != 0, 1, 0, i, 1
        FROM e
        """

    /// The rollups as the loader keeps them, from the rows (untimed).
    private static let rollupsSQL = """
        INSERT INTO proxy_usage_hourly (
            hour, hour_us, component, operation, success, error_type, proxied,
            requests, request_bytes, response_bytes, estimated_bytes)
        SELECT strftime('%Y-%m-%dT%H:00:00.000000Z', g.h / 1000000, 'unixepoch'), g.h, c.text, o.text, g.success,
               COALESCE(e.text, ''), g.proxied, g.n, g.up, g.down, g.total
        FROM (SELECT timestamp_us - timestamp_us % 3600000000 AS h, component_id, operation_id, success,
                     error_type_id, proxied, COUNT(*) AS n, COALESCE(SUM(request_bytes), 0) AS up,
                     COALESCE(SUM(response_bytes), 0) AS down, COALESCE(SUM(estimated_bytes), 0) AS total
              FROM proxy_request_logs GROUP BY 1, 2, 3, 4, 5, 6) AS g
        JOIN projection_labels AS c ON c.id = g.component_id
        JOIN projection_labels AS o ON o.id = g.operation_id
        LEFT JOIN projection_labels AS e ON e.id = g.error_type_id;
        INSERT INTO proxy_usage_hourly_by_key
        SELECT 'job', timestamp_us - timestamp_us % 3600000000, job_id, COUNT(*), COALESCE(SUM(estimated_bytes), 0)
        FROM proxy_request_logs WHERE proxied = 1 AND job_id IS NOT NULL GROUP BY 2, 3;
        INSERT INTO proxy_usage_hourly_by_key
        SELECT 'channel', timestamp_us - timestamp_us % 3600000000, channel_name, COUNT(*),
               COALESCE(SUM(estimated_bytes), 0)
        FROM proxy_request_logs WHERE proxied = 1 AND channel_name IS NOT NULL GROUP BY 2, 3;
        INSERT INTO proxy_usage_hourly_by_key
        SELECT 'video', timestamp_us - timestamp_us % 3600000000, video_id, COUNT(*), COALESCE(SUM(estimated_bytes), 0)
        FROM proxy_request_logs WHERE proxied = 1 AND video_id IS NOT NULL GROUP BY 2, 3;
        """
}
