import Foundation

/// Builds one frame's columnar payload event by event (``BatchCodec/encode(_:schemaVersion:)``).
///
/// Each column is its own buffer; ``finish(schemaVersion:)`` writes them as length-prefixed
/// sections in the order of `docs/ledger-format.md`. Events are read in place through a pointer:
/// passing one by value copies it (retaining each of its strings), even as a `borrowing` argument.
struct BatchEncoder {
    private let count: Int
    private var dictionary = ByteWriter()
    private var dictionarySize = 0
    /// One label table per column: components and operations stay within the linear scan even when
    /// a frame names many channels.
    private var componentLabels = FrameLabels(), operationLabels = FrameLabels(), channelLabels = FrameLabels()
    private var ids: ByteWriter, times: ByteWriter, components: ByteWriter, operations: ByteWriter
    private var channels: ByteWriter, videoLengths: ByteWriter, videoBytes: ByteWriter
    private var idTags: ByteWriter, idValues: ByteWriter, flags: ByteWriter, statuses: ByteWriter
    private var upBytes: ByteWriter, downBytes: ByteWriter, estimates: ByteWriter
    private var durations: ByteWriter, attempts: ByteWriter, extras = ByteWriter()
    private var previousTimestamp: Int64 = 0

    init(capacity count: Int) {
        self.count = count
        ids = ByteWriter(capacity: count * 16)
        times = ByteWriter(capacity: count * 3)
        components = ByteWriter(capacity: count)
        operations = ByteWriter(capacity: count)
        channels = ByteWriter(capacity: count)
        videoLengths = ByteWriter(capacity: count)
        videoBytes = ByteWriter(capacity: count * 11)
        idTags = ByteWriter(capacity: count * 2)
        idValues = ByteWriter(capacity: count * 32)
        flags = ByteWriter(capacity: count)
        statuses = ByteWriter(capacity: count * 2)
        upBytes = ByteWriter(capacity: count * 2)
        downBytes = ByteWriter(capacity: count * 3)
        estimates = ByteWriter(capacity: count)
        durations = ByteWriter(capacity: count * 2)
        attempts = ByteWriter(capacity: count)
    }

    /// Appends one event's fields to the ends of the columns.
    /// - Throws: ``LedgerError`` `.invalidEvent` naming the event id and field when a count that the
    ///   format stores unsigned is negative.
    mutating func add(_ event: UnsafePointer<ProxyRequestEvent>) throws(LedgerError) {
        ids.uuid(event.pointee.eventID)
        times.signedVarint(event.pointee.timestamp.microseconds &- previousTimestamp)
        previousTimestamp = event.pointee.timestamp.microseconds
        components.varint(Self.intern(event.pointee.component, in: &componentLabels, dictionary: &dictionary, size: &dictionarySize))
        operations.varint(Self.intern(event.pointee.operation, in: &operationLabels, dictionary: &dictionary, size: &dictionarySize))
        if let channel = event.pointee.channelName {
            channels.varint(Self.intern(channel, in: &channelLabels, dictionary: &dictionary, size: &dictionarySize) + 1)
        } else {
            channels.varint(0)
        }
        if let video = event.pointee.videoID {
            videoLengths.varint(video.utf8.count + 1)
            videoBytes.raw(video.utf8)
        } else {
            videoLengths.varint(0)
        }
        optionalID(event.pointee.jobID)
        optionalID(event.pointee.correlationID)
        let errorIndex = event.pointee.errorType.flatMap { BatchCodec.errorTypeCodes.firstIndex(of: $0) }.map { $0 + 1 } ?? 0
        flags.byte((event.pointee.success ? 1 : 0) | (event.pointee.bytesMeasured ? 2 : 0) | (event.pointee.proxied ? 4 : 0) | UInt8(errorIndex << 3))
        try addCounts(event)
        if event.pointee.extra.isEmpty {
            extras.varint(0)
        } else {
            var json = JSONWriter()
            json.value(.object(event.pointee.extra))
            extras.varint(json.bytes.count + 1)
            extras.raw(json.bytes)
        }
    }

