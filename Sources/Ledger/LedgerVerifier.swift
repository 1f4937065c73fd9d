/// What ``LedgerVerifier/verify(directory:)`` found.
public struct LedgerVerification: Sendable, Equatable {
    public var partitions = 0
    public var segments = 0
    public var frames = 0
    public var events = 0
    /// Bytes of segment files read.
    public var bytes: Int64 = 0
    /// The first fault, with the segment file and byte offset; `nil` when the ledger is clean.
    public var firstFault: LedgerError?

    public var isClean: Bool { firstFault == nil }
}

/// Checks a whole ledger without changing it (`proxy-ledger verify`).
public enum LedgerVerifier {
    /// Checks every frame's header and CRC-32C, that each zstd payload decodes to the record count
    /// in its header, that segment names match their first frame, and that sequences are continuous
    /// within and across segments. Stops at the first fault.
    ///
    /// - Throws: `LedgerError` `.notFound` when `directory` holds no ledger. Faults inside the
    ///   ledger are returned in ``LedgerVerification/firstFault``, not thrown.
    public static func verify(directory: String) throws -> LedgerVerification {
        let layout = LedgerDirectory(path: directory)
        var result = LedgerVerification()
        for partition in try layout.partitions() {
            result.partitions += 1
            var expected: UInt64 = 0
            for base in layout.segments(partition: partition) {
                result.segments += 1
                let path = layout.segmentPath(partition: partition, baseSequence: base)
                do {
                    let bytes = try POSIXFile.readAll(path)
                    result.bytes += Int64(bytes.count)
                    guard base == expected else {
                        throw LedgerError(.sequenceGap, "segment starts at sequence \(base), expected \(expected)", file: path, offset: 0)
                    }
                    let scan = SegmentScan(bytes)
                    for frame in scan.frames {
                        guard frame.header.baseSequence == expected else {
                            throw LedgerError(.sequenceGap, "frame starts at sequence \(frame.header.baseSequence), expected \(expected)",
                                file: path, offset: Int64(frame.offset))
                        }
                        _ = try SegmentScan.decode(frame, in: bytes, path: path)
                        expected = frame.header.nextSequence
                        result.frames += 1
                        result.events += Int(frame.header.recordCount)
                    }
                    if let fault = scan.fault {
                        let what = switch fault.kind {
                        case .truncated: "frame is truncated (torn write)"
                        case .badHeader: "frame header is not valid (bad magic, version or flags)"
                        case .checksumMismatch: "frame fails its CRC-32C checksum"
                        }
                        throw LedgerError(.corruptFrame, what, file: path, offset: Int64(fault.offset))
                    }
                } catch let error as LedgerError {
                    result.firstFault = error
                    return result
                }
            }
        }
        return result
    }
}
