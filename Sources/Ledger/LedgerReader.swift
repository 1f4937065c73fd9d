/// A bad frame that a salvaging scan skipped (`proxy-ledger cat --salvage`).
public struct SkippedFrame: Sendable, Hashable, CustomStringConvertible {
    /// The segment file.
    public var file: String
    /// Byte offset of the bad frame in ``file``.
    public var offset: Int64
    /// What is wrong with it.
    public var reason: String
    /// The sequences that could not be read, `[from, to)`, when they are known: from the last
    /// good frame before the damage to the next good frame after it (or, at the end of a segment,
    /// what the damaged header claims).
    public var lostSequences: Range<UInt64>?

    public var description: String {
        let lost = lostSequences.map { "sequences \($0.lowerBound)..<\($0.upperBound) (\($0.count) events) lost" }
            ?? "sequences lost: unknown"
        return "skipped bad frame in \(file) at byte offset \(offset): \(reason); \(lost)"
    }
}

/// Reads the events of a ledger directory, partition by partition, in sequence order.
///
/// Reading never changes the ledger and may run while a writer appends: a frame that is still being
/// written at the tail of the newest segment is not read yet. Sequences must continue from frame to
/// frame and segment to segment (jumping only over ranges `recover` quarantined); a missing
/// segment, or one cut short, is an error, never a silent hole.
public struct LedgerReader: Sendable {
    /// The ledger directory.
    public let directory: String
    /// The archive folder holding segments `proxy-ledger archive` moved out, if given.
    public let archive: String?

    /// - Parameters:
    ///   - directory: The ledger folder.
    ///   - archive: The folder `proxy-ledger archive --to` wrote; without it, reading archived
    ///     sequences fails with `.archived` rather than skipping them.
    /// - Throws: `LedgerError` `.notFound` when `directory` (or `archive`) does not exist or is not
    ///   a ledger; `.io` when it cannot be listed.
    public init(directory: String, archive: String? = nil) throws {
        self.directory = directory
        self.archive = archive
        _ = try LedgerDirectory(path: directory).partitions()
        if let archive { _ = try LedgerDirectory(path: archive).partitions() }
    }

    /// The partition numbers present in the ledger, ascending.
    /// - Throws: `LedgerError` `.notFound` when the directory has gone.
    public func partitions() throws -> [Int] {
        try LedgerDirectory(path: directory).partitions()
    }

    /// The ledger's id (a lower-case UUID) from its `LEDGER` marker, written when the ledger was
    /// created; `nil` for a ledger made before markers existed that has not been written since.
    /// - Throws: `LedgerError` `.io` when the marker cannot be read or has no id.
    public func ledgerID() throws -> String? {
        try LedgerDirectory(path: directory).ledgerID()
    }

    /// Calls `body` with the records of `partition` whose sequence is `>= sequence`, in order,
    /// one decoded frame (batch) at a time. Memory stays bounded by one segment.
    ///
    /// Every good frame before a fault is delivered before the fault is thrown. With `salvage`,
    /// a bad frame is reported to it instead, and the scan goes on at the next good frame.
    ///
    /// - Throws: `LedgerError` `.corruptFrame` naming the segment file and byte offset of a frame
    ///   that fails its checksum or does not decode (a torn frame at the very end of the newest
    ///   segment is treated as not yet written); `.sequenceGap` naming the file where sequences
    ///   stop continuing; `.io` when a file cannot be read; any error `body` throws.
    public func scan(
        partition: Int,
        from sequence: UInt64 = 0,
        salvage: ((SkippedFrame) -> Void)?,
        _ body: ([LedgerRecord]) throws -> Void
    ) throws {
        let layout = LedgerDirectory(path: directory)
        let archivedEnd = try ArchiveManifest(partitionPath: layout.partitionPath(partition)).end()
        if sequence < archivedEnd {
            guard let archive else {
                throw LedgerError(.archived, "sequences \(sequence)..<\(archivedEnd) of partition \(partition) were archived; "
                    + "pass the archive folder (--archive DIR) to read them", file: ArchiveManifest(partitionPath: layout.partitionPath(partition)).path)
            }
            var end = sequence
            try LedgerReader(directory: archive).scan(partition: partition, from: sequence, salvage: salvage) { records in
                let wanted = records.filter { $0.position.sequence < archivedEnd }
                end = max(end, (wanted.last?.position.sequence ?? end) + (wanted.isEmpty ? 0 : 1))
                try body(wanted)
            }
            guard end == archivedEnd || salvage != nil else {
                throw LedgerError(.sequenceGap, "the archive \(archive) holds partition \(partition) only up to sequence \(end), "
                    + "but the ledger archived up to \(archivedEnd): is it the right archive folder?")
            }
        }
        let segments = try layout.segments(partition: partition)
        var walk = PartitionWalk(
            chain: SequenceChain(try QuarantineManifest(partitionPath: layout.partitionPath(partition)).ranges()),
            partition: partition, start: archivedEnd, from: max(sequence, archivedEnd), salvage: salvage)
        for (index, base) in segments.enumerated() {
            if index + 1 < segments.count, segments[index + 1] <= sequence { continue }
            let path = layout.segmentPath(partition: partition, baseSequence: base)
            try walk.read(path: path, base: base, isFirst: index == 0, isNewest: index == segments.count - 1, body)
        }
    }

