/// Reads the events of a ledger directory, partition by partition, in sequence order.
///
/// Reading never changes the ledger and may run while a writer appends: a frame that is still being
/// written at the tail of the newest segment is not read yet.
public struct LedgerReader: Sendable {
    /// The ledger directory.
    public let directory: String

    /// - Throws: `LedgerError` `.notFound` when `directory` does not exist.
    public init(directory: String) throws {
        self.directory = directory
        _ = try LedgerDirectory(path: directory).partitions()
    }

    /// The partition numbers present in the ledger, ascending.
    /// - Throws: `LedgerError` `.notFound` when the directory has gone.
    public func partitions() throws -> [Int] {
        try LedgerDirectory(path: directory).partitions()
    }

    /// Calls `body` with the records of `partition` whose sequence is `>= sequence`, in order,
    /// one decoded frame (batch) at a time. Memory stays bounded by one segment.
    ///
    /// - Throws: `LedgerError` `.corruptFrame` naming the segment file and byte offset of a frame
    ///   that fails its checksum or does not decode (a torn frame at the very end of the newest
    ///   segment is treated as not yet written); any error `body` throws.
    public func scan(
        partition: Int,
        from sequence: UInt64 = 0,
        _ body: ([LedgerRecord]) throws -> Void
    ) throws {
        let layout = LedgerDirectory(path: directory)
        let segments = layout.segments(partition: partition)
        for (index, base) in segments.enumerated() {
            if index + 1 < segments.count, segments[index + 1] <= sequence { continue }
            let path = layout.segmentPath(partition: partition, baseSequence: base)
            let bytes = try POSIXFile.readAll(path)
            let scan = SegmentScan(bytes)
            if let fault = scan.fault, !(index == segments.count - 1 && fault.kind == .truncated) {
                throw LedgerError(.corruptFrame, "frame fails its \(fault.kind == .checksumMismatch ? "checksum" : "header check")",
                    file: path, offset: Int64(fault.offset))
            }
            for frame in scan.frames where frame.header.nextSequence > sequence {
                let decoded = try SegmentScan.decode(frame, in: bytes, path: path)
                var records: [LedgerRecord] = []
                records.reserveCapacity(decoded.events.count)
                for (offset, event) in decoded.events.enumerated() {
                    let position = LedgerPosition(partition: partition, sequence: frame.header.baseSequence + UInt64(offset))
                    if position.sequence >= sequence {
                        records.append(LedgerRecord(schemaVersion: decoded.schemaVersion, position: position, event: event))
                    }
                }
                try body(records)
            }
        }
    }

    /// Calls `body` with every record of every partition, partition by partition.
    public func scanAll(_ body: ([LedgerRecord]) throws -> Void) throws {
        for partition in try partitions() {
            try scan(partition: partition, from: 0, body)
        }
    }
}
