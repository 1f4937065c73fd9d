import Foundation

/// The head of one partition: the sequence after its last frame and that frame's SHA-256.
///
/// An auditor keeps heads (`proxy-ledger verify --head > heads.txt`) and later proves they are
/// still part of the ledger (`verify --expect-head heads.txt`): every frame after a kept head is
/// linked to it by the hash chain, so the ledger up to it cannot have changed.
public struct LedgerHead: Sendable, Hashable, CustomStringConvertible {
    public var partition: Int
    /// The sequence after the partition's last event.
    public var nextSequence: UInt64
    /// SHA-256 of the last frame, lowercase hex; empty when the partition has no frame.
    public var digest: String

    public init(partition: Int, nextSequence: UInt64, digest: String) {
        self.partition = partition
        self.nextSequence = nextSequence
        self.digest = digest
    }

    /// `partition 0 next_sequence 2120 sha256 <64 hex digits>`: the line `--expect-head` reads.
    public var description: String { "partition \(partition) next_sequence \(nextSequence) sha256 \(digest)" }

    /// Parses the lines ``description`` writes; blank lines and `#` comments are skipped.
    /// - Throws: `LedgerError` `.invalidArgument` naming the line that does not parse.
    public static func parse(_ text: String) throws -> [LedgerHead] {
        var heads: [LedgerHead] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let words = trimmed.split(separator: " ").map(String.init)
            guard words.count == 6, words[0] == "partition", let partition = Int(words[1]), words[2] == "next_sequence",
                let next = UInt64(words[3]), words[4] == "sha256", FrameChain.parseHex(words[5]) != nil
            else {
                throw LedgerError(.invalidArgument, "line \(index + 1) is not `partition N next_sequence S sha256 HEX`")
            }
            heads.append(LedgerHead(partition: partition, nextSequence: next, digest: words[5].lowercased()))
        }
        return heads
    }
}

/// What ``LedgerVerifier/verify(directory:expecting:)`` found.
public struct LedgerVerification: Sendable, Equatable {
    public var partitions = 0
    public var segments = 0
    public var frames = 0
    public var events = 0
    /// Bytes of segment files read.
    public var bytes: Int64 = 0
    /// Frames of format v2, whose hash-chain link was checked.
    public var chainedFrames = 0
    /// Each partition's head (complete only when the ledger is clean).
    public var heads: [LedgerHead] = []
    /// Ranges `recover` moved out of the ledger (accepted gaps, listed so they are never silent).
    public var quarantined: [QuarantinedRange] = []
    /// Segments `archive` moved to an archive folder (not checked here; verify the archive itself).
    public var archived: [ArchivedSegment] = []
    /// The first fault, with the segment file and byte offset; `nil` when the ledger is clean.
    public var firstFault: LedgerError?

    public var isClean: Bool { firstFault == nil }
}

/// Checks a whole ledger without changing it (`proxy-ledger verify`).
public enum LedgerVerifier {
    /// Checks every frame's header and CRC-32C, that each zstd payload decodes to the record count
    /// in its header, that segment names match their first frame, that sequences are continuous
    /// within and across segments (but for quarantined ranges), and that every v2 frame links to
    /// the frame before it (SHA-256 chain). Stops at the first fault.
    ///
    /// - Parameter expecting: heads kept earlier; each must still be a frame boundary of its
    ///   partition with the same digest, else the fault names it.
    /// - Throws: `LedgerError` `.notFound` when `directory` holds no ledger, `.io` when it cannot
    ///   be listed. Faults inside the ledger are returned in ``LedgerVerification/firstFault``.
    public static func verify(directory: String, expecting: [LedgerHead] = []) throws -> LedgerVerification {
        let layout = LedgerDirectory(path: directory)
        var result = LedgerVerification()
        let ledgerID = try layout.ledgerID()
        for partition in try layout.partitions() {
            result.partitions += 1
            var check = ChainCheck(ledgerID: ledgerID, partition: partition, expecting: expecting.filter { $0.partition == partition })
            do {
                let ranges = try QuarantineManifest(partitionPath: layout.partitionPath(partition)).ranges()
                result.quarantined += ranges
                check.chain = SequenceChain(ranges)
                let archived = try ArchiveManifest(partitionPath: layout.partitionPath(partition)).segments()
                result.archived += archived
                check.expected = archived.map(\.to).max() ?? 0
                check.linkUnknown = check.expected > 0
                for base in try layout.segments(partition: partition) {
                    result.segments += 1
                    let path = layout.segmentPath(partition: partition, baseSequence: base)
                    try check.verifySegment(path: path, base: base, into: &result)
                }
                try check.finish()
            } catch let error as LedgerError {
                result.firstFault = error
                return result
            }
            result.heads.append(check.head)
        }
        if let missing = expecting.first(where: { head in !result.heads.contains { $0.partition == head.partition } }) {
            result.firstFault = LedgerError(.chainBroken, "kept head \(missing) names a partition the ledger does not have")
        }
        return result
    }
}

