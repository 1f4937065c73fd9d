import Foundation

/// The bytes ``EventLineParser`` looks for.
enum ASCII {
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let colon = UInt8(ascii: ":")
    static let comma = UInt8(ascii: ",")
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
}

/// A position in one line, reading the tokens of the fast path's plain shape.
struct LineCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var index = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isAtEnd: Bool { index == bytes.count }

    /// Skips JSON white space (space, tab, LF, CR), as ``JSONParser`` does.
    mutating func skipSpace() {
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else { return }
            index += 1
        }
    }

    /// Skips white space, then `byte` if it is next; `false` when it is not.
    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// The byte range inside a string at `index` made only of printable ASCII without escapes,
    /// moving past its closing quote; `nil` for any other string.
    mutating func plainString() -> Range<Int>? {
        guard index < bytes.count, bytes[index] == ASCII.quote else { return nil }
        let start = index + 1
        var end = Self.plainRun(bytes, from: start)
        while end < bytes.count {
            let byte = bytes[end]
            if byte == ASCII.quote {
                index = end + 1
                return start..<end
            }
            guard byte >= 0x20, byte < 0x80, byte != ASCII.backslash else { return nil }
            end += 1
        }
        return nil
    }

    /// The end of the run of whole 8-byte words from `start` whose bytes are all printable ASCII
    /// other than `"` and `\`, tested a word at a time (SWAR); the byte loop then goes on from
    /// there.
    private static func plainRun(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        /// The high bit of each byte of `word` that is zero.
        func zeroBytes(_ word: UInt64) -> UInt64 { (word &- ones) & ~word & highs }
        var end = start
        while end + 8 <= bytes.count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: end, as: UInt64.self))
            let stops = zeroBytes(word ^ (ones &* UInt64(ASCII.quote))) | zeroBytes(word ^ (ones &* UInt64(ASCII.backslash)))
                | ((word &- ones &* 0x20) & ~word & highs) | (word & highs)
            guard stops == 0 else { return end }
            end += 8
        }
        return end
    }

    /// The value at `index` (after white space), or `nil` when it is off the plain shape:
    /// an object, an array, a negative number, a fraction, an exponent, a non-plain string.
    mutating func value() -> LineToken? {
        skipSpace()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case ASCII.quote: return plainString().map { .string($0) }
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        case ASCII.zero...ASCII.nine: return integer()
        default: return nil
        }
    }

    private mutating func literal(_ text: StaticString, _ token: LineToken) -> LineToken? {
        let count = text.utf8CodeUnitCount
        guard bytes.count - index >= count, let base = bytes.baseAddress,
            memcmp(base + index, text.utf8Start, count) == 0
        else { return nil }
        index += count
        return token
    }

    /// Up to 18 digits (always within Int64), not followed by `.`, an exponent or another digit
    /// after a leading zero.
    private mutating func integer() -> LineToken? {
        var value: Int64 = 0
        var digits = 0
        if bytes[index] == ASCII.zero {
            index += 1
            digits = 1
        } else {
            while index < bytes.count, bytes[index] >= ASCII.zero, bytes[index] <= ASCII.nine {
                guard digits < 18 else { return nil }
                value = value * 10 + Int64(bytes[index] - ASCII.zero)
                digits += 1
                index += 1
            }
        }
        if index < bytes.count {
            let next = bytes[index]
            guard next != UInt8(ascii: "."), next != UInt8(ascii: "e"), next != UInt8(ascii: "E"),
                next < ASCII.zero || next > ASCII.nine
            else { return nil }
        }
        return .integer(value)
    }
}

/// The members of one line, by field; a field missing reads as `null`, as in the general parser.
struct LineFields {
    private let tokens: UnsafeMutableBufferPointer<LineToken>
    private var present: UInt32 = 0

    init(tokens: UnsafeMutableBufferPointer<LineToken>) { self.tokens = tokens }

    /// Stores `token` for `field`; `false` when the field was given already.
    mutating func set(_ field: EventField, _ token: LineToken) -> Bool {
        let bit: UInt32 = 1 << UInt32(field.rawValue)
        guard present & bit == 0 else { return false }
        present |= bit
        tokens[field.rawValue] = token
        return true
    }

