import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One sealed segment that `proxy-ledger archive` moved out of the ledger.
///
/// Recorded in `partition-N/ARCHIVED`, one line per segment, fields separated by tabs:
/// `archived <from> <to> <segment name> <sha256 of the file> <archive folder> <recorded at>`.
/// Segments are archived oldest first, so the archived ranges always cover `[0, end)`.
public struct ArchivedSegment: Sendable, Hashable {
    /// The segment's first sequence.
    public var from: UInt64
    /// The sequence after its last event (exclusive).
    public var to: UInt64
    /// The segment file name.
    public var name: String
    /// SHA-256 of the whole file, lowercase hex, checked on the copy before the original went.
    public var digest: String
    /// The archive folder it was copied to (a ledger folder of its own).
    public var archive: String
    /// When it was archived.
    public var archivedAt: LedgerTimestamp
}

/// Reads and appends a partition's archive manifest.
struct ArchiveManifest {
    static let fileName = "ARCHIVED"

    let partitionPath: String

    var path: String { "\(partitionPath)/\(Self.fileName)" }

    /// The archived segments, in file order (empty when none was archived).
    /// - Throws: `LedgerError` `.io` naming the manifest and line when a line does not parse.
    func segments() throws -> [ArchivedSegment] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = String(decoding: try POSIXFile.readAll(path), as: UTF8.self)
        return try text.split(separator: "\n").enumerated().map { index, line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 7, fields[0] == "archived", let from = UInt64(fields[1]), let to = UInt64(fields[2]),
                from <= to, let time = LedgerTimestamp(rfc3339: fields[6])
            else { throw LedgerError(.io, "line \(index + 1) of the archive manifest does not parse", file: path) }
            return ArchivedSegment(from: from, to: to, name: fields[3], digest: fields[4], archive: fields[5], archivedAt: time)
        }
    }

    /// The first sequence still in the ledger proper (0 when nothing was archived).
    func end() throws -> UInt64 { try segments().map(\.to).max() ?? 0 }

    /// Appends `segment` and fsyncs the manifest.
    func append(_ segment: ArchivedSegment) throws {
        try POSIXFile.appendDurably(
            "archived\t\(segment.from)\t\(segment.to)\t\(segment.name)\t\(segment.digest)\t\(segment.archive)\t"
                + "\(segment.archivedAt.rfc3339)\n", to: path)
    }
}

/// Moves old sealed segments to an archive folder, verified before anything is removed
/// (`proxy-ledger archive`).
public enum LedgerArchiver {
    /// Copies every sealed segment of every partition whose events are all stamped before
    /// `before` (oldest first, stopping at the first that is not) into `archive` (a ledger folder
    /// of its own, with the same `LEDGER` marker), fsyncs and re-reads each copy (same SHA-256,
    /// every frame passes its CRC and decodes), records it in `partition-N/ARCHIVED`, and only then
    /// removes the original. The newest segment of a partition is never archived.
    ///
    /// Afterwards readers refuse the archived sequences unless given the archive
    /// (`LedgerReader(directory:archive:)`, `replay --rebuild --archive DIR`): nothing disappears
    /// silently.
    ///
    /// - Returns: The segments archived, in order.
    /// - Throws: `LedgerError` `.notFound` when there is no ledger; `.locked` when a writer holds
    ///   a partition; `.corruptFrame` when a segment to archive is damaged (nothing of it moves);
    ///   `.io` when a copy cannot be written or does not read back the same.
    public static func archive(directory: String, before: LedgerTimestamp, to archive: String, lockTimeout: Duration = .seconds(10)) throws -> [ArchivedSegment] {
        let layout = LedgerDirectory(path: directory)
        let target = LedgerDirectory(path: archive)
        let partitions = try layout.partitions()
        let ledgerID = try layout.ensureLedgerID()
        try prepareArchive(target, ledgerID: ledgerID)
        var archived: [ArchivedSegment] = []
        for partition in partitions {
            let lock = try SegmentWriter.lock(partitionPath: layout.partitionPath(partition), partition: partition, timeout: lockTimeout)
            defer { withExtendedLifetime(lock) {} }
            for base in try layout.segments(partition: partition).dropLast() {
                guard let segment = try archiveSegment(layout, target, partition: partition, base: base, before: before) else { break }
                archived.append(segment)
            }
        }
        return archived
    }

    private static func prepareArchive(_ target: LedgerDirectory, ledgerID: String) throws {
        try FileManager.default.createDirectory(atPath: target.path, withIntermediateDirectories: true)
        if let existing = try target.ledgerID() {
            guard existing == ledgerID else {
                throw LedgerError(.invalidArgument, "\(target.path) archives another ledger (id \(existing), this one is \(ledgerID))")
            }
        } else {
            try POSIXFile.writeDurably(Array("proxy-ledger ledger\nid \(ledgerID)\n".utf8), to: target.markerPath, exclusive: true)
        }
    }

    /// Archives one segment, or returns `nil` when it holds an event at or after `before`.
    private static func archiveSegment(
        _ layout: LedgerDirectory, _ target: LedgerDirectory, partition: Int, base: UInt64, before: LedgerTimestamp
    ) throws -> ArchivedSegment? {
        let source = layout.segmentPath(partition: partition, baseSequence: base)
        let bytes = try POSIXFile.readAll(source)
        let scan = SegmentScan(bytes)
        if let fault = scan.fault {
            throw LedgerError(.corruptFrame, "cannot archive a damaged segment: \(fault.explanation)", file: source, offset: Int64(fault.offset))
        }
        guard let last = scan.frames.last, scan.frames.allSatisfy({ $0.header.latestTimestamp < before.microseconds }) else { return nil }
        let digest = FrameChain.hex(FrameChain.digest(of: bytes, range: 0..<bytes.count))
        try FileManager.default.createDirectory(atPath: target.partitionPath(partition), withIntermediateDirectories: true)
        let copy = target.segmentPath(partition: partition, baseSequence: base)
        try POSIXFile.writeDurably(bytes, to: copy)
        try checkCopy(copy, digest: digest, path: source)
        let segment = ArchivedSegment(
            from: base, to: last.header.nextSequence, name: (source as NSString).lastPathComponent, digest: digest,
            archive: target.path, archivedAt: .now)
        try ArchiveManifest(partitionPath: layout.partitionPath(partition)).append(segment)
        guard unlink(source) == 0 else { throw LedgerError(.io, "cannot remove the archived segment: \(POSIXFile.errorText())", file: source) }
        try POSIXFile.syncDirectory(layout.partitionPath(partition))
        return segment
    }

    /// Re-reads the copy: the same SHA-256, and every frame passes its checksum and decodes.
    private static func checkCopy(_ copy: String, digest: String, path: String) throws {
        let bytes = try POSIXFile.readAll(copy)
        guard FrameChain.hex(FrameChain.digest(of: bytes, range: 0..<bytes.count)) == digest else {
            throw LedgerError(.io, "the archive copy does not read back the same; the original was kept", file: copy)
        }
        let scan = SegmentScan(bytes)
        for frame in scan.frames { _ = try SegmentScan.decode(frame, in: bytes, path: copy) }
        if let fault = scan.fault {
            throw LedgerError(.io, "the archive copy is damaged (\(fault.explanation)); the original \(path) was kept", file: copy)
        }
    }
}
