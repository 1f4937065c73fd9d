import Foundation
import Ledger

/// Text forms the projection stores, byte for byte what the ledger writes (`docs/events.md`):
/// RFC 3339 UTC with six fraction digits, and lower-case UUIDs. The bulk loader appends them
/// straight into its bind buffer through the Ledger's allocation-free encoders.
enum TextEncoding {
    /// Microseconds in one UTC hour.
    static let microsecondsPerHour: Int64 = 3_600_000_000

    /// The start of the UTC hour containing `microseconds` (UTC µs since the Unix epoch).
    static func hourStart(microseconds: Int64) -> Int64 {
        LedgerTimestamp(microseconds: microseconds).hourStart.microseconds
    }

    /// RFC 3339 with six fraction digits (`2026-11-01T00:00:00.123456Z`) for UTC µs.
    static func rfc3339(microseconds: Int64) -> String {
        LedgerTimestamp(microseconds: microseconds).rfc3339
    }

    /// The 36 lowercase characters (`8-4-4-4-12`) of `uuid`, as the ledger writes `event_id`.
    static func lowercase(_ uuid: UUID) -> String { uuid.lowercaseString }

    /// Appends the 27 UTF-8 bytes of ``rfc3339(microseconds:)`` to `bytes`.
    static func appendRFC3339(microseconds: Int64, to bytes: inout [UInt8]) {
        LedgerTimestamp(microseconds: microseconds).appendRFC3339(to: &bytes)
    }

    /// Appends the 36 UTF-8 bytes of ``lowercase(_:)`` to `bytes`.
    static func appendLowercase(_ uuid: UUID, to bytes: inout [UInt8]) {
        uuid.appendLowercase(to: &bytes)
    }
}
