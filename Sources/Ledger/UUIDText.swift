import Foundation

/// Fast canonical UUID text (RFC 9562 §4: `8-4-4-4-12` hex digits).
///
/// Foundation's `UUID(uuidString:)` and `uuidString` go through `sscanf`/`sprintf` on Linux, which
/// dominated the append path; these do the same work with a lookup table.
enum UUIDText {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Hex value of each byte: 0–15, 16 for `A`–`F` marked upper case (+16), 0xFF for anything else.
    private static let hexValues: [UInt8] = (0..<256).map { byte -> UInt8 in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(byte) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(byte) - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt8(byte) - UInt8(ascii: "A") + 26
        default: 0xFF
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

    private static func parse(_ bytes: UnsafeRawBufferPointer, _ lowercaseOnly: Bool) -> UUID? {
        guard bytes[8] == UInt8(ascii: "-"), bytes[13] == UInt8(ascii: "-"), bytes[18] == UInt8(ascii: "-"),
            bytes[23] == UInt8(ascii: "-")
        else { return nil }
        let limit: UInt8 = lowercaseOnly ? 15 : 31
        var out: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let ok = hexValues.withUnsafeBufferPointer { table in
            withUnsafeMutableBytes(of: &out) { raw -> Bool in
                var index = 0
                var combined: UInt8 = 0
                for byte in 0..<16 {
                    if index == 8 || index == 13 || index == 18 || index == 23 { index += 1 }
                    let high = table[Int(bytes[index])], low = table[Int(bytes[index + 1])]
                    combined |= (high > limit ? 0x80 : 0) | (low > limit ? 0x80 : 0)
                    raw[byte] = (high & 0x0F) << 4 | (low & 0x0F)
                    index += 2
                }
                return combined == 0
            }
        }
        return ok ? UUID(uuid: out) : nil
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
