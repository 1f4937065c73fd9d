/// The rules `append` applies to each JSON Lines event beyond the schema's types
/// (`docs/events.md`, "Rules at append"). The ledger is immutable, so what is almost certainly a
/// mistake is refused with its line number rather than stored for ever.
public struct AppendRules: Sendable, Hashable {
    /// When given, an event stamped outside it is refused (the clock sanity rule).
    public var plausibleTime: PlausibleTime?
    /// Keeps an unknown field whose name is a near miss of a schema field (edit distance ≤ 2,
    /// such as `reqest_bytes`) as an extra field instead of refusing the line.
    public var allowUnknownFields: Bool

    /// The longest text of each optional text field, in characters.
    public static let textLimits: [(field: String, limit: Int)] = textFields.map { ($0.field, $0.limit) }

    /// Each limited field with the property that holds it, so a value is never paired with
    /// another field's limit.
    private static let textFields: [(field: String, limit: Int, value: @Sendable (ProxyRequestEvent) -> String?)] = [
        ("video_id", 64, { $0.videoID }), ("job_id", 128, { $0.jobID }), ("correlation_id", 128, { $0.correlationID }),
        ("channel_name", 256, { $0.channelName }),
    ]

    /// Creates the rules; the defaults check nothing beyond the near-miss names.
    public init(plausibleTime: PlausibleTime? = nil, allowUnknownFields: Bool = false) {
        self.plausibleTime = plausibleTime
        self.allowUnknownFields = allowUnknownFields
    }

    /// Checks `event` and fills what the rules imply: with `bytes_measured` true, a null
    /// `estimated_bytes` becomes `request_bytes + response_bytes`.
    ///
    /// - Throws: ``EventDecodingError`` naming the field (without a line number): a timestamp
    ///   outside ``plausibleTime``, a text over its ``textLimits`` entry, a measured
    ///   `estimated_bytes` that is not the sum, or a near-miss field name.
    public func apply(to event: inout ProxyRequestEvent) throws(EventDecodingError) {
        // A misspelt field name comes first: it explains the errors it causes (a measured sum
        // that misses its `reqest_bytes`).
        if !allowUnknownFields, !event.extra.isEmpty { try Self.checkNearMisses(event.extra.keys) }
        if let reason = plausibleTime?.reason(rejecting: event.timestamp) {
            throw EventDecodingError(field: "timestamp", reason: reason)
        }
        try Self.checkLengths(event)
        if event.bytesMeasured {
            let sum = (event.requestBytes ?? 0) + (event.responseBytes ?? 0)
            if event.estimatedBytes == nil { event.estimatedBytes = sum }
            guard event.estimatedBytes == sum else {
                throw EventDecodingError(
                    field: "estimated_bytes",
                    reason: "must equal request_bytes + response_bytes (\(sum)) when bytes_measured is true, or be null")
            }
        }
    }

    private static func checkLengths(_ event: ProxyRequestEvent) throws(EventDecodingError) {
        for rule in textFields {
            guard let value = rule.value(event), value.utf8.count > rule.limit, value.count > rule.limit else { continue }
            throw EventDecodingError(field: rule.field, reason: "must be at most \(rule.limit) characters (it has \(value.count))")
        }
    }

    private static func checkNearMisses(_ keys: some Sequence<String>) throws(EventDecodingError) {
        for key in keys {
            let bytes = Array(key.utf8)
            guard let schema = ProxyRequestEvent.fieldNames.first(where: { isNearMiss(bytes, of: Array($0.utf8)) }) else { continue }
            throw EventDecodingError(
                field: key,
                reason: "unknown field, close to \"\(schema)\" (a typo?); give --allow-unknown-fields to keep it as an extra field")
        }
    }

    /// Whether the edit distance (Levenshtein, over bytes) of `word` and `target` is 1 or 2.
    static func isNearMiss(_ word: [UInt8], of target: [UInt8]) -> Bool {
        guard word != target, abs(word.count - target.count) <= 2 else { return false }
        var previous = Array(0...target.count)
        for (i, byte) in word.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: target.count)
            for (j, other) in target.enumerated() {
                current[j + 1] = Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (byte == other ? 0 : 1))
            }
            guard current.min() ?? 0 <= 2 else { return false }
            previous = current
        }
        return (previous.last ?? 3) <= 2
    }
}
