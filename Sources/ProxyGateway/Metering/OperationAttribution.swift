public import Ledger

/// Who caused the traffic of one lease: the job, component, operation and subject that the
/// metering proxy attributes its bytes to.
///
/// The fields mirror the ledger's event schema v1 (`docs/events.md`), so
/// ``MeteredUsage/makeEvent(for:timestamp:success:)`` can fill a `ProxyRequestEvent` from them.
public struct OperationAttribution: Sendable, Hashable {
    /// The producing component, e.g. `transcribe-worker` (at most 50 characters in the ledger).
    public var component: String
    /// The operation, e.g. `subtitle-download`, `channel-listing` (at most 50 characters).
    public var operation: String
    /// The job that caused the traffic, if any.
    public var jobID: String?
    /// The YouTube video id, for per-video operations.
    public var videoID: String?
    /// The channel name, for channel operations.
    public var channelName: String?
    /// A correlation id that ties this operation to others, if any.
    public var correlationID: String?
    /// The job's attempt number, starting at 1.
    public var attempt: Int

    /// Creates an attribution.
    ///
    /// - Parameters:
    ///   - component: The component, e.g. `ProxyComponent.transcribe.rawValue`.
    ///   - operation: The operation name.
    ///   - jobID: The job id.
    ///   - videoID: The video id.
    ///   - channelName: The channel name.
    ///   - correlationID: The correlation id.
    ///   - attempt: The attempt number, `>= 1` (smaller values are stored as 1).
    public init(
        component: String, operation: String, jobID: String? = nil, videoID: String? = nil,
        channelName: String? = nil, correlationID: String? = nil, attempt: Int = 1
    ) {
        self.component = component
        self.operation = operation
        self.jobID = jobID
        self.videoID = videoID
        self.channelName = channelName
        self.correlationID = correlationID
        self.attempt = max(1, attempt)
    }
}

extension OperationAttribution {
    /// The event of an operation attributed to this value: its component, operation, job,
    /// video, channel, correlation id and attempt, with a fresh `event_id`, and no bytes yet
    /// (``MeteredUsage/apply(to:)`` adds the metered ones).
    ///
    /// - Parameters:
    ///   - timestamp: When the operation started (UTC µs).
    ///   - durationMS: How long it took, milliseconds (negative values are stored as 0).
    ///   - success: Whether it succeeded.
    ///   - proxied: Whether it went through the gateway.
    public func event(timestamp: LedgerTimestamp, durationMS: Int64, success: Bool, proxied: Bool) -> ProxyRequestEvent {
        ProxyRequestEvent(
            timestamp: timestamp, component: component, operation: operation, videoID: videoID,
            channelName: channelName, jobID: jobID, correlationID: correlationID, success: success,
            durationMS: max(0, durationMS), proxied: proxied, attempt: attempt)
    }
}
