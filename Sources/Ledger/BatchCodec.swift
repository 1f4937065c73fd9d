import Foundation

/// The columnar encoding of one frame's batch of events (before zstd).
///
/// Every field is stored as its own column so that zstd sees like next to like: ids as 16 raw
/// bytes, timestamps as ZigZag deltas, repeated strings through a per-frame dictionary, integers as
/// LEB128 varints. The byte layout is documented in `docs/ledger-format.md`.
enum BatchCodec {
    /// The payload encoding version, the first byte of every decoded payload.
    static let version: UInt8 = 1

    enum IDTag: UInt8 { case null = 0, uuid = 1, text = 2 }

    /// The on-disk code of each error type is its index here plus one (0 = none). Append only.
    static let errorTypeCodes: [ProxyErrorType] = [
        .rateLimited, .botCheck, .authFailure, .connectionError, .timeout, .gatewayThrottled,
        .bandwidthExhausted, .notFound, .httpError, .unknown, .interrupted, .blockedByRule,
    ]

    /// Encodes `events` (positions are implied by the frame header).
    ///
    /// Arithmetic never traps: counts are checked before they become varints, and the timestamp
    /// deltas are two's-complement differences (`&-`) that decoding undoes exactly with `&+`.
    /// Any Int64 byte count ≥ 0 round-trips; the 1 TB policy bound is the writer's
    /// (``ProxyRequestEvent/validate()``), not the codec's.
    ///
    /// - Throws: ``LedgerError`` `.invalidEvent` naming the event id and field when a count that
    ///   the format stores unsigned is negative (`http_status`, the byte counts, `duration_ms`,
    ///   `attempt`).
    static func encode(_ events: [ProxyRequestEvent], schemaVersion: Int = 1) throws(LedgerError) -> [UInt8] {
        try events.withUnsafeBufferPointer { (buffer) throws(LedgerError) in try encode(buffer, schemaVersion: schemaVersion) }
    }

    /// ``encode(_:schemaVersion:)`` over events read in place.
    static func encode(_ events: UnsafeBufferPointer<ProxyRequestEvent>, schemaVersion: Int = 1) throws(LedgerError) -> [UInt8] {
        var encoder = BatchEncoder(capacity: events.count)
        if let first = events.baseAddress {
            for index in events.indices { try encoder.add(first + index) }
        }
        return encoder.finish(schemaVersion: schemaVersion)
    }

    /// The first byte of a payload in parts: a varint part count, then that many sections, each a
    /// version-1 payload of the next events (``FramePayload`` encodes a large batch's parts on
    /// every core at once).
    static let partsVersion: UInt8 = 2

    /// Decodes a payload made by ``encode(_:schemaVersion:)``, or one in parts (``partsVersion``).
    /// - Throws: `ByteReader.Overrun` or `LedgerError` `.corruptFrame` on malformed bytes.
    static func decode(_ payload: [UInt8]) throws -> (schemaVersion: Int, events: [ProxyRequestEvent]) {
        var reader = ByteReader(payload)
        switch try reader.byte() {
        case version:
            return try decodeBatch(&reader)
        case partsVersion:
            let parts = try reader.intVarint()
            // Every part takes at least its length byte: a count the bytes cannot back is damage.
            guard parts >= 1, parts <= reader.end - reader.index else {
                throw LedgerError(.corruptFrame, "the payload says \(parts) parts")
            }
            var events: [ProxyRequestEvent] = [], schemaVersion: Int?
            for _ in 0..<parts {
                var part = try reader.section()
                guard try part.byte() == version else { throw LedgerError(.corruptFrame, "a payload part has an unknown encoding version") }
                let decoded = try decodeBatch(&part)
                guard schemaVersion == nil || schemaVersion == decoded.schemaVersion else {
                    throw LedgerError(.corruptFrame, "the parts of one payload have different schema versions")
                }
                schemaVersion = decoded.schemaVersion
                events += decoded.events
            }
            return (schemaVersion ?? 1, events)
        default:
            throw LedgerError(.corruptFrame, "unknown payload encoding version")
        }
    }

