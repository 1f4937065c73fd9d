/// Walks the frames of one segment file's bytes.
struct SegmentScan {
    struct Frame {
        var offset: Int
        var header: FrameHeader
    }

    struct Fault {
        var offset: Int
        var kind: FrameHeader.Fault
    }

    var frames: [Frame] = []
    /// The first frame that cannot be read, if any; scanning stops there.
    var fault: Fault?
    /// Bytes covered by good frames, from the start of the file.
    var validLength = 0

    init(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
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

    /// `true` when a good frame starts anywhere after `offset`: the damage is then not a torn
    /// tail but corruption in the middle of the file.
    static func hasGoodFrame(after offset: Int, in bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var index = offset + 1
            let magic = FrameHeader.magic
            while index + FrameHeader.size <= buffer.count {
                if buffer[index] == magic[0], buffer[index + 1] == magic[1], buffer[index + 2] == magic[2],
                    buffer[index + 3] == magic[3], case .success = FrameHeader.read(buffer, at: index)
                {
                    return true
                }
                index += 1
            }
            return false
        }
    }

    /// Decompresses and decodes the frame at `frame`.
    /// - Throws: `LedgerError` `.corruptFrame` naming `path` and the frame's byte offset.
    static func decode(_ frame: Frame, in bytes: [UInt8], path: String) throws -> (schemaVersion: Int, events: [ProxyRequestEvent]) {
        do {
            let start = frame.offset + FrameHeader.size
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
