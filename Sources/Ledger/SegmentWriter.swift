import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The open tail of one partition: checks the sequence chain and recovers the tail on open,
/// appends hash-chained frames, rotates segments.
///
/// Not thread-safe: ``LedgerWriter`` confines it to its commit queue.
final class SegmentWriter {
    let configuration: LedgerConfiguration
    let layout: LedgerDirectory
    let logger: Logger
    private var lock: PIDFileLock?
    private var fd: Int32 = -1
    private(set) var path = ""
    private var size: Int64 = 0
    private var openedAt = Date()
    private(set) var nextSequence: UInt64 = 0
    private(set) var dirty = false
    /// The SHA-256 of the partition's last frame, which the next frame links to.
    private var previousDigest: [UInt8] = []
    /// Set by a failed fsync: the page cache's state is then unknown, so nothing more is written.
    private(set) var syncFailure: LedgerError?
    private var syncCount = 0
    var dedupe: DedupeIndex

    /// Takes the partition lock, checks the sealed segments' sequence chain, recovers the tail and
    /// loads the dedupe window.
    /// - Throws: `LedgerError` `.locked` when another writer still holds the partition after
    ///   ``LedgerConfiguration/lockTimeout``; `.corruptFrame` naming the file and byte offset when
    ///   a frame is damaged (anything but a torn final write); `.sequenceGap` when sequences do not
    ///   continue across frames or segments; `.io` on system errors.
    init(configuration: LedgerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.layout = LedgerDirectory(path: configuration.directory)
        self.logger = logger
        self.dedupe = DedupeIndex(window: configuration.dedupeWindowMicroseconds)
        guard configuration.partition >= 0 else {
            throw LedgerError(.invalidArgument, "partition must be 0 or more, not \(configuration.partition)")
        }
        let partitionPath = layout.partitionPath(configuration.partition)
        do {
            try FileManager.default.createDirectory(atPath: partitionPath, withIntermediateDirectories: true)
        } catch {
            throw LedgerError(.notFound, "cannot create ledger directory", file: partitionPath)
        }
        lock = try Self.lock(partitionPath: partitionPath, partition: configuration.partition, timeout: configuration.lockTimeout)
        do {
            let ledgerID = try layout.ensureLedgerID()
            let chain = try SequenceChain(QuarantineManifest(partitionPath: partitionPath).ranges())
            let sealed = try checkSealedSegments(chain: chain)
            try recover(chain: chain, sealedEnd: sealed, ledgerID: ledgerID)
            try loadDedupeWindow()
        } catch {
            close()
            throw error
        }
    }

    static func lock(partitionPath: String, partition: Int, timeout: Duration) throws -> PIDFileLock {
        let lockPath = partitionPath + "/LOCK"
        do {
            return try PIDFileLock.acquire(lockPath, timeout: timeout)
        } catch .cannotOpen(let reason) {
            throw LedgerError(.io, "cannot open lock file: \(reason)", file: lockPath)
        } catch .held(let pid) {
            let who = pid.map { "process \($0)" } ?? "another process (its pid is not recorded yet)"
            throw LedgerError(.locked, "partition \(partition) is held for writing by \(who) and was not released within "
                + "\(timeout); only one writer may hold it", file: lockPath)
        }
    }

    /// Walks the headers of every sealed segment and checks that sequences continue from one
    /// frame and segment to the next (jumping only over quarantined ranges).
    /// - Returns: the sequence after the last sealed frame and that frame (for the chain digest).
    private func checkSealedSegments(chain: SequenceChain) throws -> (next: UInt64, last: (path: String, frame: SegmentScan.Frame)?) {
        var expected = try ArchiveManifest(partitionPath: layout.partitionPath(configuration.partition)).end()
        var last: (path: String, frame: SegmentScan.Frame)?
        for base in try layout.segments(partition: configuration.partition).dropLast() {
            let segmentPath = layout.segmentPath(partition: configuration.partition, baseSequence: base)
            guard chain.accepts(expected: expected, actual: base) else {
                throw LedgerError(.sequenceGap, "segment starts at sequence \(base), expected \(expected): "
                    + "sequences \(expected)..<\(base) are missing (a segment was deleted or cut short)", file: segmentPath, offset: 0)
            }
            expected = base
            let headers = try SegmentHeaders(path: segmentPath)
            for frame in headers.frames {
                guard chain.accepts(expected: expected, actual: frame.header.baseSequence) else {
                    throw LedgerError(.sequenceGap, "frame starts at sequence \(frame.header.baseSequence), expected \(expected)",
                        file: segmentPath, offset: Int64(frame.offset))
                }
                expected = frame.header.nextSequence
                last = (segmentPath, frame)
            }
            if let fault = headers.fault {
                throw LedgerError(.corruptFrame, "sealed segment: \(fault.explanation); \(Self.recoverHint)",
                    file: segmentPath, offset: Int64(fault.offset))
            }
        }
        return (expected, last)
    }

