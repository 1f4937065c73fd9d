public import Foundation

/// Fast canonical UUID text (RFC 9562 §4: `8-4-4-4-12` hex digits).
///
/// Foundation's `UUID(uuidString:)` and `uuidString` go through `sscanf`/`sprintf` on Linux, which
/// dominated the append path; these do the same work with a lookup table.
enum UUIDText {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Hex value of each byte: 0–15 for `0`–`9` and `a`–`f`, the value + 0x40 for `A`–`F` (upper
    /// case), 0x80 for anything else.
    private static let hexValues: [UInt8] = (0..<256).map { byte -> UInt8 in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(byte) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(byte) - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): (UInt8(byte) - UInt8(ascii: "A") + 10) | 0x40
        default: 0x80
        }
    }

    /// Parses the 36-character canonical form. Accepts upper- and lower-case digits unless
    /// `lowercaseOnly`, in which case upper-case text is rejected (so it can be kept verbatim).
    static func parse(_ text: String, lowercaseOnly: Bool = false) -> UUID? {
        guard text.utf8.count == 36 else { return nil }
        if let parsed = text.utf8.withContiguousStorageIfAvailable({ parse(UnsafeRawBufferPointer($0), lowercaseOnly) }) {
            return parsed
        }
        return Array(text.utf8).withUnsafeBytes { parse($0, lowercaseOnly) }
    }

    /// ``parse(_:lowercaseOnly:)`` over UTF-8 bytes in place, either case.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> UUID? {
        bytes.count == 36 ? parse(bytes, false) : nil
    }

    /// Straight-line: the 16 byte pairs at their fixed offsets, every digit's flags or-ed into one
    /// byte that is checked once at the end (this runs twice per event on the append path).
    private static func parse(_ bytes: UnsafeRawBufferPointer, _ lowercaseOnly: Bool) -> UUID? {
        guard bytes[8] == UInt8(ascii: "-"), bytes[13] == UInt8(ascii: "-"), bytes[18] == UInt8(ascii: "-"),
            bytes[23] == UInt8(ascii: "-")
        else { return nil }
        return hexValues.withUnsafeBufferPointer { table -> UUID? in
            var flags: UInt8 = 0
            @inline(__always) func pair(_ offset: Int) -> UInt8 {
                let high = table[Int(bytes[offset])], low = table[Int(bytes[offset + 1])]
                flags |= high | low
                return (high & 0x0F) << 4 | (low & 0x0F)
            }
            let uuid: uuid_t = (
                pair(0), pair(2), pair(4), pair(6), pair(9), pair(11), pair(14), pair(16),
                pair(19), pair(21), pair(24), pair(26), pair(28), pair(30), pair(32), pair(34))
            let rejected: UInt8 = lowercaseOnly ? 0xC0 : 0x80
            return flags & rejected == 0 ? UUID(uuid: uuid) : nil
        }
    }

    /// The lower-case canonical text of `uuid`.
    static func lowercase(_ uuid: UUID) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(36)
        appendLowercase(uuid, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendLowercase(_ uuid: UUID, to out: inout [UInt8]) {
        withUnsafeBytes(of: uuid.uuid) { raw in
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
    }
}

extension UUID {
    /// The lower-case canonical text (`8-4-4-4-12`), as the ledger writes event ids.
    public var lowercaseString: String { UUIDText.lowercase(self) }

    /// Appends the 36 UTF-8 bytes of ``lowercaseString`` to `out` without allocating a `String`.
    public func appendLowercase(to out: inout [UInt8]) { UUIDText.appendLowercase(self, to: &out) }
}
