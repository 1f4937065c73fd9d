import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The frame headers of one segment file, read with one `pread` per frame and no payloads: what
/// the writer needs to check a sealed segment's place in the sequence chain without reading (and
/// checksumming) every byte. `verify` checks the payloads.
struct SegmentHeaders {
    /// Each frame's byte offset and header fields, in file order.
    var frames: [SegmentScan.Frame] = []
    /// Set when a header is cut off, bad, or states a length past the end of the file.
    var fault: SegmentScan.Fault?

    /// The sequence after the segment's last frame, or `nil` when it has no frame.
    var endSequence: UInt64? { frames.last?.header.nextSequence }

    /// - Throws: `LedgerError` `.io` naming `path` when it cannot be opened or read.
    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LedgerError(.io, "cannot open segment: \(POSIXFile.errorText())", file: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw LedgerError(.io, "cannot stat: \(POSIXFile.errorText())", file: path) }
        let size = Int(info.st_size)
        var offset = 0
        var buffer = [UInt8](repeating: 0, count: FrameHeader.maximumSize)
        while offset < size {
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard got >= 0 else { throw LedgerError(.io, "read failed: \(POSIXFile.errorText())", file: path, offset: Int64(offset)) }
            let result = buffer.withUnsafeBytes { raw in
                FrameHeader.readFields(UnsafeRawBufferPointer(rebasing: raw[0..<got]), at: 0)
            }
            switch result {
            case .failure(let kind):
                fault = SegmentScan.Fault(offset: offset, kind: kind)
                return
            case .success(let header):
                guard size - offset >= header.frameLength else {
                    fault = SegmentScan.Fault(offset: offset, kind: .truncated)
                    return
                }
                frames.append(SegmentScan.Frame(offset: offset, header: header))
                offset += header.frameLength
            }
        }
    }

    /// The bytes of the segment's last frame, for the digest the next frame links to.
    static func lastFrameBytes(path: String, frame: SegmentScan.Frame) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LedgerError(.io, "cannot open segment: \(POSIXFile.errorText())", file: path) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: frame.header.frameLength)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(frame.offset)) }
        guard got == bytes.count else {
            throw LedgerError(.io, "cannot read the last frame: \(POSIXFile.errorText())", file: path, offset: Int64(frame.offset))
        }
        return bytes
    }
}
