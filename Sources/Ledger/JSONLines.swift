/// JSON Lines (https://jsonlines.org) input of schema v1 events.
public enum JSONLines {
    /// Parses every non-blank line of `bytes` (LF or CRLF line ends) into events.
    ///
    /// - Parameter plausibleTime: when given, an event whose timestamp lies outside it is a bad
    ///   line (the clock sanity rule of `append`).
    /// - Throws: ``EventDecodingError`` for the first bad line, with its 1-based line number and
    ///   the field at fault. Nothing is returned then, so a caller appends all lines or none.
    public static func parse(_ bytes: [UInt8], plausibleTime: PlausibleTime? = nil) throws(EventDecodingError) -> [ProxyRequestEvent] {
        var events: [ProxyRequestEvent] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            var last = end
            if last > start, bytes[last - 1] == 0x0D { last -= 1 }
            let line = bytes[start..<last]
            if line.contains(where: { $0 != 0x20 && $0 != 0x09 }) {
                do throws(EventDecodingError) {
                    let event = try ProxyRequestEvent(jsonLine: Array(line))
                    if let reason = plausibleTime?.reason(rejecting: event.timestamp) {
                        throw EventDecodingError(field: "timestamp", reason: reason)
                    }
                    events.append(event)
                } catch {
                    var located = error
                    located.line = lineNumber
                    throw located
                }
            }
            start = end + 1
        }
        return events
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
