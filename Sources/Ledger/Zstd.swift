internal import CZstd

/// One-shot zstd compression of frame payloads (RFC 8878 frames, produced by libzstd).
enum Zstd {
    /// The compression level used for ledger frames.
    static let defaultLevel: Int32 = 3

    /// Compresses `input` into one zstd frame.
    /// - Throws: `LedgerError` `.compression` when libzstd reports an error.
    static func compress(_ input: [UInt8], level: Int32 = defaultLevel) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                ZSTD_compress(destination.baseAddress, bound, source.baseAddress, source.count, level)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw LedgerError(.compression, "zstd compress failed: \(errorName(written))")
        }
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses one zstd frame whose decompressed size is exactly `rawLength` bytes.
    /// - Throws: `LedgerError` `.compression` when the frame does not decode to `rawLength` bytes.
    static func decompress(_ input: UnsafeRawBufferPointer, rawLength: Int) throws -> [UInt8] {
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
