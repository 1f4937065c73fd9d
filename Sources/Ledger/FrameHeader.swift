/// The fixed 48-byte header in front of every frame (little-endian; `docs/ledger-format.md`).
///
/// ```
/// offset size field
///      0    4 magic "PLF1"
///      4    2 format version (1)
///      6    2 flags (0; reserved)
///      8    8 base sequence: the sequence of the frame's first event
///     16    4 record count
///     20    4 raw length: bytes of the payload after zstd decompression
///     24    8 earliest event timestamp, UTC µs
///     32    8 latest event timestamp, UTC µs
///     40    4 compressed length: bytes of the zstd frame that follows the header
///     44    4 CRC-32C of header bytes 0..<44 followed by the compressed payload
/// ```
struct FrameHeader: Equatable {
    static let size = 48
    static let magic: [UInt8] = Array("PLF1".utf8)
    static let formatVersion: UInt16 = 1

    var baseSequence: UInt64
    var recordCount: UInt32
    var rawLength: UInt32
    var earliestTimestamp: Int64
    var latestTimestamp: Int64
    var compressedLength: UInt32
    var checksum: UInt32 = 0

    /// The sequence after this frame's last event.
    var nextSequence: UInt64 { baseSequence + UInt64(recordCount) }

    /// Bytes of the whole frame on disk.
    var frameLength: Int { Self.size + Int(compressedLength) }

    /// The first 44 bytes, which the checksum covers.
    func fieldBytes() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.size)
        writer.raw(Self.magic)
        writer.littleEndian(Self.formatVersion)
        writer.littleEndian(UInt16(0))
        writer.littleEndian(baseSequence)
        writer.littleEndian(recordCount)
        writer.littleEndian(rawLength)
        writer.littleEndian(earliestTimestamp)
        writer.littleEndian(latestTimestamp)
        writer.littleEndian(compressedLength)
        return writer.bytes
    }

    /// Builds the complete frame bytes (header with checksum, then `payload`).
    static func makeFrame(
        baseSequence: UInt64, recordCount: Int, rawLength: Int, earliest: Int64, latest: Int64, payload: [UInt8]
    ) -> (header: FrameHeader, bytes: [UInt8]) {
        var header = FrameHeader(
            baseSequence: baseSequence, recordCount: UInt32(recordCount), rawLength: UInt32(rawLength),
            earliestTimestamp: earliest, latestTimestamp: latest, compressedLength: UInt32(payload.count))
        var bytes = header.fieldBytes()
        header.checksum = CRC32C.checksum(payload, continuing: CRC32C.checksum(bytes))
        withUnsafeBytes(of: header.checksum.littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: payload)
        return (header, bytes)
    }

    /// Why a frame at some offset cannot be read.
    enum Fault: Error, Equatable {
        /// Fewer bytes remain than the header or its payload needs (a torn write at the tail).
        case truncated
        /// The magic, version or flags are wrong.
        case badHeader
        /// The checksum does not match.
        case checksumMismatch
    }

    /// Parses and checks the frame starting at `offset` of `bytes`.
    static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Result<FrameHeader, Fault> {
        guard bytes.count - offset >= size else { return .failure(.truncated) }
        func load<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + at, as: T.self))
        }
        guard bytes[offset] == magic[0], bytes[offset + 1] == magic[1], bytes[offset + 2] == magic[2],
            bytes[offset + 3] == magic[3], load(4, UInt16.self) == formatVersion, load(6, UInt16.self) == 0
        else { return .failure(.badHeader) }
        let header = FrameHeader(
            baseSequence: load(8, UInt64.self), recordCount: load(16, UInt32.self), rawLength: load(20, UInt32.self),
            earliestTimestamp: load(24, Int64.self), latestTimestamp: load(32, Int64.self),
            compressedLength: load(40, UInt32.self), checksum: load(44, UInt32.self))
        guard bytes.count - offset >= header.frameLength else { return .failure(.truncated) }
        let covered = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 44)])
        let payload = UnsafeRawBufferPointer(
            rebasing: bytes[(offset + size)..<(offset + header.frameLength)])
        let crc = CRC32C.checksum(payload, continuing: CRC32C.checksum(covered))
        return crc == header.checksum ? .success(header) : .failure(.checksumMismatch)
    }
}
