import Dispatch
import Foundation

/// JSON Lines (https://jsonlines.org) input of schema v1 events.
public enum JSONLines {
    /// Parses every non-blank line of `bytes` (LF or CRLF line ends) into events.
    ///
    /// - Parameter plausibleTime: when given, an event whose timestamp lies outside it is a bad
    ///   line (the clock sanity rule of `append`).
    /// - Throws: ``EventDecodingError`` for the first bad line, with its 1-based line number and
    ///   the field at fault. Nothing is returned then, so a caller appends all lines or none.
    public static func parse(_ bytes: [UInt8], plausibleTime: PlausibleTime? = nil) throws(EventDecodingError) -> [ProxyRequestEvent] {
        try parse(bytes, rules: AppendRules(plausibleTime: plausibleTime))
    }

    /// Parses every non-blank line of `bytes` into events, each checked and completed by `rules`.
    ///
    /// - Throws: ``EventDecodingError`` for the first bad line, with its 1-based line number.
    public static func parse(_ bytes: [UInt8], rules: AppendRules) throws(EventDecodingError) -> [ProxyRequestEvent] {
        var reader = JSONLinesReader(rules: rules)
        try bytes.withUnsafeBytes { buffer in Result { () throws(EventDecodingError) in try reader.consume(buffer) } }.get()
        return try reader.finish()
    }
}

/// Parses JSON Lines events from input that arrives in chunks (standard input), keeping only the
/// events and the one line that is not complete yet: memory grows with the events, not with the
/// input held twice.
///
/// ```swift
/// var reader = JSONLinesReader(plausibleTime: .standard())
/// while let chunk = read() { try reader.consume(chunk) }
/// let events = try reader.finish()
/// ```
public struct JSONLinesReader {
    /// The events parsed so far, in input order.
    public private(set) var events: [ProxyRequestEvent] = []
    private var pending: [UInt8] = []
    private var lineNumber = 0
    /// One lane per core: each parses half of a chunk's lines (with label caches of its own), and
    /// their events and errors are then taken in input order.
    private var lanes: [JSONLinesLane]
    /// The size of the whole input when known (a regular file on standard input), to reserve
    /// ``events`` once from the first chunk's bytes per line instead of growing it by doubling
    /// (each doubling copies every event so far, into fresh pages).
    private var expectedBytes: Int?
    private var bytesParsed = 0

    /// Chunks of fewer complete bytes than this are parsed on the calling thread alone.
    static let parallelThreshold = 64 << 10

    /// - Parameter plausibleTime: when given, an event whose timestamp lies outside it is a bad line.
    public init(plausibleTime: PlausibleTime? = nil) {
        self.init(rules: AppendRules(plausibleTime: plausibleTime))
    }

    /// - Parameters:
    ///   - rules: what each event must satisfy beyond the schema (``AppendRules``).
    ///   - expectedBytes: the input's total size in bytes when known in advance (a hint: any
    ///     size works, it only saves copies of the events parsed so far).
    public init(rules: AppendRules, expectedBytes: Int? = nil) {
        lanes = [JSONLinesLane(rules: rules), JSONLinesLane(rules: rules)]
        self.expectedBytes = expectedBytes
    }

    /// Parses every complete line of `chunk` (after what is pending from earlier chunks).
    /// - Throws: ``EventDecodingError`` for the first bad line, with its 1-based line number.
    public mutating func consume(_ chunk: UnsafeRawBufferPointer) throws(EventDecodingError) {
        var start = 0
        if !pending.isEmpty {
            guard let newline = Self.newline(in: chunk, from: 0) else {
                pending.append(contentsOf: chunk)
                return
            }
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<newline]))
            try parsePending()
            start = newline + 1
        }
        guard let last = Self.lastNewline(in: chunk, from: start) else {
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start...]))
            return
        }
        try parse(UnsafeRawBufferPointer(rebasing: chunk[start..<last]))
        pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[(last + 1)...]))
    }

    /// Parses the last line (one without a newline) and returns every event.
    public mutating func finish() throws(EventDecodingError) -> [ProxyRequestEvent] {
        if !pending.isEmpty { try parsePending() }
        return events
    }

    private mutating func parsePending() throws(EventDecodingError) {
        let line = pending
        pending = []
        try line.withUnsafeBytes { buffer in Result { () throws(EventDecodingError) in try self.parse(buffer) } }.get()
    }

    /// Parses the lines of `region` (LF-separated, the last one without its LF): halves on both
    /// lanes at once when it is large, then takes the events, or the first error, in order.
    private mutating func parse(_ region: UnsafeRawBufferPointer) throws(EventDecodingError) {
        let split = region.count >= Self.parallelThreshold ? Self.newline(in: region, from: region.count / 2) : nil
        if let split {
            let halves = [
                UnsafeRawBufferPointer(rebasing: region[..<split]), UnsafeRawBufferPointer(rebasing: region[(split + 1)...]),
            ]
            lanes.withUnsafeMutableBufferPointer { lanes in
                let work = LaneWork(lanes: lanes, halves: halves)
                DispatchQueue.concurrentPerform(iterations: 2) { work.run($0) }
            }
        } else {
            lanes[0].parse(region)
        }
        for index in lanes.indices {
            if var error = lanes[index].error {
                error.line = lineNumber + (error.line ?? 0)
                throw error
            }
            lineNumber += lanes[index].lines
            events.append(contentsOf: lanes[index].events)
            lanes[index].reset()
        }
        bytesParsed += region.count + 1
        reserveForTheWholeInput()
    }

    /// Once, after the first region: room for as many events as the expected input holds at the
    /// bytes per line seen so far (plus 2 %).
    private mutating func reserveForTheWholeInput() {
        guard let expected = expectedBytes, !events.isEmpty, bytesParsed > 0 else { return }
        expectedBytes = nil
        let estimate = Double(expected) / Double(bytesParsed) * Double(events.count) * 1.02
        if estimate < 100_000_000 { events.reserveCapacity(Int(estimate) + 16) }
    }

    private static func newline(in chunk: UnsafeRawBufferPointer, from start: Int) -> Int? {
        firstNewline(in: chunk, from: start)
    }

    /// The index of the last LF at or after `start`.
    private static func lastNewline(in chunk: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = chunk.count - 1
        while index >= start {
            if chunk[index] == 0x0A { return index }
            index -= 1
        }
        return nil
    }
}

