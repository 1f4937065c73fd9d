import Foundation

/// The append path's fast reader of one JSON Lines event: a single pass over the line's UTF-8
/// bytes that fills the event's fields directly, with no `String` or ``JSONValue`` per member.
///
/// It reads only the plain shape producers write: one object whose keys are schema v1 field
/// names, each at most once; strings of printable ASCII without escapes; non-negative integers
/// without fraction or exponent; `true`, `false`, `null`. Any other line, and any line that breaks
/// a rule of ``ProxyRequestEvent/init(jsonLine:)``, gives `nil`, and the caller decodes it with
/// that general parser, which gives the event or the error. So the fast path never accepts a
/// line the general parser rejects, and gives the same event for every line it reads.
///
/// Repeated labels (component, operation, channel) are returned as one shared `String` each.
///
/// ```swift
/// var parser = EventLineParser()
/// let event = try parser.parse(line) ?? ProxyRequestEvent(jsonLine: line)
/// ```
public struct EventLineParser {
    private var components = LabelCache()
    private var operations = LabelCache()
    private var channels = LabelCache()

    public init() {}

    /// The event in `line`, or `nil` when the line needs the general parser (see the type's docs).
    public mutating func parse(_ line: [UInt8]) -> ProxyRequestEvent? {
        line.withUnsafeBytes { parse($0) }
    }

    /// ``parse(_:)-([UInt8])`` over bytes in place.
    mutating func parse(_ line: UnsafeRawBufferPointer) -> ProxyRequestEvent? {
        withUnsafeTemporaryAllocation(of: LineToken.self, capacity: EventField.count) { storage in
            var fields = LineFields(tokens: storage)
            guard Self.scan(line, into: &fields) else { return nil }
            return makeEvent(fields, line)
        }
    }

    /// Reads the object's members into `fields`; `false` for anything off the plain shape.
    private static func scan(_ line: UnsafeRawBufferPointer, into fields: inout LineFields) -> Bool {
        var cursor = LineCursor(bytes: line)
        guard cursor.take(ASCII.openBrace) else { return false }
        while true {
            cursor.skipSpace()
            guard let key = cursor.plainString(), let field = EventField(key: UnsafeRawBufferPointer(rebasing: line[key])),
                cursor.take(ASCII.colon), let token = cursor.value(), fields.set(field, token)
            else { return false }
            if cursor.take(ASCII.comma) { continue }
            guard cursor.take(ASCII.closeBrace) else { return false }
            cursor.skipSpace()
            return cursor.isAtEnd
        }
    }

    private mutating func makeEvent(_ fields: LineFields, _ line: UnsafeRawBufferPointer) -> ProxyRequestEvent? {
        func text(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: line[range]) }
        guard case .string(let idRange) = fields[.eventID], let eventID = UUIDText.parse(text(idRange)),
            case .string(let timeRange) = fields[.timestamp], timeRange.count >= 20,
            let micros = LedgerTimestamp.microseconds(rfc3339: text(timeRange)),
            case .string(let componentRange) = fields[.component], (1...50).contains(componentRange.count),
            case .string(let operationRange) = fields[.operation], (1...50).contains(operationRange.count),
            let videoID = fields.optionalString(.videoID, line), let channel = fields.optionalRange(.channelName),
            let jobID = fields.optionalString(.jobID, line), let correlationID = fields.optionalString(.correlationID, line),
            case .bool(let success) = fields[.success], let errorType = fields.errorType(line),
            let counts = fields.counts(), case .bool(let proxied) = fields[.proxied],
            let bytesMeasured = fields.bool(.bytesMeasured, default: false)
        else { return nil }
        return ProxyRequestEvent(
            eventID: eventID, timestamp: LedgerTimestamp(microseconds: micros),
            component: components.string(text(componentRange)), operation: operations.string(text(operationRange)),
            videoID: videoID, channelName: channel.map { channels.string(text($0)) }, jobID: jobID,
            correlationID: correlationID, success: success, errorType: errorType,
            httpStatus: counts.httpStatus.map { Int($0) }, requestBytes: counts.requestBytes,
            responseBytes: counts.responseBytes, estimatedBytes: counts.estimatedBytes, bytesMeasured: bytesMeasured,
            durationMS: counts.durationMS, proxied: proxied, attempt: Int(counts.attempt))
    }
}

/// A member's value as the fast path reads it.
enum LineToken {
    case string(Range<Int>)
    case integer(Int64)
    case bool(Bool)
    case null
}

/// The schema v1 fields, numbered as ``ProxyRequestEvent/fieldNames``.
enum EventField: Int, CaseIterable {
    case eventID, timestamp, component, operation, videoID, channelName, jobID, correlationID, success
    case errorType, httpStatus, requestBytes, responseBytes, estimatedBytes, bytesMeasured, durationMS
    case proxied, attempt

    static let count = allCases.count
    private static let names: [[UInt8]] = ProxyRequestEvent.fieldNames.map { Array($0.utf8) }

    /// The field named by `key`: length and first byte pick the one candidate, one comparison checks it.
    init?(key: UnsafeRawBufferPointer) {
        guard let first = key.first, let candidate = Self.candidate(count: key.count, first: first),
            Self.names[candidate.rawValue].withUnsafeBytes({ bytesEqual($0, key) })
        else { return nil }
        self = candidate
    }

    private static func candidate(count: Int, first: UInt8) -> EventField? {
        switch (count, first) {
        case (8, UInt8(ascii: "e")): .eventID
        case (9, UInt8(ascii: "t")): .timestamp
        case (9, UInt8(ascii: "c")): .component
        case (9, UInt8(ascii: "o")): .operation
        case (8, UInt8(ascii: "v")): .videoID
        case (12, UInt8(ascii: "c")): .channelName
        case (6, UInt8(ascii: "j")): .jobID
        case (14, UInt8(ascii: "c")): .correlationID
        case (7, UInt8(ascii: "s")): .success
        case (10, UInt8(ascii: "e")): .errorType
        case (11, UInt8(ascii: "h")): .httpStatus
        case (13, UInt8(ascii: "r")): .requestBytes
        case (14, UInt8(ascii: "r")): .responseBytes
        case (15, UInt8(ascii: "e")): .estimatedBytes
        case (14, UInt8(ascii: "b")): .bytesMeasured
        case (11, UInt8(ascii: "d")): .durationMS
        case (7, UInt8(ascii: "p")): .proxied
        case (7, UInt8(ascii: "a")): .attempt
        default: nil
        }
    }
}

/// `true` when the two byte ranges hold the same bytes.
func bytesEqual(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
    guard lhs.count == rhs.count else { return false }
    guard let left = lhs.baseAddress, let right = rhs.baseAddress else { return true }
    return memcmp(left, right, lhs.count) == 0
}
