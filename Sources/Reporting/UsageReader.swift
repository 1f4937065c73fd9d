import Foundation
import GRDB
import Ledger

/// Reads a report's usage from the projection: the hourly rollup for everything it can answer,
/// the base table `proxy_request_logs` only for the UTC hours that a boundary cuts, for
/// non-proxied requests, and for the top-10 lists.
///
/// Boundaries at whole UTC hours (every local midnight of a zone whose offset is a whole number
/// of hours) need no base-table read, so a monthly report reads about 720 rollup hours. Zones at
/// :30 or :45 offsets get their day boundaries from the base table, hour by hour, which is exact
/// but reads the events of ~31 hours.
enum UsageReader {
    static let hour: Int64 = 3_600_000_000

    static func hourStart(_ microseconds: Int64) -> Int64 {
        let remainder = microseconds % hour
        return microseconds - (remainder < 0 ? remainder + hour : remainder)
    }

    static func text(_ microseconds: Int64) -> String {
        LedgerTimestamp(microseconds: microseconds).rfc3339
    }

    /// Reads the snapshot for `[start, cutoff)`.
    ///
    /// - Parameters:
    ///   - boundaries: Instants no slice may straddle (day starts, price changes), any order.
    ///   - topCount: Entries per top list.
    /// - Throws: `DatabaseError`.
    static func read(
        _ db: Database, start: Int64, cutoff: Int64, boundaries: [Int64], topCount: Int
    ) throws -> UsageSnapshot {
        var snapshot = UsageSnapshot()
        guard cutoff > start else { return snapshot }
        let cuts = Set(boundaries + [start, cutoff]).filter { $0 >= start && $0 <= cutoff }.sorted()
        let splitHours = Set(cuts.filter { $0 % hour != 0 }.map(hourStart))
        var sums: [Int64: [UsageKey: UsageSums]] = [:]

        // A rollup keyed by `proxied` (proposed Projections change) answers everything itself;
        // the current one mixes non-proxied requests in, which are then subtracted.
        let rollupHasProxied = try db.columns(in: "proxy_usage_hourly").contains { $0.name == "proxied" }
        let rollup = try Row.fetchCursor(
            db,
            sql: """
                SELECT hour_us, component, operation, success, error_type, requests, request_bytes,
                       response_bytes, estimated_bytes, \(rollupHasProxied ? "proxied" : "1")
                FROM proxy_usage_hourly WHERE hour >= ? AND hour < ?
                """,
            arguments: [text(hourStart(start)), text(cutoff)])
        while let row = try rollup.next() {
            let hourUS: Int64 = row[0]
            let proxied: Int64 = row[9]
            let group = UsageSums(requests: row[5], bytesUp: row[6], bytesDown: row[7], bytesTotal: row[8])
            if proxied == 0 {
                // Only whole hours here; split hours are counted below from the base table.
                if !splitHours.contains(hourUS) { snapshot.unproxied += group }
                continue
            }
            guard !splitHours.contains(hourUS) else { continue }
            sums[hourUS, default: [:]][key(row, from: 1), default: UsageSums()] += group
        }

        // Non-proxied requests are not billed: count them, and subtract them from the rollup.
        if !rollupHasProxied {
            let unproxied = try Row.fetchCursor(
                db,
                sql: """
                    SELECT timestamp_us - (timestamp_us % \(hour)), component, operation, success,
                           COALESCE(error_type, ''), COUNT(*), COALESCE(SUM(request_bytes), 0),
                           COALESCE(SUM(response_bytes), 0), COALESCE(SUM(estimated_bytes), 0)
                    FROM proxy_request_logs
                    WHERE timestamp >= ? AND timestamp < ? AND proxied = 0
                    GROUP BY 1, 2, 3, 4, 5
                    """,
                arguments: [text(start), text(cutoff)])
            while let row = try unproxied.next() {
                let hourUS: Int64 = row[0]
                let group = UsageSums(requests: row[5], bytesUp: row[6], bytesDown: row[7], bytesTotal: row[8])
                snapshot.unproxied += group
                guard !splitHours.contains(hourUS) else { continue }
                sums[hourUS, default: [:]][key(row, from: 1), default: UsageSums()] += UsageSums() - group
            }
        }

        // Hours cut by a boundary: proxied events from the base table, grouped by piece.
        for splitHour in splitHours.sorted() {
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT timestamp_us, component, operation, success, COALESCE(error_type, ''),
                           COALESCE(request_bytes, 0), COALESCE(response_bytes, 0), COALESCE(estimated_bytes, 0),
                           proxied
                    FROM proxy_request_logs
                    WHERE timestamp >= ? AND timestamp < ?
                    """,
                arguments: [text(max(splitHour, start)), text(min(splitHour + hour, cutoff))])
            while let row = try rows.next() {
                let timestamp: Int64 = row[0]
                let proxied: Int64 = row[8]
                let value = UsageSums(requests: 1, bytesUp: row[5], bytesDown: row[6], bytesTotal: row[7])
                guard proxied != 0 else {
                    // Counted by the unproxied query above unless the rollup is keyed by `proxied`.
                    if rollupHasProxied { snapshot.unproxied += value }
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
        snapshot.topJobs = try top(db, column: "job_id", start: start, cutoff: cutoff, count: topCount)
        snapshot.topChannels = try top(db, column: "channel_name", start: start, cutoff: cutoff, count: topCount)
        snapshot.topVideos = try top(db, column: "video_id", start: start, cutoff: cutoff, count: topCount)
        return snapshot
    }

    /// The newest `timestamp` in `proxy_request_logs` (UTC µs), served by its index.
    static func lastEvent(_ db: Database) throws -> Int64? {
        try String.fetchOne(db, sql: "SELECT MAX(timestamp) FROM proxy_request_logs")
            .flatMap { LedgerTimestamp(rfc3339: $0)?.microseconds }
    }

    private static func key(_ row: Row, from index: Int) -> UsageKey {
        let success: Int64 = row[index + 2]
        return UsageKey(
            component: row[index], operation: row[index + 1], success: success != 0, errorType: row[index + 3])
    }

    /// The `count` values of `column` with the most proxied bytes; ties by value, ascending.
    private static func top(_ db: Database, column: String, start: Int64, cutoff: Int64, count: Int) throws
        -> [TopEntry]
    {
        try Row.fetchAll(
            db,
            sql: """
                SELECT \(column), COUNT(*), COALESCE(SUM(estimated_bytes), 0) AS bytes
                FROM proxy_request_logs
                WHERE timestamp >= ? AND timestamp < ? AND proxied = 1 AND \(column) IS NOT NULL
                GROUP BY \(column) ORDER BY bytes DESC, \(column) ASC LIMIT ?
                """,
            arguments: [text(start), text(cutoff), count]
        ).map { TopEntry(name: $0[0], requests: $0[1], bytesTotal: $0[2]) }
    }
}