/// The lanes and their halves of a region, for the threads of `concurrentPerform`. Each thread
/// reads only its own half and touches only its own lane, and the call returns once both are
/// done, so sharing the pointers is safe.
private struct LaneWork: @unchecked Sendable {
    let lanes: UnsafeMutableBufferPointer<JSONLinesLane>
    let halves: [UnsafeRawBufferPointer]

    func run(_ index: Int) { lanes[index].parse(halves[index]) }
}

/// One lane of ``JSONLinesReader``: parses a run of lines into events, stopping at the first bad
/// line (whose number, counted from the run's start, the error keeps).
struct JSONLinesLane {
    private let rules: AppendRules
    private(set) var events: [ProxyRequestEvent] = []
    private(set) var lines = 0
    private(set) var error: EventDecodingError?
    /// Reads the plain lines; the others go to the general parser.
    private var fast = EventLineParser()
    /// One shared copy of each component, operation and channel of the lines the general parser
    /// reads (they repeat on almost every line), so a large batch holds each such string once.
    private var labels = LabelTable()

    init(rules: AppendRules) { self.rules = rules }

    /// Parses every line of `region` (LF-separated) until the first bad one.
    mutating func parse(_ region: UnsafeRawBufferPointer) {
        var start = 0
        while error == nil {
            let end = firstNewline(in: region, from: start) ?? region.count
            parseLine(UnsafeRawBufferPointer(rebasing: region[start..<end]))
            guard end < region.count else { return }
            start = end + 1
        }
    }

    /// Forgets the events, count and error of the last run (keeping the caches).
    mutating func reset() {
        events.removeAll(keepingCapacity: true)
        lines = 0
        error = nil
    }

    private mutating func parseLine(_ raw: UnsafeRawBufferPointer) {
        lines += 1
        var line = raw
        if let last = line.last, last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
        do throws(EventDecodingError) {
            var event: ProxyRequestEvent
            if let plain = fast.parse(line) { event = plain } else { event = try generalEvent(line) }
            try rules.apply(to: &event)
            events.append(event)
        } catch {
            var located = error
            located.line = lines
            self.error = located
        }
    }

    /// A line off the fast path's plain shape, through the general parser (which also gives the
    /// error for a bad line), its labels shared.
    private mutating func generalEvent(_ line: UnsafeRawBufferPointer) throws(EventDecodingError) -> ProxyRequestEvent {
        var event = try ProxyRequestEvent(jsonBuffer: line)
        event.component = labels.shared(event.component)
        event.operation = labels.shared(event.operation)
        event.channelName = event.channelName.map { labels.shared($0) }
        return event
    }
}

/// The clock sanity rule: an event stamped before 2000 or more than a day after now is almost
/// certainly a broken clock or a unit mistake (seconds for microseconds), and the ledger is
/// immutable, so `append` refuses it unless told `--allow-any-time`.
public struct PlausibleTime: Sendable, Hashable {
    /// The earliest accepted timestamp (inclusive).
    public var earliest: LedgerTimestamp
    /// The latest accepted timestamp (inclusive).
    public var latest: LedgerTimestamp

    /// `[2000-01-01T00:00:00Z, now + 1 day]`.
    public static func standard(now: LedgerTimestamp = .now) -> PlausibleTime {
        PlausibleTime(
            earliest: LedgerTimestamp(microseconds: 946_684_800_000_000),
            latest: LedgerTimestamp(microseconds: now.microseconds &+ LedgerTimestamp.microsecondsPerDay))
    }

    /// Why `timestamp` is refused, or `nil` when it is plausible.
    public func reason(rejecting timestamp: LedgerTimestamp) -> String? {
        if timestamp < earliest {
            return "\(timestamp.rfc3339) is before \(earliest.rfc3339); pass --allow-any-time to append it anyway"
        }
        if timestamp > latest {
            return "\(timestamp.rfc3339) is more than a day in the future (after \(latest.rfc3339)); check the "
                + "producer's clock, or pass --allow-any-time to append it anyway"
        }
        return nil
    }
}

/// Shared copies of strings that repeat: ``shared(_:)`` returns the first equal string seen, so
/// repeats of a heap-allocated string are freed. Holds at most ``limit`` strings; beyond that,
/// strings are returned as they are.
struct LabelTable {
    static let limit = 4_096
    private var strings: Set<String> = []

    mutating func shared(_ string: String) -> String {
        guard string.utf8.count > 15 else { return string }  // stored inline: nothing to share
        if let existing = strings.firstIndex(of: string) { return strings[existing] }
        if strings.count < Self.limit { strings.insert(string) }
        return string
    }
}

/// The index of the first LF at or after `start` (`memchr`).
private func firstNewline(in chunk: UnsafeRawBufferPointer, from start: Int) -> Int? {
    guard let base = chunk.baseAddress, start < chunk.count, let found = memchr(base + start, 0x0A, chunk.count - start) else {
        return nil
    }
    return base.distance(to: UnsafeRawPointer(found))
}
