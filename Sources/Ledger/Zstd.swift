internal import CZstd

/// One-shot zstd compression of frame payloads (RFC 8878 frames, produced by libzstd).
enum Zstd {
    /// The compression level used for ledger frames.
    static let defaultLevel: Int32 = 3

    /// Compresses `input` into one zstd frame, placed after `front` bytes left for the caller
    /// (a frame header written in place, so that the payload is never copied again).
    /// - Returns: `front` bytes (unspecified) followed by the zstd frame.
    /// - Throws: `LedgerError` `.compression` when libzstd reports an error.
    static func compress(_ input: [UInt8], level: Int32 = defaultLevel, front: Int = 0) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var written: Int?  // nil: no buffer to compress into
        let output = [UInt8](unsafeUninitializedCapacity: front + bound) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            base.initialize(repeating: 0, count: front)
            let result = input.withUnsafeBytes { source in
                ZSTD_compress(base + front, bound, source.baseAddress, source.count, level)
            }
            initialized = ZSTD_isError(result) != 0 ? front : front + result
            written = result
        }
        guard let written else {
            throw LedgerError(.compression, "zstd compress failed: no output buffer of \(front + bound) bytes")
        }
        if ZSTD_isError(written) != 0 {
            throw LedgerError(.compression, "zstd compress failed: \(errorName(written))")
        }
        return output
    }

    /// Compresses the concatenation of `parts` into one zstd frame, placed after `front` bytes,
    /// without joining them first (one streaming context, `ZSTD_e_continue` per part, then
    /// `ZSTD_e_end`). The frame decodes as if ``compress(_:level:front:)`` had been given the joined
    /// bytes.
    /// - Throws: `LedgerError` `.compression` when libzstd reports an error.
    static func compress(parts: [[UInt8]], level: Int32 = defaultLevel, front: Int = 0) throws -> [UInt8] {
        guard let context = ZSTD_createCCtx() else {
            throw LedgerError(.compression, "zstd compress failed: cannot allocate a compression context")
        }
        defer { ZSTD_freeCCtx(context) }
        let total = parts.reduce(0) { $0 + $1.count }
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        _ = ZSTD_CCtx_setPledgedSrcSize(context, UInt64(total))
        let bound = ZSTD_compressBound(total)
        var failure: Int?
        let output = [UInt8](unsafeUninitializedCapacity: front + bound) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            base.initialize(repeating: 0, count: front)
            var target = ZSTD_outBuffer(dst: base + front, size: bound, pos: 0)
            for (index, part) in parts.enumerated() {
                let mode = index == parts.count - 1 ? ZSTD_e_end : ZSTD_e_continue
                part.withUnsafeBytes { source in
                    var input = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
                    while failure == nil {
                        let result = ZSTD_compressStream2(context, &target, &input, mode)
                        if ZSTD_isError(result) != 0 { failure = result }
                        if mode == ZSTD_e_end ? result == 0 : input.pos == input.size { break }
                    }
                }
            }
            initialized = front + target.pos
        }
        if let failure { throw LedgerError(.compression, "zstd compress failed: \(errorName(failure))") }
        guard output.count > front else { throw LedgerError(.compression, "zstd compress failed: no output buffer of \(front + bound) bytes") }
        return output
    }

    /// Decompresses one zstd frame whose decompressed size is exactly `rawLength` bytes.
    ///
    /// `rawLength` comes from a frame header that may be damaged (up to 4 GiB), so beyond
    /// ``initialOutputCapacity`` it is not allocated up front: the output grows with what the frame
    /// really decodes to, and never past `rawLength`.
    /// - Throws: `LedgerError` `.compression` when the frame does not decode to `rawLength` bytes.
    static func decompress(_ input: UnsafeRawBufferPointer, rawLength: Int) throws -> [UInt8] {
        if rawLength <= initialOutputCapacity { return try decompressInOneCall(input, rawLength: rawLength) }
        guard let stream = ZSTD_createDStream() else {
            throw LedgerError(.compression, "zstd decompress failed: cannot allocate a decompression context")
        }
        defer { ZSTD_freeDStream(stream) }
        var output = [UInt8](repeating: 0, count: initialOutputCapacity)
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var written = 0
        while true {
            let before = (source.pos, written)
            let result = output.withUnsafeMutableBytes { destination in
                var target = ZSTD_outBuffer(dst: destination.baseAddress, size: destination.count, pos: written)
                defer { written = target.pos }
                return ZSTD_decompressStream(stream, &target, &source)
            }
            if ZSTD_isError(result) != 0 {
                throw LedgerError(.compression, "zstd decompress failed: \(errorName(result))")
            }
            if result == 0, source.pos == source.size { break }  // every frame decoded and flushed
            if written == output.count, output.count < rawLength {
                output.append(contentsOf: repeatElement(0, count: min(output.count, rawLength - output.count)))
            } else if before == (source.pos, written) {  // no progress: more output than room, or input cut short
                throw LedgerError(.compression, written == rawLength
                    ? "zstd frame decodes to more than the \(rawLength) bytes the header says"
                    : "zstd decompress failed: the frame is cut short")
            }
        }
        guard written == rawLength else {
            throw LedgerError(.compression, "zstd frame decoded to \(written) bytes, header says \(rawLength)")
        }
        return output
    }

    /// The output bytes ``decompress(_:rawLength:)`` allocates first (frames are usually smaller).
    static let initialOutputCapacity = 1 << 22

    /// One `ZSTD_decompress` call into `rawLength` bytes (at most ``initialOutputCapacity``).
    private static func decompressInOneCall(_ input: UnsafeRawBufferPointer, rawLength: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: rawLength)
        let written = output.withUnsafeMutableBytes { destination in
            ZSTD_decompress(destination.baseAddress, rawLength, input.baseAddress, input.count)
        }
        if ZSTD_isError(written) != 0 {
            throw LedgerError(.compression, "zstd decompress failed: \(errorName(written))")
        }
        guard written == rawLength else {
            throw LedgerError(.compression, "zstd frame decoded to \(written) bytes, header says \(rawLength)")
        }
        return output
    }

    /// `true` when `input` holds exactly one complete zstd frame and nothing after it.
    ///
    /// A torn write leaves a frame cut short; a complete frame whose header states a longer length
    /// is corruption of the header, not a torn write.
    static func isExactlyOneFrame(_ input: UnsafeRawBufferPointer) -> Bool {
        guard input.count > 0 else { return false }
        let size = ZSTD_findFrameCompressedSize(input.baseAddress, input.count)
        return ZSTD_isError(size) == 0 && size == input.count
    }

    private static func errorName(_ code: Int) -> String {
        guard let name = ZSTD_getErrorName(code) else { return "code \(code)" }
        return String(cString: name)
    }
}