    subscript(field: EventField) -> LineToken {
        present & (1 << UInt32(field.rawValue)) != 0 ? tokens[field.rawValue] : .null
    }

    /// `.some(nil)` for null, `.some(range)` for a string, `nil` for another type.
    func optionalRange(_ field: EventField) -> Range<Int>?? {
        switch self[field] {
        case .null: return .some(nil)
        case .string(let range): return .some(range)
        default: return nil
        }
    }

    /// ``optionalRange(_:)`` as text.
    func optionalString(_ field: EventField, _ line: UnsafeRawBufferPointer) -> String?? {
        optionalRange(field).map { range in range.map { String(decoding: UnsafeRawBufferPointer(rebasing: line[$0]), as: UTF8.self) } }
    }

    /// The value, `fallback` for null, `nil` for another type.
    func bool(_ field: EventField, default fallback: Bool) -> Bool? {
        switch self[field] {
        case .bool(let value): return value
        case .null: return fallback
        default: return nil
        }
    }

    /// `.some(nil)` for null, the value when it lies in `range`, else `nil`.
    func integer(_ field: EventField, _ range: ClosedRange<Int64>) -> Int64?? {
        switch self[field] {
        case .null: return .some(nil)
        case .integer(let value) where range.contains(value): return .some(value)
        default: return nil
        }
    }

    /// The integer fields, or `nil` when one is of another type or out of its range.
    func counts() -> LineCounts? {
        guard let status = integer(.httpStatus, ProxyRequestEvent.httpStatusRange),
            let up = integer(.requestBytes, ProxyRequestEvent.byteRange),
            let down = integer(.responseBytes, ProxyRequestEvent.byteRange),
            let estimate = integer(.estimatedBytes, ProxyRequestEvent.estimatedByteRange),
            case .integer(let duration) = self[.durationMS], ProxyRequestEvent.durationRange.contains(duration),
            let attempt = integer(.attempt, ProxyRequestEvent.attemptRange)
        else { return nil }
        return LineCounts(
            httpStatus: status, requestBytes: up, responseBytes: down, estimatedBytes: estimate,
            durationMS: duration, attempt: attempt ?? 1)
    }

    /// `.some(nil)` for null, the schema value named by a string, `nil` for anything else.
    func errorType(_ line: UnsafeRawBufferPointer) -> ProxyErrorType?? {
        switch self[.errorType] {
        case .null: return .some(nil)
        case .string(let range):
            let text = UnsafeRawBufferPointer(rebasing: line[range])
            for (name, type) in Self.errorTypeNames where name.withUnsafeBytes({ bytesEqual($0, text) }) {
                return .some(type)
            }
            return nil
        default: return nil
        }
    }

    private static let errorTypeNames: [([UInt8], ProxyErrorType)] = ProxyErrorType.allCases.map { (Array($0.rawValue.utf8), $0) }
}

/// The integer fields of one line, each within its ``ProxyRequestEvent/integerRanges`` range.
struct LineCounts {
    var httpStatus: Int64?
    var requestBytes: Int64?
    var responseBytes: Int64?
    var estimatedBytes: Int64?
    var durationMS: Int64
    var attempt: Int64
}

/// Shared strings for labels that repeat from line to line: a direct-mapped table by hash, each
/// slot holding the last string that landed there, so a repeat costs a hash and a comparison and
/// every event of a batch shares one copy of the string.
struct LabelCache {
    private static let slotCount = 1_024
    private var slots: [String?] = []

    mutating func string(_ bytes: UnsafeRawBufferPointer) -> String {
        if slots.isEmpty { slots = [String?](repeating: nil, count: Self.slotCount) }
        let slot = Int(Self.hash(bytes) % UInt64(Self.slotCount))
        if var existing = slots[slot], existing.withUTF8({ bytesEqual(UnsafeRawBufferPointer($0), bytes) }) {
            return existing
        }
        let string = String(decoding: bytes, as: UTF8.self)
        slots[slot] = string
        return string
    }

    /// FNV-1a, 64 bits.
    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }
}
