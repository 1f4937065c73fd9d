/// The outcome of one connectivity check through the proxy gateway.
public enum ConnectivityStatus: Sendable, Equatable {
    /// The gateway relayed a response with a status below 400 (redirects are not followed).
    ///
    /// - httpStatus: The HTTP status of the response, e.g. `200` or `301`.
    /// - durationMS: Wall-clock time of the whole request, in milliseconds.
    case ok(httpStatus: Int, durationMS: Int64)
    /// The proxy is disabled for the component; nothing was sent.
    case disabled
    /// The check failed.
    ///
    /// - reason: The classified failure.
    /// - detail: libcurl's error text or the HTTP status; never contains the password.
    case error(reason: ConnectivityFailure, detail: String)
}

/// Why a connectivity check failed. The raw values match the ledger's `error_type` vocabulary
/// where one applies.
public enum ConnectivityFailure: String, Sendable, CaseIterable {
    /// The gateway answered `407 Proxy Authentication Required` (bad username or password).
    case authFailure = "auth_failure"
    /// The TCP connection to the gateway was refused or failed (`CURLE_COULDNT_CONNECT`).
    case connectionRefused = "connection_refused"
    /// The check did not finish within its timeout (`CURLE_OPERATION_TIMEDOUT`).
    case timeout
    /// The gateway or target host name did not resolve
    /// (`CURLE_COULDNT_RESOLVE_PROXY`, `CURLE_COULDNT_RESOLVE_HOST`).
    case dns
    /// The gateway relayed an HTTP status of 400 or more other than 407.
    case httpError = "http_error"
    /// Any other failure; the detail holds libcurl's message.
    case other
}
