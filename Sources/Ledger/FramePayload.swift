import Dispatch
import Foundation

/// The compressed payload of one commit's frame, before its header.
///
/// A commit is encoded in parts, on every core at once, into one payload in parts
/// (``BatchCodec/partsVersion``) when it holds at least ``parallelEvents`` events on a machine of
/// more than one core (a part per core), or more than ``partEvents`` (parts of at most that many:
/// the CLI's whole input). It is still one frame, so a batch stays all or nothing on disk. Any
/// other commit is one version-1 payload, encoded on the calling thread.
struct FramePayload {
    /// `FrameHeader.headerSize` bytes left for the header, then the zstd frame.
    var bytes: [UInt8]
    /// The payload's size before compression.
    var rawLength: Int
    /// The earliest and latest event time (UTC µs).
    var earliest: Int64, latest: Int64

    /// Events per part at most.
    static let partEvents = 16_384
    /// The smallest commit worth splitting across cores: below it, handing parts to other threads
    /// costs more than encoding them here.
    static let parallelEvents = 512
    /// Read once: `activeProcessorCount` reads the cgroup's CPU quota from files on every call.
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// Encodes and compresses `events`.
    /// - Throws: ``LedgerError`` `.invalidEvent` (from ``BatchCodec``), `.compression`, and
    ///   `.invalidEvent` when the payload would pass the frame's 4 GiB raw length.
    static func encode(
        _ events: [ProxyRequestEvent], level: Int32, partEvents: Int = partEvents,
        cores: Int = cores
    ) throws(LedgerError) -> FramePayload {
        let raw = try encodeParts(events, ranges: partRanges(events.count, partEvents: max(1, partEvents), cores: cores))
        let rawLength = raw.reduce(0) { $0 + $1.count }
        guard rawLength <= Int(UInt32.max) else {
            throw LedgerError(.invalidEvent, "\(events.count) events encode to \(rawLength) bytes, past a frame's 4 GiB; append them in smaller batches")
        }
        let front = FrameHeader.headerSize(version: FrameHeader.currentVersion)
        let bytes: [UInt8]
        do {
            bytes = raw.count == 1 ? try Zstd.compress(raw[0], level: level, front: front) : try Zstd.compress(parts: raw, level: level, front: front)
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.compression, "\(error)")
        }
        var earliest = Int64.max, latest = Int64.min
        for index in events.indices {
            earliest = min(earliest, events[index].timestamp.microseconds)
            latest = max(latest, events[index].timestamp.microseconds)
        }
        return FramePayload(bytes: bytes, rawLength: rawLength, earliest: earliest, latest: latest)
    }

    /// How `count` events are cut into parts: one range when the commit is encoded whole.
    static func partRanges(_ count: Int, partEvents: Int, cores: Int) -> [Range<Int>] {
        let parts: Int
        if count > partEvents {
            parts = (count + partEvents - 1) / partEvents
        } else if cores > 1, count >= parallelEvents {
            parts = min(cores, count / (parallelEvents / 2))
        } else {
            parts = 1
        }
        return (0..<parts).map { part in part * count / parts..<(part + 1) * count / parts }
    }

    /// The raw payload as byte runs to join: one version-1 payload, or the parts header, then
    /// each part's length and bytes.
    private static func encodeParts(_ events: [ProxyRequestEvent], ranges: [Range<Int>]) throws(LedgerError) -> [[UInt8]] {
        guard ranges.count > 1 else { return [try BatchCodec.encode(events)] }
        let results = events.withUnsafeBufferPointer { buffer in
            var results = [Result<[UInt8], LedgerError>?](repeating: nil, count: ranges.count)
            results.withUnsafeMutableBufferPointer { slots in
                let work = PartWork(events: buffer, ranges: ranges, slots: slots)
                DispatchQueue.concurrentPerform(iterations: ranges.count) { work.run($0) }
            }
            return results
        }
        var header = ByteWriter()
        header.byte(BatchCodec.partsVersion)
        header.varint(ranges.count)
        var runs = [header.bytes]
        for result in results {
            guard let part = try result?.get() else { throw LedgerError(.compression, "a payload part was not encoded") }
            var length = ByteWriter()
            length.varint(part.count)
            runs += [length.bytes, part]
        }
        return runs
    }
}

/// The events, the part ranges and a result slot per part, for the threads of
/// `concurrentPerform`. Each thread reads the events and writes only its own slot, and the call
/// returns once all are done, so sharing the pointers is safe.
private struct PartWork: @unchecked Sendable {
    let events: UnsafeBufferPointer<ProxyRequestEvent>
    let ranges: [Range<Int>]
    let slots: UnsafeMutableBufferPointer<Result<[UInt8], LedgerError>?>

    func run(_ index: Int) {
        slots[index] = Result { () throws(LedgerError) in
            try BatchCodec.encode(UnsafeBufferPointer(rebasing: events[ranges[index]]))
        }
    }
}
