import Dispatch

/// Checks that the proxy gateway is reachable and accepts the credentials, with one HTTP `HEAD`
/// request through it.
///
/// ```swift
/// let checker = ConnectivityChecker(service: service)
/// switch await checker.check() {
/// case .ok(let status, let ms): print("gateway ok: HTTP \(status) in \(ms) ms")
/// case .disabled: print("proxy disabled")
/// case .error(let reason, let detail): print("gateway \(reason.rawValue): \(detail)")
/// }
/// ```
///
/// The request is made with libcurl. The credentials are passed with `CURLOPT_PROXYUSERNAME` and
/// `CURLOPT_PROXYPASSWORD` (HTTP Basic, RFC 7617), never inside a URL, so they do not appear in
/// libcurl's error messages. Source: libcurl `curl_easy_setopt(3)`, `libcurl-errors(3)`.
public struct ConnectivityChecker: Sendable {
    /// The route to check.
    public let service: ProxyService
    /// The URL requested through the gateway.
    public let targetURL: String
    /// The timeout for the whole request (DNS, connect, response), in milliseconds.
    public let timeoutMS: Int

    /// Creates a checker.
    ///
    /// - Parameters:
    ///   - service: The route to check; when it is disabled, ``check()`` returns `.disabled`.
    ///   - targetURL: The URL to `HEAD` through the gateway. Default `http://www.youtube.com/`.
    ///   - timeoutMS: The timeout for the whole request, in milliseconds. Default 10 000.
    public init(service: ProxyService, targetURL: String = "http://www.youtube.com/", timeoutMS: Int = 10_000) {
        self.service = service
        self.targetURL = targetURL
        self.timeoutMS = timeoutMS
    }

    /// Sends one `HEAD` request for ``targetURL`` through the gateway and classifies the outcome.
    ///
    /// The blocking libcurl call runs on a Dispatch queue, not on the Swift concurrency pool.
    /// Redirects are not followed. A 407 from the gateway (also on a `CONNECT` tunnel) is
    /// ``ConnectivityFailure/authFailure``; any other status of 400 or more is
    /// ``ConnectivityFailure/httpError``.
    ///
    /// - Returns: `.disabled` without any network traffic when the proxy is disabled, `.ok`
    ///   with the HTTP status and duration in milliseconds, or `.error` with the reason and a
    ///   detail that never contains the password. Never throws.
    public func check() async -> ConnectivityStatus {
        guard service.isEnabled, let username = service.gatewayUsername, let password = service.settings.password
        else { return .disabled }
        let probe = CurlHeadProbe(
            targetURL: targetURL,
            proxy: service.hostAndPort,
            username: username,
            password: password,
            timeoutMS: timeoutMS
        )
        return await withCheckedContinuation { continuation in
            CurlHeadProbe.queue.async {
                continuation.resume(returning: probe.run())
            }
        }
    }
}
