import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `proxy-ledger recover` did to one damaged segment.
public struct SegmentRecovery: Sendable, Hashable {
    public var partition: Int
    /// The segment path; it now holds the good frames only.
    public var segment: String
    /// Where the original bytes went (`partition-N/quarantine/…`); nothing is deleted.
    public var quarantinedFile: String
    /// The ranges only the quarantined file holds, as recorded in the manifest. A range whose end
    /// the damaged header does not tell has `from == to`.
    public var lostRanges: [QuarantinedRange]
    /// Events of good frames kept in the segment (before and after the damage).
    public var eventsKept: Int
}

/// Moves damaged segments aside so the partition can be written again, keeping every good frame
/// in place and every original byte in the quarantine folder (`proxy-ledger recover`).
public enum LedgerRecovery {
    /// Scans every segment of `partition` and, for each with a damaged frame (anything but a torn
    /// final write of the newest segment), writes a copy with only its good frames, records the
    /// lost sequence ranges in `partition-N/quarantine/QUARANTINE`, moves the original into that
    /// folder, and puts the copy in its place. Readers and the writer then accept exactly those
    /// gaps; the writer continues after them, so no sequence is ever used twice.
    ///
    /// - Parameters:
    ///   - directory: The ledger directory.
    ///   - partition: The partition to recover; it must not be open for writing.
    ///   - lockTimeout: How long to wait for the partition's writer lock.
    /// - Returns: One entry per segment that was recovered; empty when nothing was damaged.
    /// - Throws: `LedgerError` `.notFound` when there is no ledger, `.locked` when a writer holds
    ///   the partition, `.io` when a file cannot be written (the ledger is then as it was, or
    ///   the next run completes the swap).
    public static func recover(directory: String, partition: Int, lockTimeout: Duration = .seconds(10)) throws -> [SegmentRecovery] {
        let layout = LedgerDirectory(path: directory)
        guard try layout.partitions().contains(partition) else {
            throw LedgerError(.notFound, "the ledger at \(directory) has no partition \(partition)")
        }
        let partitionPath = layout.partitionPath(partition)
        let lock = try SegmentWriter.lock(partitionPath: partitionPath, partition: partition, timeout: lockTimeout)
        defer { withExtendedLifetime(lock) {} }
        let manifest = QuarantineManifest(partitionPath: partitionPath)
        let segments = try layout.segments(partition: partition)
        var recovered: [SegmentRecovery] = []
        for (index, base) in segments.enumerated() {
            let path = layout.segmentPath(partition: partition, baseSequence: base)
            try finishInterruptedSwap(path)
            let nextBase = index + 1 < segments.count ? segments[index + 1] : nil
            if let result = try recoverSegment(path: path, base: base, nextBase: nextBase, partition: partition, manifest: manifest) {
                recovered.append(result)
            }
        }
        return recovered
    }

    private static func recoverSegment(
        path: String, base: UInt64, nextBase: UInt64?, partition: Int, manifest: QuarantineManifest
    ) throws -> SegmentRecovery? {
        let bytes = try POSIXFile.readAll(path)
        let first = SegmentScan(bytes)
        guard first.fault != nil, !(nextBase == nil && first.isTornTail(in: bytes)) else { return nil }
        var kept: [SegmentScan.Frame] = []
        var lost: [(from: UInt64, to: UInt64, offset: Int)] = []
        var expected = base
        var scan = first
        while true {
            kept += scan.frames
            expected = scan.frames.last?.header.nextSequence ?? expected
            guard let fault = scan.fault, !(nextBase == nil && scan.isTornTail(in: bytes)) else { break }
            let next = SegmentScan.nextGoodFrame(after: fault.offset, in: bytes)
            let end = SegmentScan.lostEnd(in: bytes, fault: fault.offset, next: next, expected: expected, nextSegmentBase: nextBase)
                ?? expected
            lost.append((expected, max(expected, end), fault.offset))
            expected = max(expected, end)
            guard let next else { break }
            scan = SegmentScan(bytes, from: next)
        }
        let stamp = LedgerTimestamp.now
        let name = (path as NSString).lastPathComponent
        let quarantined = "\(QuarantineManifest.folderName)/\(name).\(compactStamp(stamp))"
        let copy = kept.flatMap { bytes[$0.range] }
        let ranges = lost.map {
            QuarantinedRange(from: $0.from, to: $0.to, file: quarantined, offset: Int64($0.offset), recordedAt: stamp)
        }
        try swap(path: path, copy: copy, quarantined: quarantined, ranges: ranges, manifest: manifest)
        return SegmentRecovery(
            partition: partition, segment: path, quarantinedFile: manifest.partitionPath + "/" + quarantined,
            lostRanges: ranges, eventsKept: kept.reduce(0) { $0 + Int($1.header.recordCount) })
    }

    /// Writes the copy beside the segment, records the ranges, moves the original into the
    /// quarantine folder and renames the copy into place, fsyncing each step.
    private static func swap(path: String, copy: [UInt8], quarantined: String, ranges: [QuarantinedRange], manifest: QuarantineManifest) throws {
        try POSIXFile.writeDurably(copy, to: path + ".recovering")
        for range in ranges { try manifest.append(range) }
        let destination = manifest.partitionPath + "/" + quarantined
        guard rename(path, destination) == 0 else {
            throw LedgerError(.io, "cannot move the damaged segment aside: \(POSIXFile.errorText())", file: path)
        }
        try POSIXFile.syncDirectory(manifest.folder)
        try finishInterruptedSwap(path)
    }

    /// Puts a recovered copy in place when an earlier run stopped after moving the original.
    private static func finishInterruptedSwap(_ path: String) throws {
        let temporary = path + ".recovering"
        guard FileManager.default.fileExists(atPath: temporary) else { return }
        if FileManager.default.fileExists(atPath: path) {
            unlink(temporary)
            return
        }
        guard rename(temporary, path) == 0 else {
            throw LedgerError(.io, "cannot install the recovered segment: \(POSIXFile.errorText())", file: path)
        }
        try POSIXFile.syncDirectory((path as NSString).deletingLastPathComponent)
    }

    private static func compactStamp(_ time: LedgerTimestamp) -> String {
        String(time.rfc3339.prefix(19)).replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "-", with: "") + "Z"
    }
}
