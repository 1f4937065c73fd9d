internal import Crypto
import Foundation

/// The SHA-256 hash chain that links the frames of one partition (frame format v2).
///
/// Every v2 frame header carries the digest of the partition's previous frame, header and
/// payload, whatever that frame's version. The partition's first frame carries the digest of its
/// genesis text, `proxy-ledger:<ledger id>:partition-<n>`, so a frame copied in from another
/// ledger or partition breaks the chain too. Removing, reordering or rewriting a frame (even with
/// a recomputed CRC) breaks the link of the frame after it; ``LedgerHead`` covers the last frame.
///
/// Source: FIPS 180-4 (SHA-256), through swift-crypto.
enum FrameChain {
    /// Bytes of a digest.
    static let digestSize = 32

    /// The digest the first frame of `partition` points back to.
    static func genesis(ledgerID: String, partition: Int) -> [UInt8] {
        Array(SHA256.hash(data: Array("proxy-ledger:\(ledgerID):partition-\(partition)".utf8)))
    }

    /// SHA-256 of `bytes[range]`: the digest of one whole frame.
    static func digest(of bytes: [UInt8], range: Range<Int>) -> [UInt8] {
        bytes.withUnsafeBytes { buffer in
            Array(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: buffer[range])))
        }
    }

    /// Lowercase hex of `digest`.
    static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(digest.count * 2)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Parses 64 hex digits, or returns `nil`.
    static func parseHex(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count == digestSize * 2 else { return nil }
        func nibble(_ char: UInt8) -> UInt8? {
            switch char {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var digest: [UInt8] = []
        for index in stride(from: 0, to: chars.count, by: 2) {
            guard let high = nibble(chars[index]), let low = nibble(chars[index + 1]) else { return nil }
            digest.append(high << 4 | low)
        }
        return digest
    }
}