    /// ``scan(partition:from:salvage:_:)`` without salvage: the first fault is thrown (after the
    /// good frames before it were delivered).
    public func scan(partition: Int, from sequence: UInt64 = 0, _ body: ([LedgerRecord]) throws -> Void) throws {
        try scan(partition: partition, from: sequence, salvage: nil, body)
    }

    /// Calls `body` with every record of every partition, partition by partition.
    public func scanAll(salvage: ((SkippedFrame) -> Void)? = nil, _ body: ([LedgerRecord]) throws -> Void) throws {
        for partition in try partitions() {
            try scan(partition: partition, from: 0, salvage: salvage, body)
        }
    }
}

/// The state of one partition's scan: the next expected sequence and what to do with faults.
private struct PartitionWalk {
    let chain: SequenceChain
    let partition: Int
    /// The partition's first sequence in this folder (after archived segments).
    let start: UInt64
    let from: UInt64
    let salvage: ((SkippedFrame) -> Void)?
    /// `nil` until the first segment read after skipped ones.
    var expected: UInt64?

    init(chain: SequenceChain, partition: Int, start: UInt64, from: UInt64, salvage: ((SkippedFrame) -> Void)?) {
        self.chain = chain
        self.partition = partition
        self.start = start
        self.from = from
        self.salvage = salvage
    }

    mutating func read(path: String, base: UInt64, isFirst: Bool, isNewest: Bool, _ body: ([LedgerRecord]) throws -> Void) throws {
        if isFirst { expected = start }
        if let expected, !chain.accepts(expected: expected, actual: base) {
            // A segment named below `expected` overlaps the one before it (a stray copy): nothing is lost.
            let what = expected < base
                ? "sequences \(expected)..<\(base) are missing (a segment was deleted or cut short)"
                : "it overlaps the segment before it"
            try fault(LedgerError(.sequenceGap, "segment starts at sequence \(base), expected \(expected): \(what)",
                file: path, offset: 0), lost: expected < base ? expected..<base : nil)
        }
        expected = base
        let bytes = try POSIXFile.readAll(path)
        var offset = 0
        while true {
            let scan = SegmentScan(bytes, from: offset)
            for frame in scan.frames { try deliver(frame, bytes: bytes, path: path, body) }
            guard let bad = scan.fault else { return }
            if isNewest, scan.isTornTail(in: bytes) { return }
            let next = SegmentScan.nextGoodFrame(after: bad.offset, in: bytes)
            let lost = lostRange(at: bad.offset, next: next, bytes: bytes)
            try fault(LedgerError(.corruptFrame, bad.explanation, file: path, offset: Int64(bad.offset)), lost: lost)
            expected = lost?.upperBound
            guard let next else { return }
            offset = next
        }
    }

    private mutating func deliver(_ frame: SegmentScan.Frame, bytes: [UInt8], path: String, _ body: ([LedgerRecord]) throws -> Void) throws {
        let start = frame.header.baseSequence
        if let expected, !chain.accepts(expected: expected, actual: start) {
            try fault(LedgerError(.sequenceGap, "frame starts at sequence \(start), expected \(expected)",
                file: path, offset: Int64(frame.offset)), lost: expected < start ? expected..<start : nil)
        }
        expected = frame.header.nextSequence
        guard frame.header.nextSequence > from else { return }
        let decoded: (schemaVersion: Int, events: [ProxyRequestEvent])
        do {
            decoded = try SegmentScan.decode(frame, in: bytes, path: path)
        } catch let error as LedgerError {
            try fault(error, lost: start..<frame.header.nextSequence)
            return
        }
        var records: [LedgerRecord] = []
        records.reserveCapacity(decoded.events.count)
        for (index, event) in decoded.events.enumerated() {
            let position = LedgerPosition(partition: partition, sequence: start + UInt64(index))
            if position.sequence >= from {
                records.append(LedgerRecord(schemaVersion: decoded.schemaVersion, position: position, event: event))
            }
        }
        try body(records)
    }

    /// Throws `error`, or reports it to the salvage handler and returns.
    private func fault(_ error: LedgerError, lost: Range<UInt64>?) throws {
        guard let salvage else { throw error }
        salvage(SkippedFrame(file: error.file ?? "", offset: error.offset ?? 0, reason: error.message, lostSequences: lost))
    }

    /// The sequences a bad frame at `offset` hides (``SegmentScan/lostEnd(in:fault:next:expected:nextSegmentBase:)``).
    private func lostRange(at offset: Int, next: Int?, bytes: [UInt8]) -> Range<UInt64>? {
        guard let expected, let end = SegmentScan.lostEnd(in: bytes, fault: offset, next: next, expected: expected),
            end > expected
        else { return nil }
        return expected..<end
    }
}