    static let recoverHint = "nothing was changed; `proxy-ledger recover --ledger DIR` moves the damaged segment aside"

    /// Opens the newest segment, cutting off a torn final write and nothing else.
    private func recover(chain: SequenceChain, sealedEnd: (next: UInt64, last: (path: String, frame: SegmentScan.Frame)?), ledgerID: String) throws {
        guard let base = try layout.segments(partition: configuration.partition).last else {
            previousDigest = FrameChain.genesis(ledgerID: ledgerID, partition: configuration.partition)
            try startSegment(baseSequence: 0)
            return
        }
        path = layout.segmentPath(partition: configuration.partition, baseSequence: base)
        guard chain.accepts(expected: sealedEnd.next, actual: base) else {
            throw LedgerError(.sequenceGap, "segment starts at sequence \(base), expected \(sealedEnd.next)", file: path, offset: 0)
        }
        let bytes = try POSIXFile.readAll(path)
        let scan = SegmentScan(bytes)
        if let fault = scan.fault {
            guard scan.isTornTail(in: bytes) else {
                throw LedgerError(.corruptFrame, "\(fault.explanation), and it is not a torn final write (the frame is complete "
                    + "or good data follows); \(Self.recoverHint)", file: path, offset: Int64(fault.offset))
            }
            logger.warning("truncating torn final frame", metadata: [
                "ledger.segment": "\(path)", "ledger.offset": "\(fault.offset)",
                "ledger.bytes_dropped": "\(bytes.count - fault.offset)",
            ])
        }
        var expected = base
        for frame in scan.frames {
            guard chain.accepts(expected: expected, actual: frame.header.baseSequence) else {
                throw LedgerError(.sequenceGap, "frame starts at sequence \(frame.header.baseSequence), expected \(expected)",
                    file: path, offset: Int64(frame.offset))
            }
            expected = frame.header.nextSequence
        }
        if let frame = scan.frames.last {
            previousDigest = FrameChain.digest(of: bytes, range: frame.range)
        } else if let last = sealedEnd.last {
            previousDigest = FrameChain.digest(of: try SegmentHeaders.lastFrameBytes(path: last.path, frame: last.frame),
                range: 0..<last.frame.header.frameLength)
        } else {
            previousDigest = FrameChain.genesis(ledgerID: ledgerID, partition: configuration.partition)
        }
        try openTail(validLength: scan.validLength, fileLength: bytes.count)
        nextSequence = chain.skipping(from: expected)
    }

