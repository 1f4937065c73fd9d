import Foundation
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
    static let hour = LedgerTimestamp.microsecondsPerHour

    static func hourStart(_ microseconds: Int64) -> Int64 {
        LedgerTimestamp(microseconds: microseconds).hourStart.microseconds
    }

    /// Reads the snapshot for `[start, cutoff)`.
    ///
    /// - Parameters:
    ///   - boundaries: Instants no slice may straddle (day starts, price changes), any order.
    ///   - topCount: Entries per top list.
    ///   - source: The rollups (default) or the base table alone.
    /// - Throws: `ProjectionError` or `DatabaseError` from the queries.
    static func read(
        _ queries: ProjectionQueries, start: Int64, cutoff: Int64, boundaries: [Int64], topCount: Int,
        source: UsageSource = .rollups
    ) throws -> UsageSnapshot {
        var snapshot = UsageSnapshot()
        guard cutoff > start else { return snapshot }
        let cuts = Set(boundaries + [start, cutoff]).filter { $0 >= start && $0 <= cutoff }.sorted()
        let splitHours = Set(cuts.filter { $0 % hour != 0 }.map(hourStart))
        var sums: [Int64: [UsageKey: UsageSums]] = [:]
        func add(_ group: ProjectionQueries.UsageGroup, at pieceStart: Int64) {
            let value = UsageSums(
                requests: group.requests, bytesUp: group.requestBytes, bytesDown: group.responseBytes,
                bytesTotal: group.estimatedBytes)
            guard group.proxied else {
                snapshot.unproxied += value  // not billed: counted, excluded from every figure
                return
            }
            let key = UsageKey(
                component: group.component, operation: group.operation, success: group.success,
                errorType: group.errorType)
            sums[pieceStart, default: [:]][key, default: UsageSums()] += value
        }

        // Whole hours: one group per (hour, class, proxied). Groups of split hours are skipped here.
        try queries.hourlyUsage(from: hourStart(start), to: cutoff, fromRollups: source == .rollups) { group in
            if !splitHours.contains(group.start) { add(group, at: group.start) }
        }
        // Hours cut by a boundary: events from the base table, grouped by piece.
        for splitHour in splitHours.sorted() {
            try queries.eventUsage(from: max(splitHour, start), to: min(splitHour + hour, cutoff)) { event in
                add(event, at: max(splitHour, cuts.last { $0 <= event.start } ?? splitHour))
            }
        }

        for (pieceStart, groups) in sums {
            for (key, value) in groups where value.requests != 0 || value.bytesTotal != 0 {
                snapshot.slices.append(UsageSlice(start: pieceStart, key: key, sums: value))
            }
        }
        snapshot.slices.sort { ($0.start, $0.key) < ($1.start, $1.key) }

        guard topCount > 0 else { return snapshot }
        func list(_ kind: UsageKeyKind) throws -> [TopEntry] {
            try queries.topKeys(kind, from: start, to: cutoff, count: topCount, fromRollups: source == .rollups).map {
                TopEntry(
                    name: $0.name, requests: $0.requests, bytesTotal: $0.estimatedBytes,
                    subject: kind == .job ? try subject(queries.subject(ofJob: $0.name, inHour: $0.firstHour)) : nil)
            }
        }
        snapshot.topJobs = try list(.job)
        snapshot.topChannels = try list(.channel)
        snapshot.topVideos = try list(.video)
        return snapshot
    }

    /// `video ID` or else `channel NAME`.
    private static func subject(_ subject: ProjectionQueries.JobSubject?) -> String? {
        if let video = subject?.videoID { return "video \(video)" }
        return subject?.channelName.map { "channel \($0)" }
    }
}
