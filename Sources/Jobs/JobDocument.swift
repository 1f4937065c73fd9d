import Ledger

/// A job as `jobs show --format json` and the HTTP API print it: encode with snake_case keys;
/// times are RFC 3339 UTC text.
public struct JobDocument: Encodable, Sendable {
    public var id: String
    public var kind: String
    public var component: String
    public var target: String
    public var state: String
    public var attempt: Int
    public var attemptsUsed: Int
    public var maxAttempts: Int
    public var dueAt: String
    public var leaseOwner: String?
    public var lastErrorType: String?
    public var lastHttpStatus: Int?
    public var result: String?
    public var createdAt: String
    public var updatedAt: String
    public var finishedAt: String?
    public var payload: JobPayload

    /// The document of `job`.
    public init(_ job: Job) {
        id = job.id
        kind = job.kind.rawValue
        component = job.component
        target = job.target
        state = job.state.rawValue
        attempt = job.attempt
        attemptsUsed = job.attemptsUsed
        maxAttempts = job.maxAttempts
        dueAt = LedgerTimestamp.rfc3339(microseconds: job.dueAt)
        leaseOwner = job.leaseOwner
        lastErrorType = job.lastErrorType
        lastHttpStatus = job.lastHTTPStatus
        result = job.result
        createdAt = LedgerTimestamp.rfc3339(microseconds: job.createdAt)
        updatedAt = LedgerTimestamp.rfc3339(microseconds: job.updatedAt)
        finishedAt = job.finishedAt.map { LedgerTimestamp.rfc3339(microseconds: $0) }
        payload = job.payload
    }
}

extension LedgerTimestamp {
    /// µs since the epoch as RFC 3339 UTC text.
    static func rfc3339(microseconds: Int64) -> String { LedgerTimestamp(microseconds: microseconds).rfc3339 }
}

/// One attempt as the CLI and the HTTP API print it: times as RFC 3339 UTC text.
public struct JobAttemptDocument: Encodable, Sendable {
    public var attempt: Int
    public var workerId: String
    public var startedAt: String
    public var endedAt: String?
    public var outcome: String
    public var errorType: String?
    public var httpStatus: Int?

    /// The document of `attempt`.
    public init(_ attempt: JobAttempt) {
        self.attempt = attempt.attempt
        workerId = attempt.workerID
        startedAt = LedgerTimestamp.rfc3339(microseconds: attempt.startedAt)
        endedAt = attempt.endedAt.map { LedgerTimestamp.rfc3339(microseconds: $0) }
        outcome = attempt.outcome.rawValue
        errorType = attempt.errorType
        httpStatus = attempt.httpStatus
    }
}
