/// A strict RFC 8259 parser over raw bytes, for event lines: the append path's hot loop.
///
/// Stricter than most: a duplicate key in an object is an error (which of two `request_bytes`
/// would be billed?), invalid UTF-8 is an error, and nesting deeper than 64 levels is refused.
/// Numbers without a fraction or exponent that fit in `Int64` are `.integer`; others are
/// `.integer` when they are whole and within ±2^53 (so `1e3` is 1000), else `.number`.
struct JSONParser {
    /// Why a text is not JSON, with the byte offset where parsing stopped.
    struct SyntaxError: Error, CustomStringConvertible {
        var offset: Int
        var reason: String

        var description: String { "not valid JSON: \(reason) at byte \(offset + 1)" }
    }

    static let maximumDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses one JSON text, which must fill `bytes` but for surrounding white space.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected bytes after the JSON value") }
        return value
    }

    /// Parses one JSON object, keeping its members in order. Its own keys are not checked for
    /// duplicates (the caller does, while it reads them); nested objects' keys are.
    static func parseObject(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> [(key: String, value: JSONValue)] {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        guard parser.peek == UInt8(ascii: "{") else { throw parser.error("not a JSON object") }
        let members = try parser.members(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected bytes after the JSON object") }
        return members
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func error(_ reason: String) -> SyntaxError { SyntaxError(offset: index, reason: reason) }

    private mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    private mutating func expect(_ literal: StaticString, _ value: JSONValue) throws(SyntaxError) -> JSONValue {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw error("truncated literal") }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] { throw error("invalid literal") }
        index += count
        return value
    }

    private mutating func value(depth: Int) throws(SyntaxError) -> JSONValue {
        guard depth < Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth) levels") }
        switch peek {
        case UInt8(ascii: "{")?:
            var object: [String: JSONValue] = [:]
            for member in try members(depth: depth) where object.updateValue(member.value, forKey: member.key) != nil {
                throw error("duplicate key \"\(member.key.prefix(60))\"")
            }
            return .object(object)
        case UInt8(ascii: "[")?: return .array(try elements(depth: depth))
        case UInt8(ascii: "\"")?: return .string(try string())
        case UInt8(ascii: "t")?: return try expect("true", .bool(true))
        case UInt8(ascii: "f")?: return try expect("false", .bool(false))
        case UInt8(ascii: "n")?: return try expect("null", .null)
        case let byte? where byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte):
            return try number()
        case nil: throw error("unexpected end of input")
        default: throw error("unexpected character")
        }
    }

    private mutating func members(depth: Int) throws(SyntaxError) -> [(key: String, value: JSONValue)] {
        index += 1  // {
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(20)
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return members
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try string()
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            index += 1
            skipWhitespace()
            members.append((key, try value(depth: depth + 1)))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ",")?: index += 1
            case UInt8(ascii: "}")?:
                index += 1
                return members
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func elements(depth: Int) throws(SyntaxError) -> [JSONValue] {
        index += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            index += 1
            return items
        }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ",")?: index += 1
            case UInt8(ascii: "]")?:
                index += 1
                return items
            default: throw error("expected ',' or ']' in an array")
            }
        }
    }
}

extension JSONParser {
    /// A string at `index` (which is at its opening quote).
    fileprivate mutating func string() throws(SyntaxError) -> String {
        index += 1
        let start = index
        var bits: UInt8 = 0
        while let byte = peek, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
            guard byte >= 0x20 else { throw error("control character in a string") }
            bits |= byte
            index += 1
        }
        if peek == UInt8(ascii: "\"") {
            // ASCII (the common case) is valid UTF-8 as it is; anything else is validated.
            let text = bits < 0x80 ? String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                : try utf8(start..<index)
            index += 1
            return text
        }
        var decoded = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while true {
            guard let byte = peek else { throw error("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: decoded, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
                return text
            case UInt8(ascii: "\\"): try escape(into: &decoded)
            case 0..<0x20: throw error("control character in a string")
            default: decoded.append(byte)
            }
        }
    }

    private func utf8(_ range: Range<Int>) throws(SyntaxError) -> String {
        guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self) else {
            throw error("invalid UTF-8 in a string")
        }
        return text
    }

    private mutating func escape(into decoded: inout [UInt8]) throws(SyntaxError) {
        guard let byte = peek else { throw error("unterminated escape") }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(byte)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw error("unpaired surrogate in \\u escape")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw error("unpaired surrogate in \\u escape")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
            decoded.append(contentsOf: Array(String(Character(unicode)).utf8))
        default: throw error("invalid escape")
        }
    }

    private mutating func hex4() throws(SyntaxError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// A number at `index`, by the RFC 8259 grammar.
    fileprivate mutating func number() throws(SyntaxError) -> JSONValue {
        let start = index
        if peek == UInt8(ascii: "-") { index += 1 }
        guard let first = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { throw error("invalid number") }
        if first == UInt8(ascii: "0") { index += 1 } else { skipDigits() }
        var isInteger = true
        if peek == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard skipDigits() > 0 else { throw error("invalid number: digits must follow '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() > 0 else { throw error("invalid number: digits must follow the exponent") }
        }
        if isInteger, index - start <= 18 {
            // Up to 18 digits always fit in Int64: no String, no overflow check.
            let negative = bytes[start] == UInt8(ascii: "-")
            var value: Int64 = 0
            for offset in (negative ? start + 1 : start)..<index { value = value * 10 + Int64(bytes[offset] - UInt8(ascii: "0")) }
            return .integer(negative ? -value : value)
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let value = Int64(text) { return .integer(value) }
        guard let value = Double(text), value.isFinite else { throw error("number out of range") }
        if value == value.rounded(), abs(value) <= 9_007_199_254_740_992 { return .integer(Int64(value)) }
        return .number(value)
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = index
        while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        return index - start
    }
}
