import Foundation

/// A JSON Lines event that is not valid schema v1 (`docs/events.md`).
public struct EventDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line number in the input, when read from JSON Lines.
    public var line: Int?
    /// The field at fault (`timestamp`, `event_id`, …), or `nil` when the line is not a JSON object.
    public var field: String?
    public var reason: String

    public init(line: Int? = nil, field: String?, reason: String) {
        self.line = line
        self.field = field
        self.reason = reason
    }

    public var description: String {
        var text = line.map { "line \($0): " } ?? ""
        if let field { text += "field \"\(field)\": " }
        return text + reason
    }
}

extension ProxyRequestEvent {
    /// The schema v1 field names, in the order they are written.
    public static let fieldNames: [String] = [
        "event_id", "timestamp", "component", "operation", "video_id", "channel_name", "job_id",
        "correlation_id", "success", "error_type", "http_status", "request_bytes", "response_bytes",
        "estimated_bytes", "bytes_measured", "duration_ms", "proxied", "attempt",
    ]

    /// Parses one JSON Lines event (schema v1). Unknown fields go to ``extra``.
    ///
    /// Required: `event_id` (UUID), `timestamp` (RFC 3339, any offset), `component` and `operation`
    /// (1–50 characters), `success`, `duration_ms` (integer, 0 to 2 592 000 000 ms = 30 days) and
    /// `proxied`. Optional, null when missing: the ids, `error_type` (a schema value), `http_status`
    /// (0–999), and the byte counts `request_bytes`, `response_bytes`, `estimated_bytes` (integers,
    /// 0 to 10^12 bytes = 1 TB per direction and operation, `estimated_bytes` up to 2 TB). `bytes_measured` defaults to false and `attempt`
    /// (1–1 000 000) to 1. The ranges are ``integerRanges``. An integer may be written in exponent
    /// form (`1e3` is 1000); a fraction (`1.5`) is rejected.
    ///
    /// - Throws: ``EventDecodingError`` naming the field at fault (without a line number), also
    ///   for an integer outside its range.
    public init(jsonLine bytes: [UInt8]) throws(EventDecodingError) {
        self = try bytes.withUnsafeBytes { buffer in
            Result { () throws(EventDecodingError) in try ProxyRequestEvent(jsonBuffer: buffer) }
        }.get()
    }

    /// ``init(jsonLine:)`` over bytes in place (no copy of the line).
    init(jsonBuffer: UnsafeRawBufferPointer) throws(EventDecodingError) {
        var fields = try FieldReader(members: Self.parseObject(jsonBuffer))
        let idText = try fields.string("event_id", required: true) ?? ""
        guard let eventID = UUIDText.parse(idText) else {
            throw EventDecodingError(field: "event_id", reason: "not a UUID")
        }
        let timeText = try fields.string("timestamp", required: true) ?? ""
        guard let timestamp = LedgerTimestamp(rfc3339: timeText) else {
            throw EventDecodingError(field: "timestamp", reason: "not an RFC 3339 date-time")
        }
        let errorType = try fields.string("error_type").map { (text: String) throws(EventDecodingError) in
            guard let value = ProxyErrorType(rawValue: text) else {
                let allowed = ProxyErrorType.allCases.map(\.rawValue).joined(separator: ", ")
                throw EventDecodingError(field: "error_type", reason: "must be null or one of \(allowed)")
            }
            return value
        }
        self.init(
            eventID: eventID,
            timestamp: timestamp,
            component: try fields.label("component"),
            operation: try fields.label("operation"),
            videoID: try fields.string("video_id"),
            channelName: try fields.string("channel_name"),
            jobID: try fields.string("job_id"),
            correlationID: try fields.string("correlation_id"),
            success: try fields.bool("success", default: nil),
            errorType: errorType,
            httpStatus: try fields.integer("http_status").map { Int($0) },
            requestBytes: try fields.integer("request_bytes"),
            responseBytes: try fields.integer("response_bytes"),
            estimatedBytes: try fields.integer("estimated_bytes"),
            bytesMeasured: try fields.bool("bytes_measured", default: false),
            durationMS: try fields.integer("duration_ms", required: true) ?? 0,
            proxied: try fields.bool("proxied", default: nil),
            attempt: Int(try fields.integer("attempt") ?? 1),
            extra: fields.unknown
        )
    }

    /// The members of the JSON object in `buffer`, or the error naming what is wrong.
    static func parseObject(_ buffer: UnsafeRawBufferPointer) throws(EventDecodingError) -> [(key: String, value: JSONValue)] {
        do {
            return try JSONParser.parseObject(buffer)
        } catch {
            throw EventDecodingError(field: nil, reason: "not valid JSON: \(error.reason) at byte \(error.offset + 1)")
        }
    }

    /// The event as one compact JSON object, schema fields first in ``fieldNames`` order, then
    /// unknown fields sorted by name. Timestamps are UTC with six fraction digits; no newline.
    public func jsonLine() -> [UInt8] {
        var json = JSONWriter()
        writeJSON(into: &json)
        return json.bytes
    }

