import Foundation

/// The columnar encoding of one frame's batch of events (before zstd).
///
/// Every field is stored as its own column so that zstd sees like next to like: ids as 16 raw
/// bytes, timestamps as ZigZag deltas, repeated strings through a per-frame dictionary, integers as
/// LEB128 varints. The byte layout is documented in `docs/ledger-format.md`.
enum BatchCodec {
    /// The payload encoding version, the first byte of every decoded payload.
    static let version: UInt8 = 1

    private enum IDTag: UInt8 { case null = 0, uuid = 1, text = 2 }

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
        let count = events.count
        var labels = FrameLabels()
        var dictionaryColumn = ByteWriter()
        func intern(_ string: String) -> Int {
            labels.index(of: string) { dictionaryColumn.varint($0.utf8.count); dictionaryColumn.raw($0.utf8) }
        }
        var ids = ByteWriter(capacity: count * 16)
        var times = ByteWriter(capacity: count * 3)
        var components = ByteWriter(capacity: count)
        var operations = ByteWriter(capacity: count)
        var channels = ByteWriter(capacity: count)
        var videoLengths = ByteWriter(capacity: count)
        var videoBytes = ByteWriter(capacity: count * 11)
        var idTags = ByteWriter(capacity: count * 2)
        var idValues = ByteWriter(capacity: count * 32)
        var flags = ByteWriter(capacity: count)
        var statuses = ByteWriter(capacity: count * 2)
        var upBytes = ByteWriter(capacity: count * 2)
        var downBytes = ByteWriter(capacity: count * 3)
        var estimates = ByteWriter(capacity: count)
        var durations = ByteWriter(capacity: count * 2)
        var attempts = ByteWriter(capacity: count)
        var extras = ByteWriter()

        func optionalID(_ value: String?) {
            guard let value else { return idTags.byte(IDTag.null.rawValue) }
            if let uuid = UUIDText.parse(value, lowercaseOnly: true) {
                idTags.byte(IDTag.uuid.rawValue)
                idValues.uuid(uuid)
            } else {
                idTags.byte(IDTag.text.rawValue)
                idValues.varint(value.utf8.count)
                idValues.raw(value.utf8)
            }
        }
        /// `value` as unsigned, or `.invalidEvent` naming the event and field when it is negative.
        func unsigned(_ value: Int64, _ field: String, _ event: ProxyRequestEvent) throws(LedgerError) -> UInt64 {
            guard let result = UInt64(exactly: value) else {
                let id = UUIDText.lowercase(event.eventID)
                throw LedgerError(.invalidEvent, "event \(id): field \"\(field)\" is negative (\(value))")
            }
            return result
        }
        /// 0 for nil, else the value + 1 (cannot overflow: the value is at most Int64.max).
        func optionalCount(_ value: Int64?, _ field: String, _ event: ProxyRequestEvent) throws(LedgerError) -> UInt64 {
            guard let value else { return 0 }
            return try unsigned(value, field, event) + 1
        }

        var previous: Int64 = 0
        /// One event's fields, onto the ends of the columns. The event is passed borrowed (by
        /// index from the array): `for event in events` would copy every event, retaining its strings.
        func encodeOne(_ event: ProxyRequestEvent) throws(LedgerError) {
            ids.uuid(event.eventID)
            times.signedVarint(event.timestamp.microseconds &- previous)
            previous = event.timestamp.microseconds
            components.varint(intern(event.component))
            operations.varint(intern(event.operation))
            channels.varint(event.channelName.map { intern($0) + 1 } ?? 0)
            if let video = event.videoID {
                videoLengths.varint(video.utf8.count + 1)
                videoBytes.raw(video.utf8)
            } else {
                videoLengths.varint(0)
            }
            optionalID(event.jobID)
            optionalID(event.correlationID)
            let errorIndex = event.errorType.flatMap { errorTypeCodes.firstIndex(of: $0) }.map { $0 + 1 } ?? 0
            flags.byte(
                (event.success ? 1 : 0) | (event.bytesMeasured ? 2 : 0) | (event.proxied ? 4 : 0)
                    | UInt8(errorIndex << 3))
            statuses.varint(try optionalCount(event.httpStatus.map { Int64($0) }, "http_status", event))
            upBytes.varint(try optionalCount(event.requestBytes, "request_bytes", event))
            downBytes.varint(try optionalCount(event.responseBytes, "response_bytes", event))
            if let estimate = event.estimatedBytes {
                var isSum = false
                if let up = event.requestBytes, let down = event.responseBytes {
                    let (sum, overflow) = up.addingReportingOverflow(down)
                    isSum = !overflow && sum == estimate
                }
                estimates.varint(isSum ? 1 : try unsigned(estimate, "estimated_bytes", event) + 2)
            } else {
                estimates.varint(0)
            }
            durations.varint(try unsigned(event.durationMS, "duration_ms", event))
            attempts.varint(try unsigned(Int64(event.attempt), "attempt", event))
            if event.extra.isEmpty {
                extras.varint(0)
            } else {
                var json = JSONWriter()
                json.value(.object(event.extra))
                extras.varint(json.bytes.count + 1)
                extras.raw(json.bytes)
            }
        }
        for index in events.indices { try encodeOne(events[index]) }

        var out = ByteWriter(capacity: count * 80 + 64)
        out.byte(version)
        out.varint(count)
        out.varint(schemaVersion)
        for column in [dictionaryColumn, ids, times, components, operations, channels, videoLengths, videoBytes,
                       idTags, idValues, flags, statuses, upBytes, downBytes, estimates, durations, attempts, extras] {
            out.section(column)
        }
        return out.bytes
    }

    /// Decodes a payload made by ``encode(_:schemaVersion:)``.
    /// - Throws: `ByteReader.Overrun` or `LedgerError` `.corruptFrame` on malformed bytes.
    static func decode(_ payload: [UInt8]) throws -> (schemaVersion: Int, events: [ProxyRequestEvent]) {
        var reader = ByteReader(payload)
        guard try reader.byte() == version else {
            throw LedgerError(.corruptFrame, "unknown payload encoding version")
        }
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

/// The per-frame dictionary of repeated labels (component, operation, channel), numbered in order
/// of first use. A frame holds a handful of distinct labels, so a linear scan comparing strings
/// (identical storage compares in one step) beats hashing every occurrence; past
/// `linearLimit` labels it falls back to a `Dictionary`.
struct FrameLabels {
    private static let linearLimit = 16
    private var recent: [String] = []
    private var hashed: [String: Int] = [:]
    private var lastHit = 0

    /// The number of `label`, calling `added` when it is new (to write it to the dictionary column).
    @inline(__always) mutating func index(of label: String, added: (String) -> Void) -> Int {
        if lastHit < recent.count, recent[lastHit] == label { return lastHit }
        if hashed.isEmpty {
            for index in recent.indices where recent[index] == label {
                lastHit = index
                return index
            }
            if recent.count < Self.linearLimit {
                recent.append(label)
                added(label)
                lastHit = recent.count - 1
                return lastHit
            }
            for index in recent.indices { hashed[recent[index]] = index }
        }
        if let index = hashed[label] { return index }
        let index = hashed.count
        hashed[label] = index
        added(label)
        return index
    }
}
