import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The open tail of one partition: recovers it on open, appends frames, rotates segments.
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
    var dedupe: DedupeIndex

    /// Takes the partition lock, recovers the tail and loads the dedupe window.
    /// - Throws: `LedgerError` `.locked` when another writer holds the partition, `.corruptFrame`
    ///   when a segment is damaged other than by a torn final frame, `.io` on system errors.
    init(configuration: LedgerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.layout = LedgerDirectory(path: configuration.directory)
        self.logger = logger
        self.dedupe = DedupeIndex(window: configuration.dedupeWindowMicroseconds)
        let partitionPath = layout.partitionPath(configuration.partition)
        do {
            try FileManager.default.createDirectory(atPath: partitionPath, withIntermediateDirectories: true)
        } catch {
            throw LedgerError(.notFound, "cannot create ledger directory", file: partitionPath)
        }
        lock = try Self.lock(partitionPath: partitionPath, partition: configuration.partition)
        do {
            try recover()
            try loadDedupeWindow()
        } catch {
            close()
            throw error
        }
    }

    private static func lock(partitionPath: String, partition: Int) throws -> PIDFileLock {
        let lockPath = partitionPath + "/LOCK"
        do {
            return try PIDFileLock.acquire(lockPath)
        } catch .cannotOpen(let reason) {
            throw LedgerError(.io, "cannot open lock file: \(reason)", file: lockPath)
        } catch .held(let pid) {
            let who = pid.map { "process \($0)" } ?? "another process"
            throw LedgerError(.locked, "partition \(partition) is already open for writing by \(who); only one writer may hold it", file: lockPath)
        }
    }

    /// Opens the newest segment, truncating a torn or corrupt final frame.
    private func recover() throws {
        let segments = layout.segments(partition: configuration.partition)
        guard let base = segments.last else {
            try startSegment(baseSequence: 0)
            return
        }
        path = layout.segmentPath(partition: configuration.partition, baseSequence: base)
        let bytes = try POSIXFile.readAll(path)
        let scan = SegmentScan(bytes)
        if let fault = scan.fault {
            if fault.kind != .truncated, SegmentScan.hasGoodFrame(after: fault.offset, in: bytes) {
                throw LedgerError(.corruptFrame, "damaged frame followed by good frames; refusing to truncate",
                    file: path, offset: Int64(fault.offset))
            }
            logger.warning("truncating torn final frame", metadata: [
                "ledger.segment": "\(path)", "ledger.offset": "\(fault.offset)",
                "ledger.bytes_dropped": "\(bytes.count - fault.offset)",
            ])
        }
        var expected = base
        for frame in scan.frames {
            guard frame.header.baseSequence == expected else {
                throw LedgerError(.sequenceGap, "frame starts at sequence \(frame.header.baseSequence), expected \(expected)",
                    file: path, offset: Int64(frame.offset))
            }
            expected = frame.header.nextSequence
        }
        fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw LedgerError(.io, "cannot open segment: \(POSIXFile.errorText())", file: path) }
        if scan.validLength < bytes.count {
            guard ftruncate(fd, off_t(scan.validLength)) == 0 else {
                throw LedgerError(.io, "cannot truncate torn frame: \(POSIXFile.errorText())", file: path)
            }
            try POSIXFile.sync(fd, path: path)
        }
        size = Int64(scan.validLength)
        nextSequence = expected
    }

    /// Reads event ids of the newest frames back into the dedupe index.
    private func loadDedupeWindow() throws {
        var frames: [(ids: [UUID], base: UInt64, latest: Int64)] = []
        var newest = Int64.min
        for base in layout.segments(partition: configuration.partition).reversed() {
            let segmentPath = layout.segmentPath(partition: configuration.partition, baseSequence: base)
            let bytes = try POSIXFile.readAll(segmentPath)
            let scan = SegmentScan(bytes)
            var reachedOld = false
            for frame in scan.frames.reversed() {
                newest = max(newest, frame.header.latestTimestamp)
                if frame.header.latestTimestamp < newest &- configuration.dedupeWindowMicroseconds {
                    reachedOld = true
                    break
                }
                let events = try SegmentScan.decode(frame, in: bytes, path: segmentPath).events
                frames.append((events.map(\.eventID), frame.header.baseSequence, frame.header.latestTimestamp))
            }
            if reachedOld { break }
        }
        for frame in frames.reversed() {
            dedupe.insert(frame.ids, baseSequence: frame.base, latest: frame.latest)
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
        try POSIXFile.sync(fd, path: path)
        Glibc.close(fd)
        fd = -1
        dirty = false
        try startSegment(baseSequence: nextSequence)
    }

    /// Appends one frame for `events` (already deduplicated) and returns its header.
    /// On failure the segment is cut back to its previous length. Throws `LedgerError`
    /// `.invalidEvent` (nothing written) when an event cannot be encoded.
    func append(_ events: [ProxyRequestEvent]) throws -> FrameHeader {
        let raw = try BatchCodec.encode(events)
        try rotateIfNeeded()
        let compressed = try Zstd.compress(raw, level: configuration.compressionLevel)
        var earliest = Int64.max, latest = Int64.min
        for event in events {
            earliest = min(earliest, event.timestamp.microseconds)
            latest = max(latest, event.timestamp.microseconds)
        }
        let frame = FrameHeader.makeFrame(
            baseSequence: nextSequence, recordCount: events.count, rawLength: raw.count,
            earliest: earliest, latest: latest, payload: compressed)
        do {
            try POSIXFile.write(fd, frame.bytes, at: size, path: path)
        } catch {
            if ftruncate(fd, off_t(size)) != 0 { throw LedgerError(.closed, "segment tail is unknown after a failed write", file: path) }
            throw error
        }
        size += Int64(frame.bytes.count)
        nextSequence = frame.header.nextSequence
        dirty = true
        return frame.header
    }

    /// fsyncs the current segment if anything was written since the last sync.
    func sync() throws {
        guard dirty, fd >= 0 else { return }
        try POSIXFile.sync(fd, path: path)
        dirty = false
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        lock = nil
    }
}