    private func openTail(validLength: Int, fileLength: Int) throws {
        fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw LedgerError(.io, "cannot open segment: \(POSIXFile.errorText())", file: path) }
        if validLength < fileLength {
            guard ftruncate(fd, off_t(validLength)) == 0 else {
                throw LedgerError(.io, "cannot truncate torn frame: \(POSIXFile.errorText())", file: path)
            }
            try POSIXFile.sync(fd, path: path)
        }
        size = Int64(validLength)
    }

    /// Reads the event ids of the frames appended within the dedupe window back into the index.
    /// A v1 frame has no append time; its latest event time (but never later than now) stands in.
    private func loadDedupeWindow() throws {
        let now = LedgerTimestamp.now.microseconds
        let cutoff = now &- configuration.dedupeWindowMicroseconds
        var frames: [(ids: [UUID], base: UInt64, appendedAt: Int64)] = []
        for base in try layout.segments(partition: configuration.partition).reversed() {
            let segmentPath = layout.segmentPath(partition: configuration.partition, baseSequence: base)
            let bytes = try POSIXFile.readAll(segmentPath)
            let scan = SegmentScan(bytes)
            var reachedOld = false
            for frame in scan.frames.reversed() {
                let appendedAt = frame.header.appendedAt ?? min(frame.header.latestTimestamp, now)
                if appendedAt < cutoff {
                    reachedOld = true
                    break
                }
                let events = try SegmentScan.decode(frame, in: bytes, path: segmentPath).events
                frames.append((events.map(\.eventID), frame.header.baseSequence, appendedAt))
            }
            if reachedOld { break }
        }
        for frame in frames.reversed() {
            dedupe.insert(frame.ids, baseSequence: frame.base, appendedAt: frame.appendedAt)
        }
    }

    private func startSegment(baseSequence: UInt64) throws {
        path = layout.segmentPath(partition: configuration.partition, baseSequence: baseSequence)
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LedgerError(.io, "cannot create segment: \(POSIXFile.errorText())", file: path) }
        try POSIXFile.syncDirectory(layout.partitionPath(configuration.partition))
        size = 0
        openedAt = Date()
        nextSequence = baseSequence
    }

    /// Seals the current segment and starts the next when it is full or too old.
    private func rotateIfNeeded() throws {
        guard size > 0 else { return }
        let tooBig = size >= Int64(configuration.segmentMaxBytes)
        let tooOld = configuration.segmentMaxAgeSeconds.map { Date().timeIntervalSince(openedAt) >= Double($0) } ?? false
        guard tooBig || tooOld else { return }
        try sync()
        Glibc.close(fd)
        fd = -1
        try startSegment(baseSequence: nextSequence)
    }

    /// Appends one frame for `events` (already deduplicated) and returns its header.
    /// On failure the segment is cut back to its previous length. Throws `LedgerError`
    /// `.invalidEvent` (nothing written) when an event cannot be encoded.
    func append(_ events: [ProxyRequestEvent]) throws -> FrameHeader {
        if let syncFailure { throw syncFailure }
        var payload = try FramePayload.encode(events, level: configuration.compressionLevel)
        try rotateIfNeeded()
        let header = FrameHeader.frame(
            &payload.bytes, baseSequence: nextSequence, recordCount: events.count, rawLength: payload.rawLength,
            earliest: payload.earliest, latest: payload.latest, appendedAt: LedgerTimestamp.now.microseconds,
            previousDigest: previousDigest)
        do {
            try POSIXFile.write(fd, payload.bytes, at: size, path: path)
        } catch {
            if ftruncate(fd, off_t(size)) != 0 { throw LedgerError(.closed, "segment tail is unknown after a failed write", file: path) }
            throw error
        }
        size += Int64(payload.bytes.count)
        previousDigest = FrameChain.digest(of: payload.bytes, range: 0..<payload.bytes.count)
        nextSequence = header.nextSequence
        dirty = true
        return header
    }

    /// fsyncs the current segment if anything was written since the last sync.
    ///
    /// - Throws: `LedgerError` `.io` when fsync fails. The writer is then poisoned: after a failed
    ///   fsync the kernel may have dropped the dirty pages, so every later append and sync throws
    ///   the same error until the partition is reopened (which re-reads what really is on disk).
    func sync() throws {
        if let syncFailure { throw syncFailure }
        guard dirty, fd >= 0 else { return }
        syncCount += 1
        do {
            if syncCount == configuration.failingSyncNumber {
                throw LedgerError(.io, "fsync failed: Input/output error", file: path)
            }
            let start = ContinuousClock.now
            try POSIXFile.sync(fd, path: path)
            configuration.syncObserver?(ContinuousClock.now - start)
        } catch let error as LedgerError {
            syncFailure = LedgerError(.io, "\(error.message); the writer refuses further appends until the partition is "
                + "reopened (a retried batch is then deduplicated)", file: error.file)
            throw syncFailure ?? error
        }
        dirty = false
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        lock = nil
    }
}
