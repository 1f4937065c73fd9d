// Helps the fuzzer past the checksums: libFuzzer rarely guesses a CRC-32C or a SHA-256, so most
// mutations of a frame would only ever test "checksum mismatch". These rebuild what a writer
// would have computed, from the format in docs/ledger-format.md, without the Ledger module's
// internals.
import Crypto
import CZstd

/// The ledger id of the fuzz ledger's LEDGER marker.
let fuzzLedgerID = "00000000-0000-4000-8000-000000000000"

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bytewise.
private let crcTable: [UInt32] = (0..<256).map { index in
    var crc = UInt32(index)
    for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    return crc
}

private func crc32c(_ bytes: ArraySlice<UInt8>, continuing start: UInt32 = 0) -> UInt32 {
    var crc = ~start
    for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    return ~crc
}

private func load32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * $1) }
}

private func store<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at: Int) {
    for index in 0..<(T.bitWidth / 8) { bytes[at + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
}

/// The digest the partition's first v2 frame links to.
private let genesis = Array(SHA256.hash(data: Array("proxy-ledger:\(fuzzLedgerID):partition-0".utf8)))

/// `bytes` with every frame that has a plausible header given the CRC-32C (and, for v2, the
/// hash-chain link) a writer would have written; frames are walked by their stated lengths and
/// the walk stops at the first header that is not `PLF1` version 1 or 2 or that does not fit.
func repairingChecksums(_ input: [UInt8]) -> [UInt8] {
    var bytes = input
    var offset = 0
    var previous = genesis
    while bytes.count - offset >= 48, bytes[offset..<(offset + 4)].elementsEqual("PLF1".utf8) {
        let version = UInt16(bytes[offset + 4]) | UInt16(bytes[offset + 5]) << 8
        guard version == 1 || version == 2 else { break }
        let size = version == 2 ? 88 : 48
        guard bytes.count - offset >= size else { break }
        let end = offset + size + Int(load32(bytes, offset + 40))
        guard end <= bytes.count else { break }
        if version == 2 { bytes.replaceSubrange((offset + 52)..<(offset + 84), with: previous) }
        let crc = crc32c(bytes[(offset + size)..<end], continuing: crc32c(bytes[offset..<(offset + size - 4)]))
        store(crc, into: &bytes, at: offset + size - 4)
        previous = Array(SHA256.hash(data: Array(bytes[offset..<end])))
        offset = end
    }
    return bytes
}

/// A one-frame segment whose payload (before zstd) is `payload`: the way to fuzz the columnar
/// event decoding behind a valid header, CRC and link. The record count is the payload's own
/// (its varint after the encoding version byte), so a well-formed payload reads back.
func frameSegment(payload: [UInt8]) -> [UInt8] {
    var compressed = [UInt8](repeating: 0, count: ZSTD_compressBound(payload.count))
    let written = compressed.withUnsafeMutableBytes { destination in
        payload.withUnsafeBytes { source in
            ZSTD_compress(destination.baseAddress, destination.count, source.baseAddress, source.count, 1)
        }
    }
    guard ZSTD_isError(written) == 0 else { return [] }
    compressed.removeSubrange(written...)
    let count = recordCount(of: payload)
    var header = [UInt8](repeating: 0, count: 88)
    header.replaceSubrange(0..<4, with: "PLF1".utf8)
    store(UInt16(2), into: &header, at: 4)
    store(UInt32(truncatingIfNeeded: count), into: &header, at: 16)
    store(UInt32(truncatingIfNeeded: payload.count), into: &header, at: 20)
    store(UInt32(truncatingIfNeeded: compressed.count), into: &header, at: 40)
    return repairingChecksums(header + compressed)
}

/// The LEB128 varint at `offset` of `bytes` and the offset after it; `nil` when it runs off the end.
private func varint(_ bytes: [UInt8], at offset: Int) -> (value: UInt64, next: Int)? {
    var value: UInt64 = 0, shift: UInt64 = 0, index = offset
    while index < bytes.count, shift < 64 {
        let byte = bytes[index]
        value |= UInt64(byte & 0x7F) << shift
        index += 1
        if byte < 0x80 { return (value, index) }
        shift += 7
    }
    return nil
}

/// The events a payload says it holds: the count after its version byte, or for a payload in
/// parts (version 2) the sum of its parts' counts, so that a well-formed payload gets a header
/// that matches it.
private func recordCount(of payload: [UInt8]) -> UInt64 {
    guard payload.first == 2, let parts = varint(payload, at: 1) else {
        return varint(payload, at: 1)?.value ?? 0
    }
    var total: UInt64 = 0, offset = parts.next
    for _ in 0..<min(parts.value, 1 << 16) {
        guard let length = varint(payload, at: offset), let count = varint(payload, at: length.next + 1) else { break }
        total &+= count.value
        let (next, overflow) = length.next.addingReportingOverflow(Int(truncatingIfNeeded: length.value))
        guard !overflow, next >= length.next else { break }
        offset = next
    }
    return total
}
