public import Ledger
import Foundation

/// A classified yt-dlp failure: the ledger's `error_type`, the HTTP status if one was printed,
/// and the deciding line of standard error (credentials redacted).
public struct YtDlpFailure: Sendable, Hashable, CustomStringConvertible {
    /// The ledger `error_type`.
    public var errorType: ProxyErrorType
    /// The HTTP status yt-dlp printed (`HTTP Error 429: …`, `Tunnel connection failed: 407 …`), if any.
    public var httpStatus: Int?
    /// The most relevant stderr line (the last `ERROR:` line, else the last line), with any
    /// `user:password@` in URLs replaced by `***@`.
    public var message: String
    /// How long the gateway or the origin asked to wait before a retry (`Retry-After` on a 429 or
    /// 503 the metering proxy saw), `nil` when it did not say.
    public var retryAfter: Duration?

    /// Creates a failure.
    public init(errorType: ProxyErrorType, httpStatus: Int?, message: String, retryAfter: Duration? = nil) {
        self.errorType = errorType
        self.httpStatus = httpStatus
        self.message = message
        self.retryAfter = retryAfter
    }

    /// The error type, status and redacted message.
    public var description: String {
        "\(errorType.rawValue)\(httpStatus.map { " (HTTP \($0))" } ?? ""): \(message)"
    }
}

/// Sorts yt-dlp failures into the ledger's `error_type` from its exit status and standard error.
///
/// The patterns are the texts yt-dlp 2026.10.26 prints:
/// - `HTTP Error 429: Too Many Requests` (`yt_dlp/networking/exceptions.py`, `HTTPError`) → `rate_limited`;
/// - YouTube's "Sign in to confirm you’re not a bot" (curly or straight apostrophe) → `bot_check`;
/// - `HTTP Error 407: Proxy Authentication Required` (plain HTTP through the proxy) and
///   `Tunnel connection failed: 407 Proxy Authentication Required` (CONNECT, raised as
///   `ProxyError` in `yt_dlp/networking/_urllib.py` / `_requests.py`) → `auth_failure`;
/// - a tunnel answered with 429 → `gateway_throttled`, with 402 → `bandwidth_exhausted`;
/// - `HTTP Error 404` or "Video unavailable" → `not_found`; any other `HTTP Error NNN` → `http_error`;
/// - `Connection refused` (`[Errno 111]`), `Unable to connect to proxy`, other `ProxyError`s,
///   name resolution and reset errors → `connection_error`;
/// - `timed out` → `timeout`;
/// - anything else → `unknown`.
public enum YtDlpFailureClassifier {
    /// Classifies one yt-dlp run.
    ///
    /// - Parameters:
    ///   - exitCode: the exit code, or `nil` when yt-dlp was killed by a signal.
    ///   - standardError: everything yt-dlp wrote to standard error.
    ///   - timedOut: `true` when the caller killed yt-dlp after its deadline.
    /// - Returns: `nil` when the run succeeded (exit code 0, not timed out), else the failure.
    public static func classify(exitCode: Int32?, standardError: String, timedOut: Bool = false) -> YtDlpFailure? {
        if exitCode == 0 && !timedOut { return nil }
        let message = relevantLine(standardError)
        let status = httpStatus(in: standardError)
        if timedOut { return YtDlpFailure(errorType: .timeout, httpStatus: status, message: message) }
        let type = errorType(for: standardError)
        // With --load-info-json, yt-dlp retries a failed info via `webpage_url`; prefer the status
        // that decided the class (e.g. the 429) over a later fallback status.
        let canonical: Int? =
            switch type {
            case .authFailure: 407
            case .rateLimited, .gatewayThrottled: 429
            case .bandwidthExhausted: 402
            case .notFound: 404
            default: nil
            }
        let lowered = standardError.lowercased()
        let decisive = canonical.flatMap { code in
            lowered.contains("error \(code)") || lowered.contains("failed: \(code)")
                || lowered.contains("\(code) proxy authentication") ? code : nil
        }
        return YtDlpFailure(errorType: type, httpStatus: decisive ?? status, message: message)
    }

    /// The `error_type` the text of `standardError` indicates (`unknown` when nothing matches).
    public static func errorType(for standardError: String) -> ProxyErrorType {
        let text = standardError.lowercased()
        let tunnelStatus = status(after: "tunnel connection failed: ", in: text)
        if tunnelStatus == 407 || text.contains("http error 407") || text.contains("407 proxy authentication required")
        {
            return .authFailure
        }
        if tunnelStatus == 429 { return .gatewayThrottled }
        if tunnelStatus == 402 { return .bandwidthExhausted }
        if text.contains("confirm you\u{2019}re not a bot") || text.contains("confirm you're not a bot")
            || text.contains("confirm you are not a bot")
        {
            return .botCheck
        }
        if text.contains("http error 429") || text.contains("too many requests") { return .rateLimited }
        if text.contains("http error 404") || text.contains("video unavailable") { return .notFound }
        if text.contains("http error ") { return .httpError }
        let connectionMarkers = [
            "connection refused", "unable to connect to proxy", "proxyerror", "tunnel connection failed",
            "errno 111", "connection reset", "name or service not known", "failed to resolve",
            "temporary failure in name resolution", "network is unreachable", "remote end closed connection",
        ]
        if connectionMarkers.contains(where: text.contains) { return .connectionError }
        if text.contains("timed out") || text.contains("timeouterror") { return .timeout }
        return .unknown
    }

    /// The last HTTP status in `standardError` (`HTTP Error NNN`, `Tunnel connection failed: NNN`,
    /// `NNN Proxy Authentication Required`), or `nil`.
    public static func httpStatus(in standardError: String) -> Int? {
        let text = standardError.lowercased()
        var found: (index: String.Index, status: Int)?
        for marker in ["http error ", "tunnel connection failed: "] {
            var searchRange = text.startIndex..<text.endIndex
            while let range = text.range(of: marker, range: searchRange) {
                if let value = threeDigits(text[range.upperBound...]),
                    found.map({ range.lowerBound > $0.index }) ?? true
                {
                    found = (range.lowerBound, value)
                }
                searchRange = range.upperBound..<text.endIndex
            }
        }
        if found == nil, text.contains("407 proxy authentication required") { return 407 }
        return found?.status
    }

    /// Replaces `scheme://user:password@` with `scheme://***@`, so proxy credentials never reach logs.
    public static func redact(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            result += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let authority = rest.prefix { !"/ \t\n\"'".contains($0) }
            if let at = authority.lastIndex(of: "@") {
                result += "***@"
                rest = rest[rest.index(after: at)...]
            }
        }
        return result + rest
    }

    static func relevantLine(_ standardError: String) -> String {
        let lines = standardError.split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        let isError = { (line: String) in
            line.hasPrefix("ERROR:") && !line.dropFirst(6).trimmingCharacters(in: .whitespaces).isEmpty
        }
        let line = lines.last(where: isError) ?? lines.last(where: { !$0.hasPrefix("ERROR:") }) ?? lines.last ?? ""
        return redact(String(line.prefix(500)))
    }

    private static func status(after marker: String, in text: String) -> Int? {
        guard let range = text.range(of: marker) else { return nil }
        return threeDigits(text[range.upperBound...])
    }

    private static func threeDigits(_ text: Substring) -> Int? {
        let digits = text.prefix(3)
        guard digits.count == 3, digits.allSatisfy(\.isNumber), let value = Int(digits),
            text.dropFirst(3).first.map({ !$0.isNumber }) ?? true
        else { return nil }
        return value
    }
}
