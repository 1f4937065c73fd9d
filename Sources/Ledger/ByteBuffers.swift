import Foundation

/// An append-only byte buffer with LEB128 varints and little-endian integers.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    @inline(__always) mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: rest))
    }

    @inline(__always) mutating func varint(_ value: Int) { varint(UInt64(value)) }

    /// ZigZag then LEB128, for signed deltas.
    @inline(__always) mutating func signedVarint(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    @inline(__always) mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func littleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func uuid(_ value: UUID) {
        withUnsafeBytes(of: value.uuid) { bytes.append(contentsOf: $0) }
    }

    mutating func raw<C: Collection>(_ other: C) where C.Element == UInt8 { bytes.append(contentsOf: other) }

    /// A length-prefixed section.
    mutating func section(_ other: ByteWriter) {
        varint(other.bytes.count)
        bytes.append(contentsOf: other.bytes)
    }
}

/// A bounds-checked reader over bytes; every read past the end throws `ByteReader.Overrun`.
struct ByteReader {
    struct Overrun: Error {}

    let bytes: [UInt8]
    private(set) var index: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.index = start
        self.end = end ?? bytes.count
    }

    var isAtEnd: Bool { index >= end }

    @inline(__always) mutating func byte() throws -> UInt8 {
        guard index < end else { throw Overrun() }
        defer { index += 1 }
        return bytes[index]
    }

    @inline(__always) mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            result |= UInt64(next & 0x7F) << shift
            if next < 0x80 { return result }
            shift += 7
            guard shift < 64 else { throw Overrun() }
        }
    }

    @inline(__always) mutating func intVarint() throws -> Int {
        let value = try varint()
        guard value <= UInt64(Int.max) else { throw Overrun() }
        return Int(value)
    }

    @inline(__always) mutating func signedVarint() throws -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, end - index >= count else { throw Overrun() }
        defer { index += count }
        return bytes[index..<(index + count)]
    }

    mutating func uuid() throws -> UUID {
        guard end - index >= 16 else { throw Overrun() }
        let b = bytes
        let i = index
        index += 16
        return UUID(uuid: (b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4], b[i + 5], b[i + 6], b[i + 7],
            b[i + 8], b[i + 9], b[i + 10], b[i + 11], b[i + 12], b[i + 13], b[i + 14], b[i + 15]))
    }

    mutating func string(length: Int) throws -> String {
        String(decoding: try take(length), as: UTF8.self)
    }

    /// Reads a length-prefixed section written by `ByteWriter.section` as a sub-reader.
    mutating func section() throws -> ByteReader {
        let length = try intVarint()
        guard end - index >= length else { throw Overrun() }
        defer { index += length }
        return ByteReader(bytes, from: index, to: index + length)
    }
}