    /// Decodes one version-1 batch from `reader`, just after its version byte.
    private static func decodeBatch(_ reader: inout ByteReader) throws -> (schemaVersion: Int, events: [ProxyRequestEvent]) {
        let count = try reader.intVarint()
        let schemaVersion = try reader.intVarint()
        var dictionaryColumn = try reader.section()
        var dictionary: [String] = []
        while !dictionaryColumn.isAtEnd {
            dictionary.append(try dictionaryColumn.string(length: try dictionaryColumn.intVarint()))
        }
        var ids = try reader.section(), times = try reader.section()
        var components = try reader.section(), operations = try reader.section(), channels = try reader.section()
        var videoLengths = try reader.section(), videoBytes = try reader.section()
        var idTags = try reader.section(), idValues = try reader.section()
        var flags = try reader.section(), statuses = try reader.section()
        var upBytes = try reader.section(), downBytes = try reader.section(), estimates = try reader.section()
        var durations = try reader.section(), attempts = try reader.section(), extras = try reader.section()

        func word(_ index: Int) throws -> String {
            guard index < dictionary.count else { throw ByteReader.Overrun() }
            return dictionary[index]
        }
        func optionalID() throws -> String? {
            switch IDTag(rawValue: try idTags.byte()) {
            case .null: return nil
            case .uuid: return UUIDText.lowercase(try idValues.uuid())
            case .text: return try idValues.string(length: try idValues.intVarint())
            case nil: throw ByteReader.Overrun()
            }
        }
        func optionalCount(_ reader: inout ByteReader) throws -> Int64? {
            let raw = try reader.varint()
            guard raw != 0 else { return nil }
            guard let value = Int64(exactly: raw - 1) else { throw ByteReader.Overrun() }
            return value
        }

        // Every event has 16 id bytes: a count the ids cannot back is damage, never an allocation.
        guard count <= (ids.end - ids.index) / 16 else {
            throw LedgerError(.corruptFrame, "the payload says \(count) events but holds the ids of \((ids.end - ids.index) / 16)")
        }
        var events: [ProxyRequestEvent] = []
        events.reserveCapacity(count)
        var timestamp: Int64 = 0
        for _ in 0..<count {
            let eventID = try ids.uuid()
            timestamp &+= try times.signedVarint()
            let component = try word(try components.intVarint())
            let operation = try word(try operations.intVarint())
            let channelIndex = try channels.intVarint()
            let channel = channelIndex == 0 ? nil : try word(channelIndex - 1)
            let videoLength = try videoLengths.intVarint()
            let video = videoLength == 0 ? nil : try videoBytes.string(length: videoLength - 1)
            let jobID = try optionalID()
            let correlationID = try optionalID()
            let flag = try flags.byte()
            let errorIndex = Int(flag >> 3)
            guard errorIndex <= errorTypeCodes.count else { throw ByteReader.Overrun() }
            let status = try optionalCount(&statuses).map { Int($0) }  // Int is 64-bit on every supported platform
            let up = try optionalCount(&upBytes)
            let down = try optionalCount(&downBytes)
            let estimateRaw = try estimates.varint()
            var estimate: Int64? = nil
            if estimateRaw == 1 {
                let (sum, overflow) = (up ?? 0).addingReportingOverflow(down ?? 0)
                guard !overflow else { throw ByteReader.Overrun() }
                estimate = sum
            } else if estimateRaw > 1 {
                guard let value = Int64(exactly: estimateRaw - 2) else { throw ByteReader.Overrun() }
                estimate = value
            }
            guard let duration = Int64(exactly: try durations.varint()) else { throw ByteReader.Overrun() }
            let attempt = try attempts.intVarint()
            let extraLength = try extras.intVarint()
            var extra: [String: JSONValue] = [:]
            if extraLength > 0, case .object(let object) = try JSONValue.parse(Array(try extras.take(extraLength - 1))) {
                extra = object
            }
            events.append(
                ProxyRequestEvent(
                    eventID: eventID, timestamp: LedgerTimestamp(microseconds: timestamp), component: component,
                    operation: operation, videoID: video, channelName: channel, jobID: jobID,
                    correlationID: correlationID, success: flag & 1 != 0,
                    errorType: errorIndex == 0 ? nil : errorTypeCodes[errorIndex - 1],
                    httpStatus: status, requestBytes: up, responseBytes: down,
                    estimatedBytes: estimate, bytesMeasured: flag & 2 != 0, durationMS: duration,
                    proxied: flag & 4 != 0, attempt: attempt, extra: extra))
        }
        return (schemaVersion, events)
    }
}
