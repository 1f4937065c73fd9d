/// Walks the frames of one segment file's bytes.
struct SegmentScan {
    struct Frame {
        var offset: Int
        var header: FrameHeader

        /// The byte range of the whole frame (header and payload) in the segment.
        var range: Range<Int> { offset..<(offset + header.frameLength) }
    }

    struct Fault {
        var offset: Int
        var kind: FrameHeader.Fault

        /// What the fault is, in words, for error messages.
        var explanation: String {
            switch kind {
            case .truncated: "frame is truncated (torn write)"
            case .badHeader: "frame header is not valid (bad magic, version, flags or sequence range)"
            case .checksumMismatch: "frame fails its CRC-32C checksum"
            }
        }
    }

    var frames: [Frame] = []
    /// The first frame that cannot be read, if any; scanning stops there.
    var fault: Fault?
    /// Bytes covered by good frames, from the start of the file.
    var validLength = 0

    /// Scans `bytes` from `start` until the end or the first bad frame.
    init(_ bytes: [UInt8], from start: Int = 0) {
        validLength = start
        bytes.withUnsafeBytes { buffer in
            var offset = start
            while offset < buffer.count {
                switch FrameHeader.read(buffer, at: offset) {
                case .success(let header):
                    frames.append(Frame(offset: offset, header: header))
                    offset += header.frameLength
                case .failure(let kind):
                    fault = Fault(offset: offset, kind: kind)
                    validLength = offset
                    return
                }
            }
            validLength = offset
        }
    }

    /// `true` when the fault is a torn final write that may be cut off: the file ends inside the
    /// frame's header or payload (and what is there is not a complete zstd frame, which would
    /// mean a damaged length field), or everything from the fault to the end is zero bytes (space
    /// the file system allocated but never wrote). A complete frame that fails its checksum, or
    /// bad bytes followed by anything else, is corruption and is never torn.
    func isTornTail(in bytes: [UInt8]) -> Bool {
        guard let fault else { return false }
        if bytes[fault.offset...].allSatisfy({ $0 == 0 }) { return true }
        guard fault.kind == .truncated else { return false }
        return bytes.withUnsafeBytes { buffer in
            guard case .success(let header) = FrameHeader.readFields(buffer, at: fault.offset) else { return true }
            let payload = UnsafeRawBufferPointer(rebasing: buffer[(fault.offset + header.size)...])
            return !Zstd.isExactlyOneFrame(payload)
        }
    }

    /// The offset of the first good frame (header and checksum pass) that starts after `offset`,
    /// or `nil` when there is none: where a salvaging reader resumes after a bad frame.
    static func nextGoodFrame(after offset: Int, in bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBytes { buffer in
            var index = offset + 1
            let magic = FrameHeader.magic
            while index + FrameHeader.minimumSize <= buffer.count {
                if buffer[index] == magic[0], buffer[index + 1] == magic[1], buffer[index + 2] == magic[2],
                    buffer[index + 3] == magic[3], case .success = FrameHeader.read(buffer, at: index)
                {
                    return index
                }
                index += 1
            }
            return nil
        }
    }

    /// Where the sequences hidden by a bad frame at `fault` end: the base sequence of the next
    /// good frame `next`, else `nextSegmentBase` when the caller knows it, else what the damaged
    /// header claims when its base is `expected` (it may be intact); `nil` when nothing tells.
    /// Shared by the salvaging reader and `recover`.
    static func lostEnd(in bytes: [UInt8], fault: Int, next: Int?, expected: UInt64, nextSegmentBase: UInt64? = nil) -> UInt64? {
        bytes.withUnsafeBytes { buffer in
            if let next, case .success(let header) = FrameHeader.read(buffer, at: next) { return header.baseSequence }
            if let nextSegmentBase { return nextSegmentBase }
            if case .success(let header) = FrameHeader.readFields(buffer, at: fault), header.baseSequence == expected {
                return header.nextSequence
            }
            return nil
        }
    }

    /// Decompresses and decodes the frame at `frame`.
    /// - Throws: `LedgerError` `.corruptFrame` naming `path` and the frame's byte offset.
    static func decode(_ frame: Frame, in bytes: [UInt8], path: String) throws -> (schemaVersion: Int, events: [ProxyRequestEvent]) {
        do {
            let start = frame.offset + frame.header.size
            let payload = try bytes.withUnsafeBytes { buffer in
                try Zstd.decompress(
                    UnsafeRawBufferPointer(rebasing: buffer[start..<(start + Int(frame.header.compressedLength))]),
                    rawLength: Int(frame.header.rawLength))
            }
            let decoded = try BatchCodec.decode(payload)
            guard decoded.events.count == Int(frame.header.recordCount) else {
                throw LedgerError(.corruptFrame, "frame holds \(decoded.events.count) events, header says \(frame.header.recordCount)")
            }
            return decoded
        } catch let error as LedgerError {
            throw LedgerError(.corruptFrame, "frame does not decode: \(error.message)", file: path, offset: Int64(frame.offset))
        } catch {
            throw LedgerError(.corruptFrame, "frame payload is malformed", file: path, offset: Int64(frame.offset))
        }
    }
}
