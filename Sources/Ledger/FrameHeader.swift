/// The fixed header in front of every frame (little-endian; `docs/ledger-format.md`).
///
/// Format version 2 (written since the hash chain), 88 bytes:
/// ```
/// offset size field
///      0    4 magic "PLF1"
///      4    2 format version (2)
///      6    2 flags (0; reserved)
///      8    8 base sequence: the sequence of the frame's first event
///     16    4 record count
///     20    4 raw length: bytes of the payload after zstd decompression
///     24    8 earliest event timestamp, UTC µs
///     32    8 latest event timestamp, UTC µs
///     40    4 compressed length: bytes of the zstd frame that follows the header
///     44    8 appended at: the writer's clock when the frame was committed, UTC µs
///     52   32 previous digest: SHA-256 of the partition's previous frame (header and payload),
///             or of the partition's genesis text for its first frame
///     84    4 CRC-32C of header bytes 0..<84 followed by the compressed payload
/// ```
/// Format version 1 (read only), 48 bytes: the same fields up to offset 44, then the CRC-32C of
/// bytes 0..<44 and the payload at offset 44.
struct FrameHeader: Equatable {
    static let magic: [UInt8] = Array("PLF1".utf8)
    /// The version new frames are written with.
    static let currentVersion: UInt16 = 2
    /// The largest header any version has: enough bytes to tell a frame's version and length.
    static let maximumSize = 88
    /// The smallest header any version has.
    static let minimumSize = 48

    var version: UInt16 = currentVersion
    var baseSequence: UInt64
    var recordCount: UInt32
    var rawLength: UInt32
    var earliestTimestamp: Int64
    var latestTimestamp: Int64
    var compressedLength: UInt32
    /// v2: when the frame was committed (writer clock, UTC µs); `nil` for v1 frames.
    var appendedAt: Int64?
    /// v2: SHA-256 of the previous frame of the partition (or of its genesis text); `nil` for v1.
    var previousDigest: [UInt8]?
    var checksum: UInt32 = 0

    /// The sequence after this frame's last event.
    var nextSequence: UInt64 { baseSequence + UInt64(recordCount) }

    /// Bytes of this version's header.
    var size: Int { Self.headerSize(version: version) }

    /// Bytes of the whole frame on disk.
    var frameLength: Int { size + Int(compressedLength) }

    static func headerSize(version: UInt16) -> Int { version >= 2 ? 88 : 48 }

    /// The header bytes the checksum covers (all but the trailing 4-byte CRC).
    func fieldBytes() -> [UInt8] {
        var writer = ByteWriter(capacity: size)
        writer.raw(Self.magic)
        writer.littleEndian(version)
        writer.littleEndian(UInt16(0))
        writer.littleEndian(baseSequence)
        writer.littleEndian(recordCount)
        writer.littleEndian(rawLength)
        writer.littleEndian(earliestTimestamp)
        writer.littleEndian(latestTimestamp)
        writer.littleEndian(compressedLength)
        if version >= 2 {
            writer.littleEndian(appendedAt ?? 0)
            writer.raw(previousDigest ?? [UInt8](repeating: 0, count: 32))
        }
        return writer.bytes
    }

    /// Builds the complete v2 frame bytes (header with checksum, then `payload`).
    static func makeFrame(
        baseSequence: UInt64, recordCount: Int, rawLength: Int, earliest: Int64, latest: Int64,
        appendedAt: Int64, previousDigest: [UInt8], payload: [UInt8]
    ) -> (header: FrameHeader, bytes: [UInt8]) {
        var bytes = [UInt8](repeating: 0, count: headerSize(version: currentVersion)) + payload
        let header = frame(
            &bytes, baseSequence: baseSequence, recordCount: recordCount, rawLength: rawLength,
            earliest: earliest, latest: latest, appendedAt: appendedAt, previousDigest: previousDigest)
        return (header, bytes)
    }

    /// Writes the v2 header (with its checksum) over the first 88 bytes of `bytes`, which hold
    /// room for it followed by the compressed payload (``Zstd/compress(_:level:front:)``).
    static func frame(
        _ bytes: inout [UInt8], baseSequence: UInt64, recordCount: Int, rawLength: Int, earliest: Int64,
        latest: Int64, appendedAt: Int64, previousDigest: [UInt8]
    ) -> FrameHeader {
        let size = headerSize(version: currentVersion)
        var header = FrameHeader(
            baseSequence: baseSequence, recordCount: UInt32(recordCount), rawLength: UInt32(rawLength),
            earliestTimestamp: earliest, latestTimestamp: latest, compressedLength: UInt32(bytes.count - size),
            appendedAt: appendedAt, previousDigest: previousDigest)
        let fields = header.fieldBytes()
        header.checksum = bytes.withUnsafeBytes { frame in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: frame[size...]), continuing: CRC32C.checksum(fields))
        }
        bytes.replaceSubrange(0..<fields.count, with: fields)
        withUnsafeBytes(of: header.checksum.littleEndian) { bytes.replaceSubrange(fields.count..<size, with: $0) }
        return header
    }

    /// Why a frame at some offset cannot be read.
    enum Fault: Error, Equatable {
        /// Fewer bytes remain than the header or its payload needs.
        case truncated
        /// The magic, version or flags are wrong, or the sequences would pass 2^64 - 1.
        case badHeader
        /// The checksum does not match.
        case checksumMismatch
    }

    /// Parses and checks the frame starting at `offset` of `bytes`.
    static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Result<FrameHeader, Fault> {
        let header: FrameHeader
        switch readFields(bytes, at: offset) {
        case .failure(let fault): return .failure(fault)
        case .success(let fields): header = fields
        }
        guard bytes.count - offset >= header.frameLength else { return .failure(.truncated) }
        let covered = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + header.size - 4)])
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + header.size)..<(offset + header.frameLength)])
        let crc = CRC32C.checksum(payload, continuing: CRC32C.checksum(covered))
        return crc == header.checksum ? .success(header) : .failure(.checksumMismatch)
    }

    /// Parses the header fields at `offset` without checking the checksum or that the payload is
    /// present: `.truncated` only when the header itself is cut off.
    static func readFields(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Result<FrameHeader, Fault> {
        guard bytes.count - offset >= minimumSize else { return .failure(.truncated) }
        func load<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + at, as: T.self))
        }
        let version = load(4, UInt16.self)
        guard bytes[offset] == magic[0], bytes[offset + 1] == magic[1], bytes[offset + 2] == magic[2],
            bytes[offset + 3] == magic[3], version == 1 || version == 2, load(6, UInt16.self) == 0
        else { return .failure(.badHeader) }
        let size = headerSize(version: version)
        guard bytes.count - offset >= size else { return .failure(.truncated) }
        var header = FrameHeader(
            version: version, baseSequence: load(8, UInt64.self), recordCount: load(16, UInt32.self),
            rawLength: load(20, UInt32.self), earliestTimestamp: load(24, Int64.self),
            latestTimestamp: load(32, Int64.self), compressedLength: load(40, UInt32.self),
            checksum: load(size - 4, UInt32.self))
        // Sequences are UInt64 and never wrap: a frame whose last sequence would pass 2^64 - 1 is
        // damaged, and ``nextSequence`` must not overflow on it.
        guard !header.baseSequence.addingReportingOverflow(UInt64(header.recordCount)).overflow else {
            return .failure(.badHeader)
        }
        if version >= 2 {
            header.appendedAt = load(44, Int64.self)
            header.previousDigest = Array(bytes[(offset + 52)..<(offset + 84)])
        }
        return .success(header)
    }
}
