import Foundation
import GRDB
import Ledger
import Projections

/// Where a report reads its usage from. Both give the same report, value for value.
public enum UsageSource: Sendable, Hashable {
    /// The rollups `proxy_usage_hourly` and `proxy_usage_hourly_by_key`, plus the events of the
    /// (at most a few) UTC hours that a boundary cuts. The work grows with the hours and the
    /// distinct jobs, channels and videos of the period, not with its events. The default.
    case rollups
    /// `proxy_request_logs` alone, grouping every event of the period: the reference the rollups
    /// are checked and benchmarked against. The work grows with the events.
    case requestLogs
}

/// Reads a report's usage from the projection: the hourly rollups for everything they can answer,
/// the base table `proxy_request_logs` only for the UTC hours that a boundary cuts.
///
/// Boundaries at whole UTC hours (every local midnight of a zone whose offset is a whole number
/// of hours) need no base-table read, so a monthly report reads about 720 rollup hours and the
/// per-key rows of the top lists. Zones at :30 or :45 offsets get their day boundaries from the
/// base table, hour by hour, which is exact but reads the events of ~31 hours.
enum UsageReader {
    static let hour: Int64 = 3_600_000_000

    static func hourStart(_ microseconds: Int64) -> Int64 {
        LedgerTimestamp(microseconds: microseconds).hourStart.microseconds
    }

    static func text(_ microseconds: Int64) -> String {
        LedgerTimestamp(microseconds: microseconds).rfc3339
    }

    /// Reads the snapshot for `[start, cutoff)`.
    ///
    /// - Parameters:
    ///   - boundaries: Instants no slice may straddle (day starts, price changes), any order.
    ///   - topCount: Entries per top list.
    ///   - source: The rollups (default) or the base table alone.
    /// - Throws: `DatabaseError`.
    static func read(
        _ db: Database, start: Int64, cutoff: Int64, boundaries: [Int64], topCount: Int,
        source: UsageSource = .rollups
    ) throws -> UsageSnapshot {
        var snapshot = UsageSnapshot()
        guard cutoff > start else { return snapshot }
        let cuts = Set(boundaries + [start, cutoff]).filter { $0 >= start && $0 <= cutoff }.sorted()
        let splitHours = Set(cuts.filter { $0 % hour != 0 }.map(hourStart))
        var sums: [Int64: [UsageKey: UsageSums]] = [:]

        // Whole hours: one row per (hour, class, proxied). Rows of split hours are skipped here.
        let floorHour = "(timestamp_us - ((timestamp_us % \(hour)) + \(hour)) % \(hour))"
        let groups =
            switch source {
            case .rollups:
                try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT hour_us, component, operation, success, error_type, requests, request_bytes,
                               response_bytes, estimated_bytes, proxied
                        FROM proxy_usage_hourly WHERE hour >= ? AND hour < ?
                        """,
                    arguments: [text(hourStart(start)), text(cutoff)])
            case .requestLogs:
                try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT \(floorHour), component, operation, success, COALESCE(error_type, ''), COUNT(*),
                               COALESCE(SUM(request_bytes), 0), COALESCE(SUM(response_bytes), 0),
                               COALESCE(SUM(estimated_bytes), 0), proxied
                        FROM \(ProjectionStore.requestLogView) WHERE timestamp_us >= ? AND timestamp_us < ?
                        GROUP BY 1, 2, 3, 4, 5, 10
                        """,
                    arguments: [start, cutoff])
            }
        while let row = try groups.next() {
            let hourUS: Int64 = row[0]
            guard !splitHours.contains(hourUS) else { continue }
            let proxied: Int64 = row[9]
            let group = UsageSums(requests: row[5], bytesUp: row[6], bytesDown: row[7], bytesTotal: row[8])
            if proxied == 0 {
                snapshot.unproxied += group  // not billed: counted, excluded from every figure
            } else {
                sums[hourUS, default: [:]][key(row, from: 1), default: UsageSums()] += group
            }
        }

