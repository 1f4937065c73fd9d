import Foundation
public import Ledger

/// The status line and the diagnostic fields of a reply the metering proxy received from the
/// gateway, and its classification into the ledger's `error_type` vocabulary.
///
/// Sources: RFC 9110 §15 (status codes), RFC 9209 (`Proxy-Status`), Webshare's
/// `X-Webshare-Error-Reason` response header (values such as `client_connect_high_concurrency`
/// and `client_connect_forbidden_host`), and Squid's `X-Squid-Error` header on the error pages
/// it generates itself.
public struct GatewayReply: Sendable, Hashable {
    /// The HTTP status code, e.g. `200` or `407`.
    public var status: Int
    /// The value of `X-Webshare-Error-Reason`, if the gateway sent one.
    public var errorReason: String?
    /// `true` when the reply carries a field that only a proxy adds (`X-Webshare-Error-Reason`,
    /// `X-Squid-Error` or `Proxy-Status`), so the gateway and not the origin produced it.
    public var hasGatewayMarker: Bool
    /// How long the sender asks the client to wait (`Retry-After`, RFC 9110 §10.2.3: delay-seconds
    /// or an HTTP-date, turned into the time left from now), `nil` when absent or unreadable.
    public var retryAfter: Duration?

    /// Creates a reply description.
    ///
    /// - Parameters:
    ///   - status: The HTTP status code.
    ///   - errorReason: The `X-Webshare-Error-Reason` value, if any.
    ///   - hasGatewayMarker: Whether a proxy-only diagnostic field was present.
    ///   - retryAfter: The `Retry-After` delay, if any.
    public init(status: Int, errorReason: String? = nil, hasGatewayMarker: Bool = false, retryAfter: Duration? = nil) {
        self.status = status
        self.errorReason = errorReason
        self.hasGatewayMarker = hasGatewayMarker || errorReason != nil
        self.retryAfter = retryAfter
    }

    /// Parses a response head (`HTTP/1.1 407 Proxy Authentication Required\r\n…\r\n\r\n`).
    ///
    /// - Parameter bytes: The head, with or without the final empty line.
    /// - Returns: `nil` when the status line is not `HTTP/1.x NNN …`.
    public init?(parsing bytes: some Collection<UInt8>) {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard let statusLine = lines.first else { return nil }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3,
            let status = Int(parts[1]), (100...999).contains(status)
        else { return nil }
        var reason: String?
        var marker = false
        var retryAfter: Duration?
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch name {
            case "x-webshare-error-reason": reason = value.isEmpty ? nil : String(value.prefix(200))
            case "x-squid-error", "proxy-status": marker = true
            case "retry-after": retryAfter = Self.retryDelay(value, now: Date())
            default: break
            }
        }
        self.init(status: status, errorReason: reason, hasGatewayMarker: marker, retryAfter: retryAfter)
    }

    /// Reads a `Retry-After` value: delay-seconds (`120`) or an IMF-fixdate
    /// (`Wed, 21 Oct 2026 07:28:00 GMT`), as the time left after `now` (never negative). Delays
    /// above a day are capped at a day.
    /// - Returns: `nil` when the value is neither form.
    static func retryDelay(_ value: String, now: Date) -> Duration? {
        let day: Int64 = 86_400
        if let seconds = Int64(value), seconds >= 0 { return .seconds(min(seconds, day)) }
        guard let date = httpDate(value) else { return nil }
        let left = max(0, min(date.timeIntervalSince(now), Double(day)))
        return .milliseconds(Int64(left * 1000))
    }

    private static func httpDate(_ value: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: value)
    }

    /// The gateway failure class of this reply, or `nil` when it is not a gateway error.
    ///
    /// A reply is the gateway's own when it answers a `CONNECT` (the origin is not reached
    /// before the tunnel is up), when its status is 407 (RFC 9110 §15.5.8: only proxies send it),
    /// or when it has a gateway marker. A plain request's other statuses come from the origin
    /// (YouTube) and are never classified here.
    ///
    /// | reply | class |
    /// |---|---|
    /// | 407 | `auth_failure` |
    /// | 429, or reason `client_connect_high_concurrency` | `gateway_throttled` |
    /// | 502, 503 | `connection_error` |
    /// | 504 | `timeout` |
    /// | any other status ≥ 400 (e.g. 403 `client_connect_forbidden_host`), or a non-2xx CONNECT reply | `http_error` |
    ///
    /// - Parameter isTunnel: Whether the reply answers a `CONNECT`.
    /// - Returns: The class, or `nil` for a success or an origin reply.
    public func errorType(isTunnel: Bool) -> ProxyErrorType? {
        let fromGateway = isTunnel || status == 407 || hasGatewayMarker
        let failed = isTunnel ? !(200...299).contains(status) : status >= 400
        guard fromGateway, failed else { return nil }
        if status == 407 { return .authFailure }
        if status == 429 || errorReason == "client_connect_high_concurrency" { return .gatewayThrottled }
        switch status {
        case 502, 503: return .connectionError
        case 504: return .timeout
        default: return .httpError
        }
    }
}
