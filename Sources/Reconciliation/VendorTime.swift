public import Ledger
import Foundation

/// Parses the date-times found in vendor exports. An explicit offset is required: a time without
/// one is rejected, never assumed to be UTC.
///
/// Accepted (RFC 3339 §5.6 and the ISO 8601 variants common in exports): `T` or a space between
/// date and time; an optional fraction; then `Z`, `±HH:MM`, `±HHMM` or `±HH`, optionally after a
/// space. Examples: `2026-11-01T10:15:00+05:30`, `2026-11-01 10:15:00.25 -0700`, `2026-11-01T00:00:00Z`.
public enum VendorTime {
    /// Parses `text` to UTC microseconds.
    ///
    /// - Parameter text: The date-time.
    /// - Returns: The instant, or `nil` when the text is not of an accepted form or has no offset.
    public static func parse(_ text: some StringProtocol) -> LedgerTimestamp? {
        var value = Array(text.trimmingCharacters(in: .whitespaces).utf8)
        guard value.count >= 20 else { return nil }
        // Locate the offset: the last 'Z', '+' or '-' after the time of day (index 19 or later).
        guard let signIndex = value.indices.last(where: { index in
            index >= 19 && [UInt8(ascii: "Z"), UInt8(ascii: "z"), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(value[index])
        }) else { return nil }
        var head = Array(value[..<signIndex])
        while head.last == UInt8(ascii: " ") { head.removeLast() }
        var offset = Array(value[signIndex...])
        if offset.count > 1 {
            let digits = offset.dropFirst()
            guard digits.allSatisfy({ $0 == UInt8(ascii: ":") || (48...57).contains($0) }) else { return nil }
            let plain = digits.filter { $0 != UInt8(ascii: ":") }
            switch plain.count {
            case 2: offset = [offset[0]] + plain + Array(":00".utf8)
            case 4: offset = [offset[0]] + plain.prefix(2) + [UInt8(ascii: ":")] + plain.suffix(2)
            default: return nil
            }
        } else if offset != [UInt8(ascii: "Z")] && offset != [UInt8(ascii: "z")] {
            return nil
        }
        value = head + offset
        return LedgerTimestamp(rfc3339: String(decoding: value, as: UTF8.self))
    }
}
