import Dispatch

/// The compressed payloads of one commit's frames, before their headers.
///
/// A commit of more than ``maxEvents`` events (the CLI's whole input) becomes several frames:
/// their columns are encoded and compressed on every core at once, and a reader never holds more
/// than one such frame decoded. A smaller commit is one frame, encoded on the calling thread.
struct FramePayload {
    /// The events of the commit this frame holds.
    var range: Range<Int>
    /// `FrameHeader.headerSize` bytes left for the header, then the zstd frame.
    var bytes: [UInt8]
    /// The payload's size before compression.
    var rawLength: Int
    /// The earliest and latest event time (UTC µs).
    var earliest: Int64, latest: Int64

    /// Events per frame at most.
    static let maxEvents = 16_384

    /// Encodes and compresses `events` into frames of at most `maxEvents`, in order.
    /// - Throws: ``LedgerError`` `.invalidEvent` (from ``BatchCodec``), `.compression`.
    static func encode(_ events: [ProxyRequestEvent], level: Int32, maxEvents: Int = maxEvents) throws(LedgerError) -> [FramePayload] {
        let ranges = stride(from: 0, to: events.count, by: max(1, maxEvents)).map { $0..<min($0 + max(1, maxEvents), events.count) }
        let results = events.withUnsafeBufferPointer { buffer in
            var results = [Result<FramePayload, LedgerError>?](repeating: nil, count: ranges.count)
            results.withUnsafeMutableBufferPointer { slots in
                let work = FrameWork(events: buffer, ranges: ranges, level: level, slots: slots)
                if ranges.count == 1 {
                    work.run(0)
                } else {
                    DispatchQueue.concurrentPerform(iterations: ranges.count) { work.run($0) }
                }
            }
            return results
        }
        var payloads: [FramePayload] = []
        payloads.reserveCapacity(results.count)
        for result in results {
            guard let result else { throw LedgerError(.compression, "a frame was not encoded") }
            payloads.append(try result.get())
        }
        return payloads
    }

    fileprivate static func encode(
        _ events: UnsafeBufferPointer<ProxyRequestEvent>, range: Range<Int>, level: Int32
    ) throws(LedgerError) -> FramePayload {
        let slice = UnsafeBufferPointer(rebasing: events[range])
        let raw = try BatchCodec.encode(slice)
        let bytes: [UInt8]
        do {
            bytes = try Zstd.compress(raw, level: level, front: FrameHeader.headerSize(version: FrameHeader.currentVersion))
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.compression, "\(error)")
        }
        var earliest = Int64.max, latest = Int64.min
        for event in slice.indices {
            earliest = min(earliest, slice[event].timestamp.microseconds)
            latest = max(latest, slice[event].timestamp.microseconds)
        }
        return FramePayload(range: range, bytes: bytes, rawLength: raw.count, earliest: earliest, latest: latest)
    }
}

/// The events, the frame ranges and a result slot per frame, for the threads of
/// `concurrentPerform`. Each thread reads the events and writes only its own slot, and the call
/// returns once all are done, so sharing the pointers is safe.
private struct FrameWork: @unchecked Sendable {
    let events: UnsafeBufferPointer<ProxyRequestEvent>
    let ranges: [Range<Int>]
    let level: Int32
    let slots: UnsafeMutableBufferPointer<Result<FramePayload, LedgerError>?>

    func run(_ index: Int) {
        slots[index] = Result { () throws(LedgerError) in
            try FramePayload.encode(events, range: ranges[index], level: level)
        }
    }
}
