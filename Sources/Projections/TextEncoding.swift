import Foundation
import GRDB
import Ledger

/// Text forms the projection stores, byte for byte what the ledger writes (`docs/events.md`):
/// RFC 3339 UTC with six fraction digits, and lower-case UUIDs. The bulk loader appends them
/// straight into its bind buffer through the Ledger's allocation-free encoders.
enum TextEncoding {
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

extension TextEncoding {
    /// Appends the 16 bytes of `text` to `bytes` when `text` is a UUID in the lower-case
    /// canonical form the ledger writes (`8-4-4-4-12`, digits `0-9a-f`), so that the text is
    /// exactly recoverable from them (``ProjectionSchema/identifierText(_:)``).
    ///
    /// - Returns: `true` when it appended them; `false` (and `bytes` unchanged) for other text.
    static func appendUUIDBytes(of text: String, to bytes: inout [UInt8]) -> Bool {
        guard text.utf8.count == 36 else { return false }
        var text = text
        text.makeContiguousUTF8()  // a no-op for native strings
        let start = bytes.count
        let parsed =
            text.utf8.withContiguousStorageIfAvailable { characters in
                var index = 0
                while index < 36 {
                    if index == 8 || index == 13 || index == 18 || index == 23 {
                        guard characters[index] == UInt8(ascii: "-") else { return false }
                        index += 1
                        continue
                    }
                    guard let high = hexValue(characters[index]), let low = hexValue(characters[index + 1]) else {
                        return false
                    }
                    bytes.append(high << 4 | low)
                    index += 2
                }
                return true
            } ?? false
        if !parsed { bytes.removeSubrange(start...) }
        return parsed
    }

    /// The value of a lower-case hex digit.
    private static func hexValue(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// How `job_id` and `correlation_id` (and job names in `proxy_usage_hourly_by_key`) are
    /// stored: a canonical lower-case UUID as its 16 bytes, any other text as text.
    static func storedIdentifier(_ text: String) -> any DatabaseValueConvertible {
        var bytes: [UInt8] = []
        return appendUUIDBytes(of: text, to: &bytes) ? Data(bytes) : text
    }
}
