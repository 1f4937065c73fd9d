public import Ledger

/// One client connection through the metering proxy: a `CONNECT` tunnel or one plain request,
/// with the bytes exchanged with the gateway.
public struct MeteredExchange: Sendable, Hashable {
    /// `true` for a `CONNECT` tunnel, `false` for a plain absolute-form request.
    public var isTunnel: Bool
    /// The request method, e.g. `CONNECT` or `GET`.
    public var method: String
    /// The target host (no port, no userinfo), e.g. `www.youtube.com`.
    public var targetHost: String
    /// Bytes written to the gateway connection (request head, body, tunnelled client bytes), in bytes.
    public var requestBytes: Int64
    /// Bytes read from the gateway connection (reply head, body, tunnelled server bytes), in bytes.
    public var responseBytes: Int64
    /// The status of the gateway's reply (the CONNECT reply, or the response), `nil` when none arrived.
    public var status: Int?
    /// The gateway failure class, `nil` when the exchange did not fail at the gateway.
    public var errorType: ProxyErrorType?
    /// The `X-Webshare-Error-Reason` value, if any.
    public var errorReason: String?
    /// The reply's `Retry-After` delay (gateway or origin reply), if any.
    public var retryAfter: Duration? = nil
    /// `true` when the exchange was closed by ``MeteringProxy/shutdown(grace:)`` or
    /// ``MeteringLease/finish(grace:)`` before either side ended it.
    public var cutShort: Bool
    /// `true` when the exchange is still open (only in a snapshot taken before it ended).
    public var isOpen: Bool
    /// The name of the `block` rule that refused the request locally (`403`), `nil` otherwise.
    public var rule: String? = nil
}

/// What a gateway failure looked like: its class, raw status and reason.
public struct GatewayFailure: Sendable, Hashable {
    /// The class written to the event's `error_type`.
    public var errorType: ProxyErrorType
    /// The raw status of the gateway's reply, `nil` for a refused or reset connection.
    public var status: Int?
    /// The `X-Webshare-Error-Reason` value, if any.
    public var reason: String?
    /// For `blocked_by_rule`: the rule that refused the request (the proxy's own `403`).
    public var rule: String? = nil
}

/// The bytes and outcome of every exchange of one lease, counted on the connection to the gateway.
///
/// Counts are TCP payload bytes written to and read from the gateway socket: the `CONNECT`
/// request and reply, all tunnelled TLS bytes, request and response heads and bodies. Bytes the
/// proxy answers locally (a 407 for an unknown token, a 502 when the gateway is unreachable) are
/// not billed and not counted.
public struct MeteredUsage: Sendable, Hashable {
    /// The sum of the exchanges' request bytes (to the gateway), in bytes.
    public var requestBytes: Int64 = 0
    /// The sum of the exchanges' response bytes (from the gateway), in bytes.
    public var responseBytes: Int64 = 0
    /// Every exchange, in the order they started.
    public var exchanges: [MeteredExchange] = []
    /// Connections answered locally with 407 after the gateway had rejected the credentials for
    /// this lease: they were not forwarded, so the same credentials are not retried in a loop.
    public var suppressedAfterAuthFailure: Int = 0
    /// Milliseconds from ``MeteringProxy/register(_:)`` to the end of the lease.
    public var durationMS: Int64 = 0

    /// `requestBytes + responseBytes`, in bytes.
    public var totalBytes: Int64 { requestBytes + responseBytes }

    /// The last status the gateway sent on any exchange (for the event's `http_status`).
    public var lastStatus: Int? { exchanges.last(where: { $0.status != nil })?.status }

    /// The number of exchanges that were cut short.
    public var cutShortCount: Int { exchanges.count(where: \.cutShort) }

    /// The most recent gateway failure, or `nil` when every exchange passed the gateway.
    public var gatewayFailure: GatewayFailure? {
        guard let failed = exchanges.last(where: { $0.errorType != nil }), let type = failed.errorType else {
            return nil
        }
        return GatewayFailure(errorType: type, status: failed.status, reason: failed.errorReason, rule: failed.rule)
    }

    /// The longest `Retry-After` of the exchanges answered 429 or 503 (by the gateway, or by the
    /// origin on a plain request), `nil` when none asked for a wait. A retry should wait at least
    /// this long.
    public var retryAfter: Duration? {
        exchanges.filter { $0.status == 429 || $0.status == 503 }.compactMap(\.retryAfter).max()
    }

    /// Creates an empty usage.
    public init() {}

    /// Extra event fields describing the gateway's side (all keys are snake_case):
    /// `gateway_status` (int) and `gateway_error_reason` (string) of ``gatewayFailure`` when present,
    /// `gateway_exchanges` (int), `gateway_tunnels` (int), and `gateway_cut_short` and
    /// `gateway_suppressed_after_auth_failure` (ints) when non-zero; `rule` (string) when a
    /// `block` rule refused a request.
    public var extraFields: [String: JSONValue] {
        var extra: [String: JSONValue] = [
            "gateway_exchanges": .integer(Int64(exchanges.count)),
            "gateway_tunnels": .integer(Int64(exchanges.count(where: \.isTunnel))),
        ]
        if let failure = gatewayFailure, failure.rule == nil {  // a rule's 403 is the proxy's, not the gateway's
            if let status = failure.status { extra["gateway_status"] = .integer(Int64(status)) }
            if let reason = failure.reason { extra["gateway_error_reason"] = .string(reason) }
        }
        if cutShortCount > 0 { extra["gateway_cut_short"] = .integer(Int64(cutShortCount)) }
        if let rule = exchanges.last(where: { $0.rule != nil })?.rule { extra["rule"] = .string(rule) }
        if suppressedAfterAuthFailure > 0 {
            extra["gateway_suppressed_after_auth_failure"] = .integer(Int64(suppressedAfterAuthFailure))
        }
        return extra
    }

    /// Writes the measured bytes into `event`: `request_bytes`, `response_bytes`,
    /// `estimated_bytes` = their sum, `bytes_measured = true`, `proxied = true`, the
    /// ``extraFields``; `http_status` when the event has none; and, for a failed event without an
    /// `error_type`, the class of ``gatewayFailure`` (a gateway failure is never blamed on
    /// YouTube, so callers should prefer it to what they read from yt-dlp's output).
    ///
    /// - Parameter event: The event to complete.
    public func apply(to event: inout ProxyRequestEvent) {
        event.requestBytes = requestBytes
        event.responseBytes = responseBytes
        event.estimatedBytes = totalBytes
        event.bytesMeasured = true
        event.proxied = true
        if event.httpStatus == nil { event.httpStatus = lastStatus }
        if !event.success, event.errorType == nil, let failure = gatewayFailure { event.errorType = failure.errorType }
        event.extra.merge(extraFields) { _, new in new }
    }

    /// Makes the ledger event for an operation metered under `attribution`.
    ///
    /// - Parameters:
    ///   - attribution: The lease's attribution (component, operation, job, video or channel).
    ///   - timestamp: When the operation started (UTC µs).
    ///   - success: Whether the operation succeeded (for yt-dlp: its exit status).
    /// - Returns: An event with a fresh `event_id`, ``durationMS`` and the fields of ``apply(to:)``.
    public func makeEvent(
        for attribution: OperationAttribution, timestamp: LedgerTimestamp, success: Bool
    ) -> ProxyRequestEvent {
        var event = attribution.event(timestamp: timestamp, durationMS: durationMS, success: success, proxied: true)
        apply(to: &event)
        return event
    }
}