    func writeJSON(into json: inout JSONWriter) {
        func optionalString(_ value: String?) {
            if let value { json.string(value) } else { json.raw("null") }
        }
        func optionalInteger(_ value: Int64?) {
            if let value { json.integer(value) } else { json.raw("null") }
        }
        json.raw("{")
        json.key("event_id", first: true)
        json.string(UUIDText.lowercase(eventID))
        json.key("timestamp")
        json.string(timestamp.rfc3339)
        json.key("component")
        json.string(component)
        json.key("operation")
        json.string(operation)
        json.key("video_id")
        optionalString(videoID)
        json.key("channel_name")
        optionalString(channelName)
        json.key("job_id")
        optionalString(jobID)
        json.key("correlation_id")
        optionalString(correlationID)
        json.key("success")
        json.value(.bool(success))
        json.key("error_type")
        optionalString(errorType?.rawValue)
        json.key("http_status")
        optionalInteger(httpStatus.map { Int64($0) })
        json.key("request_bytes")
        optionalInteger(requestBytes)
        json.key("response_bytes")
        optionalInteger(responseBytes)
        json.key("estimated_bytes")
        optionalInteger(estimatedBytes)
        json.key("bytes_measured")
        json.value(.bool(bytesMeasured))
        json.key("duration_ms")
        json.integer(durationMS)
        json.key("proxied")
        json.value(.bool(proxied))
        json.key("attempt")
        json.integer(attempt)
        for name in extra.keys.sorted() {
            json.key(name)
            json.value(extra[name] ?? .null)
        }
        json.raw("}")
    }
}

/// Reads typed schema fields out of a parsed object and keeps what is left.
///
/// Each member goes to the slot of its schema field (one comparison of short strings per
/// candidate, no hashing), or to ``unknown``; a key given twice is an error.
private struct FieldReader {
    var unknown: [String: JSONValue] = [:]
    private var slots = [JSONValue?](repeating: nil, count: ProxyRequestEvent.fieldNames.count)

    init(members: [(key: String, value: JSONValue)]) throws(EventDecodingError) {
        for member in members {
            if let slot = Self.slot(of: member.key) {
                guard slots[slot] == nil else { throw EventDecodingError(field: member.key, reason: "is given twice") }
                slots[slot] = member.value
            } else if unknown.updateValue(member.value, forKey: member.key) != nil {
                throw EventDecodingError(field: member.key, reason: "is given twice")
            }
        }
    }

    /// The index of `name` in ``ProxyRequestEvent/fieldNames``. Length and first byte tell the
    /// 18 names apart, so there is one string comparison, and it is with the right name (a
    /// comparison of unequal strings is the slow path in Swift).
    private static func slot(of name: String) -> Int? {
        var name = name
        let (count, first) = name.withUTF8 { ($0.count, $0.first ?? 0) }
        let candidate: Int? =
            switch (count, first) {
            case (8, UInt8(ascii: "e")): 0
            case (9, UInt8(ascii: "t")): 1
            case (9, UInt8(ascii: "c")): 2
            case (9, UInt8(ascii: "o")): 3
            case (8, UInt8(ascii: "v")): 4
            case (12, UInt8(ascii: "c")): 5
            case (6, UInt8(ascii: "j")): 6
            case (14, UInt8(ascii: "c")): 7
            case (7, UInt8(ascii: "s")): 8
            case (10, UInt8(ascii: "e")): 9
            case (11, UInt8(ascii: "h")): 10
            case (13, UInt8(ascii: "r")): 11
            case (14, UInt8(ascii: "r")): 12
            case (15, UInt8(ascii: "e")): 13
            case (14, UInt8(ascii: "b")): 14
            case (11, UInt8(ascii: "d")): 15
            case (7, UInt8(ascii: "p")): 16
            case (7, UInt8(ascii: "a")): 17
            default: nil
            }
        guard let candidate, ProxyRequestEvent.fieldNames[candidate] == name else { return nil }
        return candidate
    }

    mutating func take(_ name: String) -> JSONValue? {
        guard let slot = Self.slot(of: name) else { return nil }
        defer { slots[slot] = nil }
        return slots[slot]
    }

    mutating func string(_ name: String, required: Bool = false) throws(EventDecodingError) -> String? {
        switch take(name) {
        case .string(let value): return value
        case .null?, nil:
            if required { throw EventDecodingError(field: name, reason: "is required") }
            return nil
        default: throw EventDecodingError(field: name, reason: "must be a string or null")
        }
    }

    mutating func label(_ name: String) throws(EventDecodingError) -> String {
        let value = try string(name, required: true) ?? ""
        // `utf8.count` bounds `count` from above, so most labels skip counting characters.
        guard !value.isEmpty, value.utf8.count <= 50 || value.count <= 50 else {
            throw EventDecodingError(field: name, reason: "must be 1 to 50 characters")
        }
        return value
    }

    mutating func bool(_ name: String, default fallback: Bool?) throws(EventDecodingError) -> Bool {
        switch take(name) {
        case .bool(let value): return value
        case .null?, nil:
            if let fallback { return fallback }
            throw EventDecodingError(field: name, reason: "is required (true or false)")
        default: throw EventDecodingError(field: name, reason: "must be true or false")
        }
    }

    /// An integer field in its ``ProxyRequestEvent/integerRanges`` range.
    mutating func integer(_ name: String, required: Bool = false) throws(EventDecodingError) -> Int64? {
        let range = ProxyRequestEvent.integerRanges[name] ?? Int64.min...Int64.max
        switch take(name) {
        case .integer(let value) where range.contains(value): return value
        case .null?, nil:
            if required { throw EventDecodingError(field: name, reason: "is required") }
            return nil
        default: throw EventDecodingError(field: name, reason: ProxyRequestEvent.rangeReason(name, nullable: !required))
        }
    }
}
