public import Foundation

/// An instant as UTC microseconds since 1970-01-01T00:00:00Z.
///
/// Parses and formats RFC 3339 (`2026-11-01T00:00:00.123456Z`); parsing accepts any offset
/// (`+01:00`) and 0–9 fraction digits, formatting always writes UTC with six fraction digits.
public struct LedgerTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since the Unix epoch, UTC.
    public var microseconds: Int64

    /// Microseconds in an hour: 3,600,000,000.
    public static let microsecondsPerHour: Int64 = 3_600_000_000
    /// Microseconds in a 24-hour day: 86,400,000,000 (a UTC day; local days may be 23 or 25 hours).
    public static let microsecondsPerDay: Int64 = 86_400_000_000

    public init(microseconds: Int64) {
        self.microseconds = microseconds
    }

    public init(_ date: Date) {
        self.microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The current time.
    public static var now: LedgerTimestamp { LedgerTimestamp(Date()) }

    public var date: Date { Date(timeIntervalSince1970: Double(microseconds) / 1_000_000) }

    public static func < (lhs: LedgerTimestamp, rhs: LedgerTimestamp) -> Bool {
        lhs.microseconds < rhs.microseconds
    }

    public var description: String { rfc3339 }
}
