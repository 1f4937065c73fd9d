import Foundation
import Ledger

/// Fast, allocation-free text encodings used on the bulk load path.
///
/// Foundation's `ISO8601DateFormatter` and `UUID.uuidString.lowercased()` cost several
/// allocations per call; at 500 k events/s that matters, so the projection writes these bytes
/// itself, straight into the row's bind buffer. The output is byte-for-byte what the ledger
/// writes (`LedgerTimestamp.rfc3339`, `DESIGN.md` §3).
enum TextEncoding {
    /// Microseconds in one UTC hour.
    static let microsecondsPerHour: Int64 = 3_600_000_000

    private static let microsecondsPerDay: Int64 = 86_400_000_000

    /// The start of the UTC hour containing `microseconds` (UTC µs since the Unix epoch).
    static func hourStart(microseconds: Int64) -> Int64 {
        let remainder = microseconds % microsecondsPerHour
        return microseconds - (remainder < 0 ? remainder + microsecondsPerHour : remainder)
    }

    /// RFC 3339 with six fraction digits (`2026-11-01T00:00:00.123456Z`) for UTC µs.
    static func rfc3339(microseconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        appendRFC3339(microseconds: microseconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The 36 lowercase characters (`8-4-4-4-12`) of `uuid`, as the ledger writes `event_id`.
    static func lowercase(_ uuid: UUID) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(36)
        appendLowercase(uuid, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the 27 UTF-8 bytes of ``rfc3339(microseconds:)`` to `bytes`.
    ///
    /// Years outside 0000…9999 fall back to `LedgerTimestamp.rfc3339`; those strings no longer
    /// sort chronologically.
    static func appendRFC3339(microseconds: Int64, to bytes: inout [UInt8]) {
        var days = microseconds / microsecondsPerDay
        var timeOfDay = microseconds % microsecondsPerDay
        if timeOfDay < 0 {
            timeOfDay += microsecondsPerDay
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        guard (0...9999).contains(year) else {
            bytes.append(contentsOf: LedgerTimestamp(microseconds: microseconds).rfc3339.utf8)
            return
        }
        let seconds = timeOfDay / 1_000_000
        func put(_ value: Int64, _ width: Int, then separator: UInt8?) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(truncatingIfNeeded: 48 + value / divisor % 10))
                divisor /= 10
            }
            if let separator { bytes.append(separator) }
        }
        put(year, 4, then: UInt8(ascii: "-"))
        put(month, 2, then: UInt8(ascii: "-"))
        put(day, 2, then: UInt8(ascii: "T"))
        put(seconds / 3600, 2, then: UInt8(ascii: ":"))
        put(seconds / 60 % 60, 2, then: UInt8(ascii: ":"))
        put(seconds % 60, 2, then: UInt8(ascii: "."))
        put(timeOfDay % 1_000_000, 6, then: UInt8(ascii: "Z"))
    }

    /// Appends the 36 UTF-8 bytes of ``lowercase(_:)`` to `bytes`.
    static func appendLowercase(_ uuid: UUID, to bytes: inout [UInt8]) {
        func hex(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 87 + nibble }
        withUnsafeBytes(of: uuid.uuid) { raw in
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    bytes.append(UInt8(ascii: "-"))
                }
                bytes.append(hex(byte >> 4))
                bytes.append(hex(byte & 0x0f))
            }
        }
    }

    /// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → proleptic Gregorian date.
    ///
    /// Source: <https://howardhinnant.github.io/date_algorithms.html#civil_from_days>.
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
