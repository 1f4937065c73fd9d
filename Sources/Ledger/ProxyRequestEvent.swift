public import Foundation

/// One proxied operation, as recorded in the ledger (event schema v1, `docs/events.md`).
///
/// Field names follow the original design's `proxy_request_logs` columns. Byte counts are bytes on the wire to
/// (`requestBytes`) and from (`responseBytes`) the gateway. Times are UTC microseconds since the Unix
/// epoch. Fields this schema version does not know are kept in ``extra`` and written back on export.
public struct ProxyRequestEvent: Sendable, Hashable {
    /// The idempotency key: the same id appended twice is stored once.
    public var eventID: UUID
    /// When the operation started, UTC microseconds since 1970-01-01T00:00:00Z.
    public var timestamp: LedgerTimestamp
    /// The producing component, at most 50 characters (`transcribe-worker`, `api-youtube-service`).
    public var component: String
    /// The operation, at most 50 characters (`subtitle-download`, `channel-listing`, `video-metadata`,
    /// `batch-metadata`, `connectivity-check`).
    public var operation: String
    public var videoID: String?
    public var channelName: String?
    public var jobID: String?
    public var correlationID: String?
    public var success: Bool
    /// The failure class, `nil` on success.
    public var errorType: ProxyErrorType?
    /// The last upstream HTTP status seen, if any.
    public var httpStatus: Int?
    /// Bytes sent to the gateway, or `nil` when unknown.
    public var requestBytes: Int64?
    /// Bytes received from the gateway, or `nil` when unknown.
    public var responseBytes: Int64?
    /// The original design's column: the measured total when ``bytesMeasured``, else an estimate (bytes).
    public var estimatedBytes: Int64?
    /// `true` when ``requestBytes`` and ``responseBytes`` were counted on the wire.
    public var bytesMeasured: Bool
    /// Wall-clock duration of the operation in milliseconds.
    public var durationMS: Int64
    /// `false` when the proxy was off for this operation (nothing billed).
    public var proxied: Bool
    /// The job's attempt number, starting at 1.
    public var attempt: Int
    /// Fields unknown to schema v1, kept verbatim as JSON values.
    public var extra: [String: JSONValue]

    public init(
        eventID: UUID = UUID(),
        timestamp: LedgerTimestamp,
        component: String,
        operation: String,
        videoID: String? = nil,
        channelName: String? = nil,
        jobID: String? = nil,
        correlationID: String? = nil,
        success: Bool,
        errorType: ProxyErrorType? = nil,
        httpStatus: Int? = nil,
        requestBytes: Int64? = nil,
        responseBytes: Int64? = nil,
        estimatedBytes: Int64? = nil,
        bytesMeasured: Bool = false,
        durationMS: Int64,
        proxied: Bool,
        attempt: Int = 1,
        extra: [String: JSONValue] = [:]
    ) {
        self.eventID = eventID
        self.timestamp = timestamp
        self.component = component
        self.operation = operation
        self.videoID = videoID
        self.channelName = channelName
        self.jobID = jobID
        self.correlationID = correlationID
        self.success = success
        self.errorType = errorType
        self.httpStatus = httpStatus
        self.requestBytes = requestBytes
        self.responseBytes = responseBytes
        self.estimatedBytes = estimatedBytes
        self.bytesMeasured = bytesMeasured
        self.durationMS = durationMS
        self.proxied = proxied
        self.attempt = attempt
        self.extra = extra
    }
}

/// The schema's `error_type` values (`docs/events.md`).
public enum ProxyErrorType: String, Sendable, Hashable, CaseIterable, Codable {
    case rateLimited = "rate_limited"
    case botCheck = "bot_check"
    case authFailure = "auth_failure"
    case connectionError = "connection_error"
    case timeout
    case gatewayThrottled = "gateway_throttled"
    case bandwidthExhausted = "bandwidth_exhausted"
    case notFound = "not_found"
    case httpError = "http_error"
    case unknown
    /// The worker was stopped (SIGTERM, cancellation) while the operation ran; the bytes it had
    /// moved by then are still recorded. A job queue gives the attempt back (`release`) rather
    /// than charging it.
    case interrupted
    /// A rule of the metering listener refused the request locally: nothing reached the gateway
    /// and nothing was billed (the event's `rule` names the rule).
    case blockedByRule = "blocked_by_rule"
}

/// The ledger position of an event: its partition and its sequence number within the partition.
///
/// Sequences start at 0 in every partition and are continuous.
public struct LedgerPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var partition: Int
    public var sequence: UInt64

    public init(partition: Int, sequence: UInt64) {
        self.partition = partition
        self.sequence = sequence
    }

    public static func < (lhs: LedgerPosition, rhs: LedgerPosition) -> Bool {
        (lhs.partition, lhs.sequence) < (rhs.partition, rhs.sequence)
    }

    public var description: String { "\(partition):\(sequence)" }
}

/// An event as stored: the envelope gives the schema version and the ledger position.
public struct LedgerRecord: Sendable, Hashable {
    /// The event schema version the event was written with (currently 1).
    public var schemaVersion: Int
    public var position: LedgerPosition
    public var event: ProxyRequestEvent

    public init(schemaVersion: Int, position: LedgerPosition, event: ProxyRequestEvent) {
        self.schemaVersion = schemaVersion
        self.position = position
        self.event = event
    }
}

/// Something events can be appended to: the ledger writer, or an in-memory sink in tests.
public protocol EventAppending: Sendable {
    /// Appends `events` as one all-or-nothing batch and returns one acknowledgement per event,
    /// in order, once the batch is durable under the sink's policy.
    func append(_ events: [ProxyRequestEvent]) async throws -> [AppendAcknowledgement]
}

/// The acknowledgement of one appended event.
public struct AppendAcknowledgement: Sendable, Hashable {
    public var eventID: UUID
    /// Where the event is stored. For a duplicate this is the original position.
    public var position: LedgerPosition
    /// `true` when the event id was already in the ledger and nothing new was stored.
    public var duplicate: Bool

    public init(eventID: UUID, position: LedgerPosition, duplicate: Bool) {
        self.eventID = eventID
        self.position = position
        self.duplicate = duplicate
    }
}