    /// The status, byte counts, estimate, duration and attempt columns.
    private mutating func addCounts(_ event: UnsafePointer<ProxyRequestEvent>) throws(LedgerError) {
        let id = event.pointee.eventID
        statuses.varint(try Self.optionalCount(event.pointee.httpStatus.map { Int64($0) }, "http_status", id))
        upBytes.varint(try Self.optionalCount(event.pointee.requestBytes, "request_bytes", id))
        downBytes.varint(try Self.optionalCount(event.pointee.responseBytes, "response_bytes", id))
        if let estimate = event.pointee.estimatedBytes {
            var isSum = false
            if let up = event.pointee.requestBytes, let down = event.pointee.responseBytes {
                let (sum, overflow) = up.addingReportingOverflow(down)
                isSum = !overflow && sum == estimate
            }
            estimates.varint(isSum ? 1 : try Self.unsigned(estimate, "estimated_bytes", id) + 2)
        } else {
            estimates.varint(0)
        }
        durations.varint(try Self.unsigned(event.pointee.durationMS, "duration_ms", id))
        attempts.varint(try Self.unsigned(Int64(event.pointee.attempt), "attempt", id))
    }

    /// The payload: version, count, schema version, then every column as a section.
    consuming func finish(schemaVersion: Int) -> [UInt8] {
        var out = ByteWriter(capacity: count * 80 + 64)
        out.byte(BatchCodec.version)
        out.varint(count)
        out.varint(schemaVersion)
        for column in [dictionary, ids, times, components, operations, channels, videoLengths, videoBytes,
                       idTags, idValues, flags, statuses, upBytes, downBytes, estimates, durations, attempts, extras] {
            out.section(column)
        }
        return out.bytes
    }

    /// A job or correlation id: 16 raw bytes when it is a lower-case UUID, else its text verbatim.
    private mutating func optionalID(_ value: String?) {
        guard let value else { return idTags.byte(BatchCodec.IDTag.null.rawValue) }
        if let uuid = UUIDText.parse(value, lowercaseOnly: true) {
            idTags.byte(BatchCodec.IDTag.uuid.rawValue)
            idValues.uuid(uuid)
        } else {
            idTags.byte(BatchCodec.IDTag.text.rawValue)
            idValues.varint(value.utf8.count)
            idValues.raw(value.utf8)
        }
    }

    /// The dictionary number of `label`, added to the dictionary column when `labels` lacks it.
    private static func intern(_ label: String, in labels: inout FrameLabels, dictionary: inout ByteWriter, size: inout Int) -> Int {
        labels.index(of: label) {
            dictionary.varint(label.utf8.count)
            dictionary.raw(label.utf8)
            size += 1
            return size - 1
        }
    }

    /// `value` as unsigned, or `.invalidEvent` naming the event and field when it is negative.
    private static func unsigned(_ value: Int64, _ field: String, _ id: UUID) throws(LedgerError) -> UInt64 {
        guard let result = UInt64(exactly: value) else {
            throw LedgerError(.invalidEvent, "event \(UUIDText.lowercase(id)): field \"\(field)\" is negative (\(value))")
        }
        return result
    }

    /// 0 for nil, else the value + 1 (cannot overflow: the value is at most Int64.max).
    private static func optionalCount(_ value: Int64?, _ field: String, _ id: UUID) throws(LedgerError) -> UInt64 {
        guard let value else { return 0 }
        return try unsigned(value, field, id) + 1
    }
}

/// One column's labels (component, operation or channel) and their numbers in the frame's
/// dictionary. A column holds a handful of distinct labels, so a linear scan comparing strings
/// (identical storage compares in one step) beats hashing every occurrence; past `linearLimit`
/// labels it falls back to a `Dictionary`.
struct FrameLabels {
    private static let linearLimit = 16
    private var recent: [(label: String, number: Int)] = []
    private var hashed: [String: Int] = [:]
    private var lastHit = 0

    /// The number of `label`; `assign` gives a new label its number (and writes it out).
    @inline(__always) mutating func index(of label: String, assign: () -> Int) -> Int {
        if lastHit < recent.count, recent[lastHit].label == label { return recent[lastHit].number }
        if hashed.isEmpty {
            for index in recent.indices where recent[index].label == label {
                lastHit = index
                return recent[index].number
            }
            if recent.count < Self.linearLimit {
                recent.append((label, assign()))
                lastHit = recent.count - 1
                return recent[lastHit].number
            }
            for entry in recent { hashed[entry.label] = entry.number }
        }
        if let number = hashed[label] { return number }
        let number = assign()
        hashed[label] = number
        return number
    }
}
