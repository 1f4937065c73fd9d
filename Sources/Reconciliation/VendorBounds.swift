public import Ledger

/// The ranges a vendor figure must fall in to be believed. A value outside them is a malformed
/// line (or JSON entry), never a crash: vendor files may be corrupt or hostile.
public enum VendorBounds {
    /// The largest byte count accepted for one request or one stats hour, in bytes: 2^53
    /// (8 PiB, and the largest integer a JSON number carries exactly).
    public static let maxBytes: Int64 = 1 << 53

    /// The instants accepted, UTC µs: 1970-01-01T00:00:00Z up to 9999-12-31T23:59:59.999999Z.
    public static let times: ClosedRange<Int64> = 0...253_402_300_799_999_999

    /// The largest duration accepted for one request, in ms: 366 days.
    public static let maxDurationMS: Int64 = 366 * 86_400_000

    /// Whether `bytes` is a plausible byte count: `0...maxBytes`.
    public static func isValidByteCount(_ bytes: Int64) -> Bool { (0...maxBytes).contains(bytes) }

    /// Whether `time` lies in ``times`` (years 1970 to 9999).
    public static func isValidTime(_ time: LedgerTimestamp) -> Bool { times.contains(time.microseconds) }

    /// A non-negative, finite number of ms (fractions truncated) no larger than ``maxDurationMS``.
    ///
    /// - Parameter milliseconds: The duration in ms; NaN, ±infinity, negative or huge values fail.
    /// - Returns: The whole milliseconds, or `nil` when out of range.
    public static func durationMS(_ milliseconds: Double) -> Int64? {
        guard milliseconds.isFinite, milliseconds >= 0, milliseconds < Double(maxDurationMS + 1) else { return nil }
        return Int64(milliseconds)
    }

    /// A non-negative integral number of bytes no larger than ``maxBytes``.
    ///
    /// - Parameter bytes: A byte count given as a JSON number (`1e3` is 1 000).
    /// - Returns: The bytes, or `nil` for NaN, infinities, fractions, negatives or values above 2^53.
    public static func byteCount(_ bytes: Double) -> Int64? {
        guard bytes.isFinite, bytes >= 0, bytes == bytes.rounded(), bytes <= Double(maxBytes) else { return nil }
        return Int64(bytes)
    }
}

/// Checked Int64 arithmetic that throws ``ReconciliationError`` `.outOfRange` instead of trapping.
enum CheckedMath {
    /// `a + b`.
    ///
    /// - Parameter what: What is being added, for the message ("the vendor bytes of 2026-11-01").
    /// - Throws: ``ReconciliationError`` `.outOfRange` when the sum does not fit in Int64.
    static func add(_ a: Int64, _ b: Int64, _ what: @autoclosure () -> String) throws(ReconciliationError) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow else {
            throw ReconciliationError(
                .outOfRange, "\(what()) add up to more than \(Int64.max) (Int64.max); the input cannot be right")
        }
        return sum
    }

    /// `a * b`.
    ///
    /// - Throws: ``ReconciliationError`` `.outOfRange` when the product does not fit in Int64.
    static func multiply(_ a: Int64, _ b: Int64, _ what: @autoclosure () -> String) throws(ReconciliationError) -> Int64
    {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { throw ReconciliationError(.outOfRange, "\(what()) is out of range") }
        return product
    }
}
