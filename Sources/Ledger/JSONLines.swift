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
        var reader = JSONLinesReader(plausibleTime: plausibleTime)
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
    private let plausibleTime: PlausibleTime?
    private var pending: [UInt8] = []
    private var lineNumber = 0
    /// One shared copy of each component, operation and channel seen (they repeat on almost
    /// every line), so that a large batch holds each such string once rather than once per event.
    private var labels = LabelTable()

    /// - Parameter plausibleTime: when given, an event whose timestamp lies outside it is a bad line.
    public init(plausibleTime: PlausibleTime? = nil) { self.plausibleTime = plausibleTime }

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
            let line = pending
            pending = []
            try line.withUnsafeBytes { buffer in Result { () throws(EventDecodingError) in try self.parseLine(buffer) } }.get()
            start = newline + 1
        }
        while start < chunk.count {
            guard let newline = Self.newline(in: chunk, from: start) else {
                pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start...]))
                return
            }
            try parseLine(UnsafeRawBufferPointer(rebasing: chunk[start..<newline]))
            start = newline + 1
        }
    }

    /// The index of the first LF at or after `start` (`memchr`).
    private static func newline(in chunk: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = chunk.baseAddress, start < chunk.count, let found = memchr(base + start, 0x0A, chunk.count - start) else {
            return nil
        }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// Parses the last line (one without a newline) and returns every event.
    public mutating func finish() throws(EventDecodingError) -> [ProxyRequestEvent] {
        if !pending.isEmpty {
            let line = pending
            pending = []
            try line.withUnsafeBytes { buffer in Result { () throws(EventDecodingError) in try self.parseLine(buffer) } }.get()
        }
        return events
    }

    private mutating func parseLine(_ raw: UnsafeRawBufferPointer) throws(EventDecodingError) {
        lineNumber += 1
        var line = raw
        if let last = line.last, last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
        do throws(EventDecodingError) {
            var event = try ProxyRequestEvent(jsonBuffer: line)
            if let reason = plausibleTime?.reason(rejecting: event.timestamp) {
                throw EventDecodingError(field: "timestamp", reason: reason)
            }
            event.component = labels.shared(event.component)
            event.operation = labels.shared(event.operation)
            event.channelName = event.channelName.map { labels.shared($0) }
            events.append(event)
        } catch {
            var located = error
            located.line = lineNumber
            throw located
        }
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
            latest: LedgerTimestamp(microseconds: now.microseconds &+ 86_400_000_000))
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