/// The per-partition state of a verification: expected sequence and the previous frame's digest.
private struct ChainCheck {
    let ledgerID: String?
    let partition: Int
    let expecting: [LedgerHead]
    var chain = SequenceChain([])
    var expected: UInt64 = 0
    var previousDigest: [UInt8]?
    /// Set after a jump over a quarantined range: the next frame's link points into the quarantine.
    var linkUnknown = false
    var matchedHeads = Set<UInt64>()

    init(ledgerID: String?, partition: Int, expecting: [LedgerHead]) {
        self.ledgerID = ledgerID
        self.partition = partition
        self.expecting = expecting
    }

    var head: LedgerHead {
        LedgerHead(partition: partition, nextSequence: expected, digest: previousDigest.map(FrameChain.hex) ?? "")
    }

    mutating func verifySegment(path: String, base: UInt64, into result: inout LedgerVerification) throws {
        let bytes = try POSIXFile.readAll(path)
        result.bytes += Int64(bytes.count)
        try advance(to: base, path: path, offset: 0, what: "segment")
        let scan = SegmentScan(bytes)
        for frame in scan.frames {
            try advance(to: frame.header.baseSequence, path: path, offset: frame.offset, what: "frame")
            try checkLink(frame, path: path)
            _ = try SegmentScan.decode(frame, in: bytes, path: path)
            previousDigest = FrameChain.digest(of: bytes, range: frame.range)
            expected = frame.header.nextSequence
            try checkKeptHead(path: path, offset: frame.offset)
            result.frames += 1
            result.events += Int(frame.header.recordCount)
            if frame.header.version >= 2 { result.chainedFrames += 1 }
        }
        if let fault = scan.fault {
            throw LedgerError(.corruptFrame, fault.explanation, file: path, offset: Int64(fault.offset))
        }
    }

    private mutating func advance(to actual: UInt64, path: String, offset: Int, what: String) throws {
        guard chain.accepts(expected: expected, actual: actual) else {
            throw LedgerError(.sequenceGap, "\(what) starts at sequence \(actual), expected \(expected)", file: path, offset: Int64(offset))
        }
        if actual != expected { linkUnknown = true }
        expected = actual
    }

    private mutating func checkLink(_ frame: SegmentScan.Frame, path: String) throws {
        defer { linkUnknown = false }
        guard let stated = frame.header.previousDigest, !linkUnknown else { return }
        let want: [UInt8]
        if let previousDigest {
            want = previousDigest
        } else if let ledgerID {
            want = FrameChain.genesis(ledgerID: ledgerID, partition: partition)
        } else {
            throw LedgerError(.chainBroken, "the first frame is chained but the ledger has no LEDGER marker (it was removed or "
                + "the segment comes from another ledger)", file: path, offset: Int64(frame.offset))
        }
        guard stated == want else {
            let before = previousDigest == nil ? "the partition's genesis (wrong ledger or partition)" : "the frame before it"
            throw LedgerError(.chainBroken, "frame at sequence \(frame.header.baseSequence) does not link to \(before): a frame "
                + "was removed, reordered or rewritten", file: path, offset: Int64(frame.offset))
        }
    }

    private mutating func checkKeptHead(path: String, offset: Int) throws {
        guard let kept = expecting.first(where: { $0.nextSequence == expected }) else { return }
        guard kept.digest == head.digest else {
            throw LedgerError(.chainBroken, "kept head \(kept) does not match: the frame ending there now has sha256 "
                + "\(head.digest); the ledger up to it was rewritten", file: path, offset: Int64(offset))
        }
        matchedHeads.insert(kept.nextSequence)
    }

    func finish() throws {
        if let missing = expecting.first(where: { !matchedHeads.contains($0.nextSequence) && $0.nextSequence > 0 }) {
            throw LedgerError(.chainBroken, "kept head \(missing) is not a frame boundary of the ledger any more: frames "
                + "up to it were removed or rewritten")
        }
    }
}
