import Ledger

/// The size of a reconciliation bucket.
public enum Granularity: String, Sendable, Hashable, Codable, CaseIterable {
    /// One hour.
    case hour
    /// One calendar day in the grid's UTC offset.
    case day

    /// The bucket length in microseconds.
    public var microseconds: Int64 { self == .hour ? LedgerTimestamp.microsecondsPerHour : LedgerTimestamp.microsecondsPerDay }
}

/// Half-open buckets `[start, start + size)` aligned to whole hours or days of a fixed UTC offset.
///
/// With offset `+00:00` hours and days are UTC. With `+05:30`, a day runs from 00:00 to 24:00 at
/// +05:30 (18:30Z to 18:30Z), and hours start at :30 UTC.
public struct BucketGrid: Sendable, Hashable {
    /// The bucket size.
    public var granularity: Granularity
    /// The offset from UTC whose local midnight and hours align the buckets, in seconds (east positive).
    public var utcOffsetSeconds: Int

    /// Creates a grid.
    ///
    /// - Parameters:
    ///   - granularity: Hour or day.
    ///   - utcOffsetSeconds: The aligning offset in seconds, `-86_399...86_399`; default 0 (UTC).
    public init(_ granularity: Granularity, utcOffsetSeconds: Int = 0) {
        self.granularity = granularity
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    private var offsetMicroseconds: Int64 { Int64(utcOffsetSeconds) * 1_000_000 }

    /// The start (UTC µs) of the bucket holding `microseconds`.
    public func start(of microseconds: Int64) -> Int64 {
        let size = granularity.microseconds
        let local = microseconds + offsetMicroseconds
        let floored = local >= 0 ? local / size * size : -((-local + size - 1) / size) * size
        return floored - offsetMicroseconds
    }

    /// The first bucket start at or after `microseconds`.
    public func ceiling(of microseconds: Int64) -> Int64 {
        let start = start(of: microseconds)
        return start == microseconds ? start : start + granularity.microseconds
    }

    /// The bucket's label in local time of the offset: `2026-11-01` for a day, or
    /// `2026-11-01T05:00+05:30` (`…Z` at offset 0) for an hour.
    public func label(of start: Int64) -> String {
        let local = LedgerTimestamp(microseconds: start + offsetMicroseconds).rfc3339
        guard granularity == .hour else { return String(local.prefix(10)) }
        return String(local.prefix(16)) + Self.offsetText(utcOffsetSeconds)
    }

    /// `Z` for 0, else `±HH:MM`.
    public static func offsetText(_ seconds: Int) -> String {
        guard seconds != 0 else { return "Z" }
        let minutes = abs(seconds) / 60
        let hh = minutes / 60, mm = minutes % 60
        return (seconds < 0 ? "-" : "+") + (hh < 10 ? "0" : "") + "\(hh):" + (mm < 10 ? "0" : "") + "\(mm)"
    }

    /// Parses `Z`, `UTC`, `±HH:MM`, `±HHMM` or `±HH` into seconds east of UTC.
    ///
    /// - Returns: `nil` when the text is not an offset below 24 h.
    public static func parseOffset(_ text: String) -> Int? {
        if text == "Z" || text == "z" || text.uppercased() == "UTC" { return 0 }
        guard let sign = text.first, sign == "+" || sign == "-" else { return nil }
        let digits = text.dropFirst().filter { $0 != ":" }
        guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), digits.count == 2 || digits.count == 4,
            let hours = Int(digits.prefix(2)), let minutes = Int(digits.count == 4 ? String(digits.suffix(2)) : "0"),
            hours < 24, minutes < 60
        else { return nil }
        return (hours * 3600 + minutes * 60) * (sign == "-" ? -1 : 1)
    }
}
