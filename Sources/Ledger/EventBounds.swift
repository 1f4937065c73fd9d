/// The ranges the integer fields of schema v1 must fall in (`docs/events.md`, `docs/ledger-format.md`).
///
/// The ledger is immutable, so a value that cannot be right (a negative size, a byte count that
/// makes every later sum overflow) is refused when it is appended rather than poisoning every
/// replay after it. The bounds are far above anything one proxied operation can reach.
extension ProxyRequestEvent {
    /// The largest `request_bytes` or `response_bytes` of one operation, in bytes: 10^12 bytes
    /// (1 TB), a thousand times more than any yt-dlp operation moves. An hour or day bucket then
    /// overflows Int64 only past 4.6 million such operations; replay refuses that cleanly.
    public static let maximumBytes: Int64 = 1_000_000_000_000

    /// The largest `estimated_bytes`, in bytes: 2 × ``maximumBytes`` (both directions at most).
    public static let maximumEstimatedBytes: Int64 = 2 * maximumBytes

    /// The longest `duration_ms` of one operation, in milliseconds: 30 days (2 592 000 000 ms).
    public static let maximumDurationMS: Int64 = 30 * 86_400_000

    /// The largest `attempt` (retry number of a job, starting at 1): 1 000 000.
    public static let maximumAttempt: Int64 = 1_000_000

    /// The allowed `http_status`: 0…999 (a three-digit status, RFC 9110 §15; 0 for none seen).
    static let httpStatusRange: ClosedRange<Int64> = 0...999
    /// The allowed `request_bytes` and `response_bytes`, in bytes: 0…``maximumBytes``.
    static let byteRange: ClosedRange<Int64> = 0...maximumBytes
    /// The allowed `estimated_bytes`, in bytes: 0…``maximumEstimatedBytes``.
    static let estimatedByteRange: ClosedRange<Int64> = 0...maximumEstimatedBytes
    /// The allowed `duration_ms`, in ms: 0…``maximumDurationMS``.
    static let durationRange: ClosedRange<Int64> = 0...maximumDurationMS
    /// The allowed `attempt`: 1…``maximumAttempt``.
    static let attemptRange: ClosedRange<Int64> = 1...maximumAttempt

    /// The allowed range of each integer field, by schema v1 field name: `http_status` 0…999,
    /// `request_bytes` and `response_bytes` 0…``maximumBytes`` (bytes), `estimated_bytes`
    /// 0…``maximumEstimatedBytes``, `duration_ms` 0…``maximumDurationMS`` (ms) and `attempt`
    /// 1…``maximumAttempt``.
    public static let integerRanges: [String: ClosedRange<Int64>] = [
        "http_status": httpStatusRange,
        "request_bytes": byteRange,
        "response_bytes": byteRange,
        "estimated_bytes": estimatedByteRange,
        "duration_ms": durationRange,
        "attempt": attemptRange,
    ]

    /// Checks what the types do not: `component` and `operation` are 1–50 characters and every
    /// integer field lies in its ``integerRanges`` entry. ``init(jsonLine:)`` applies the same
    /// rules, and ``LedgerWriter/append(_:)`` checks every event with this method before writing.
    ///
    /// - Complexity: O(1) apart from counting the characters of labels longer than 50 bytes; no
    ///   allocation (it runs for every appended event).
    /// - Throws: ``EventDecodingError`` naming the first field at fault (without a line number).
    public func validate() throws(EventDecodingError) {
        func label(_ name: String, _ value: String) throws(EventDecodingError) {
            guard !value.isEmpty, value.utf8.count <= 50 || value.count <= 50 else {
                throw EventDecodingError(field: name, reason: "must be 1 to 50 characters")
            }
        }
        func integer(_ name: String, _ value: Int64?, _ range: ClosedRange<Int64>) throws(EventDecodingError) {
            guard let value, !range.contains(value) else { return }
            throw EventDecodingError(
                field: name, reason: Self.rangeReason(name, nullable: name != "duration_ms" && name != "attempt"))
        }
        try label("component", component)
        try label("operation", operation)
        try integer("http_status", httpStatus.map { Int64($0) }, Self.httpStatusRange)
        try integer("request_bytes", requestBytes, Self.byteRange)
        try integer("response_bytes", responseBytes, Self.byteRange)
        try integer("estimated_bytes", estimatedBytes, Self.estimatedByteRange)
        try integer("duration_ms", durationMS, Self.durationRange)
        try integer("attempt", Int64(attempt), Self.attemptRange)
    }

    /// "must be an integer in 0...1000000000000 (bytes, at most 1 TB) or null", for error messages.
    static func rangeReason(_ name: String, nullable: Bool) -> String {
        let range = integerRanges[name] ?? Int64.min...Int64.max
        let unit =
            switch name {
            case "request_bytes", "response_bytes": " (bytes, at most 1 TB)"
            case "estimated_bytes": " (bytes, at most 2 TB)"
            case "duration_ms": " (ms, at most 30 days)"
            default: ""
            }
        return "must be an integer in \(range.lowerBound)...\(range.upperBound)\(unit)" + (nullable ? " or null" : "")
    }
}
