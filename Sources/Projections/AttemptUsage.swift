import GRDB
public import Ledger

/// What the events of one job attempt add up to in `proxy_request_logs`.
public struct AttemptUsage: Sendable, Hashable {
    /// The attempt number (the events' `attempt`).
    public var attempt: Int
    /// Events of the attempt (one per operation; an attempt has one).
    public var events: Int
    /// Bytes sent to the gateway, summed; NULL counts add 0.
    public var requestBytes: Int64
    /// Bytes received from the gateway, summed; NULL counts add 0.
    public var responseBytes: Int64
    /// `estimated_bytes` summed (the original design's estimate, or the metered total).
    public var estimatedBytes: Int64
    /// The `error_type` of the attempt's failed event, if any.
    public var errorType: String?
    /// When the attempt's first event happened.
    public var firstTimestamp: LedgerTimestamp
}

extension ProjectionStore {
    /// The usage of each attempt of job `jobID`, by attempt number.
    ///
    /// Scans `proxy_request_logs` for the job's rows (there is no index on `job_id`: this serves
    /// `jobs show`, one job at a time). Attempts whose events are not projected yet are missing.
    /// - Throws: ``ProjectionError`` `.readFailed`.
    public func attemptUsage(jobID: String) throws -> [Int: AttemptUsage] {
        try ProjectionError.wrapping(.readFailed, "reading the usage of job \(jobID) failed") {
            try databasePool.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT attempt, COUNT(*), COALESCE(SUM(request_bytes), 0), COALESCE(SUM(response_bytes), 0),
                               COALESCE(SUM(estimated_bytes), 0), MAX(error_type), MIN(timestamp_us)
                        FROM \(ProjectionSchema.readableView) WHERE job_id = ? GROUP BY attempt
                        """,
                    arguments: [jobID])
                var usage: [Int: AttemptUsage] = [:]
                for row in rows {
                    let attempt: Int = row[0]
                    usage[attempt] = AttemptUsage(
                        attempt: attempt, events: row[1], requestBytes: row[2], responseBytes: row[3], estimatedBytes: row[4],
                        errorType: row[5], firstTimestamp: LedgerTimestamp(microseconds: row[6]))
                }
                return usage
            }
        }
    }
}