        // Hours cut by a boundary: events from the base table, grouped by piece.
        for splitHour in splitHours.sorted() {
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT timestamp_us, component, operation, success, COALESCE(error_type, ''),
                           COALESCE(request_bytes, 0), COALESCE(response_bytes, 0), COALESCE(estimated_bytes, 0),
                           proxied
                    FROM \(ProjectionStore.requestLogView)
                    WHERE timestamp_us >= ? AND timestamp_us < ?
                    """,
                arguments: [max(splitHour, start), min(splitHour + hour, cutoff)])
            while let row = try rows.next() {
                let timestamp: Int64 = row[0]
                let proxied: Int64 = row[8]
                let value = UsageSums(requests: 1, bytesUp: row[5], bytesDown: row[6], bytesTotal: row[7])
                guard proxied != 0 else {
                    snapshot.unproxied += value
                    continue
                }
                let pieceStart = max(splitHour, cuts.last { $0 <= timestamp } ?? splitHour)
                sums[pieceStart, default: [:]][key(row, from: 1), default: UsageSums()] += value
            }
        }

        for (pieceStart, groups) in sums {
            for (key, value) in groups where value.requests != 0 || value.bytesTotal != 0 {
                snapshot.slices.append(UsageSlice(start: pieceStart, key: key, sums: value))
            }
        }
        snapshot.slices.sort { ($0.start, $0.key) < ($1.start, $1.key) }

        guard topCount > 0 else { return snapshot }
        func list(_ kind: String, _ column: String) throws -> [TopEntry] {
            switch source {
            case .rollups: try top(db, kind: kind, column: column, start: start, cutoff: cutoff, count: topCount)
            case .requestLogs: try top(db, column: column, start: start, cutoff: cutoff, count: topCount)
            }
        }
        snapshot.topJobs = try list("job", "job_id")
        snapshot.topChannels = try list("channel", "channel_name")
        snapshot.topVideos = try list("video", "video_id")
        return snapshot
    }

    /// The newest `timestamp_us` in `proxy_request_logs` (UTC µs), served by its index.
    static func lastEvent(_ db: Database) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT MAX(timestamp_us) FROM proxy_request_logs")
    }

    private static func key(_ row: Row, from index: Int) -> UsageKey {
        let success: Int64 = row[index + 2]
        return UsageKey(
            component: row[index], operation: row[index + 1], success: success != 0, errorType: row[index + 3])
    }

    /// The `count` values of `column` with the most proxied bytes; ties by value, ascending. From
    /// `proxy_usage_hourly_by_key` (`kind`) for the whole UTC hours of `[start, cutoff)` and from
    /// `proxy_request_logs` for the pieces of hours at either end, summed per value in SQL.
    private static func top(
        _ db: Database, kind: String, column: String, start: Int64, cutoff: Int64, count: Int
    ) throws -> [TopEntry] {
        let firstWhole = start % hour == 0 ? start : hourStart(start) + hour
        let endWhole = hourStart(cutoff)
        var parts: [String] = []
        var arguments: StatementArguments = []
        var pieces = [(start, cutoff)]
        if firstWhole < endWhole {
            parts.append(
                """
                SELECT name AS name, requests AS requests, estimated_bytes AS bytes FROM proxy_usage_hourly_by_key
                WHERE kind = ? AND hour_us >= ? AND hour_us < ?
                """)
            arguments += [kind, firstWhole, endWhole]
            pieces = [(start, firstWhole), (endWhole, cutoff)].filter { $0.0 < $0.1 }
        }
        for (from, to) in pieces {
            parts.append(
                """
                SELECT \(column) AS name, 1 AS requests, COALESCE(estimated_bytes, 0) AS bytes FROM proxy_request_logs
                WHERE timestamp_us >= ? AND timestamp_us < ? AND proxied = 1 AND \(column) IS NOT NULL
                """)
            arguments += [from, to]
        }
        arguments += [count]
        return try Row.fetchAll(
            db,
            sql: """
                SELECT \(ProjectionStore.identifierText("name")) AS shown, SUM(requests), SUM(bytes) AS total
                FROM (\(parts.joined(separator: " UNION ALL ")))
                GROUP BY name ORDER BY total DESC, shown ASC LIMIT ?
                """,
            arguments: arguments
        ).map { TopEntry(name: $0[0], requests: $0[1], bytesTotal: $0[2]) }
    }

    /// The `count` values of `column` with the most proxied bytes; ties by value, ascending.
    private static func top(_ db: Database, column: String, start: Int64, cutoff: Int64, count: Int) throws
        -> [TopEntry]
    {
        try Row.fetchAll(
            db,
            sql: """
                SELECT \(ProjectionStore.identifierText(column)) AS shown, COUNT(*), COALESCE(SUM(estimated_bytes), 0) AS bytes
                FROM proxy_request_logs
                WHERE timestamp_us >= ? AND timestamp_us < ? AND proxied = 1 AND \(column) IS NOT NULL
                GROUP BY \(column) ORDER BY bytes DESC, shown ASC LIMIT ?
                """,
            arguments: [start, cutoff, count]
        ).map { TopEntry(name: $0[0], requests: $0[1], bytesTotal: $0[2]) }
    }
}
