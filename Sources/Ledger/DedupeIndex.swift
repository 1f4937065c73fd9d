import Foundation

/// Event ids of recent frames and where they are stored, for idempotent append.
///
/// Holds the ids of every frame appended within `window` microseconds of the newest append, by
/// the writer's clock: the events' own timestamps never move the window, so one event stamped
/// far in the future cannot push every real event out of it. Rebuilt on open from the newest
/// segments, so it survives restarts.
///
/// An open-addressing table keyed by the 128-bit id (linear probing, backward-shift deletion).
/// Event ids are random UUIDs, so their low 64 bits are already a good hash; this avoids SipHash,
/// which dominated the append path with `Dictionary<UUID, UInt64>`.
/// - Complexity: O(1) expected per lookup, insert and eviction.
struct DedupeIndex {
    let window: Int64
    private var high: [UInt64]
    private var low: [UInt64]
    /// Sequence + 1; 0 marks an empty slot.
    private var values: [UInt64]
    private var count = 0
    private var frames: [(appendedAt: Int64, ids: [UUID])] = []
    private var firstLive = 0
    private var newest = Int64.min

    init(window: Int64, capacity: Int = 1 << 16) {
        self.window = window
        high = [UInt64](repeating: 0, count: capacity)
        low = high
        values = high
    }

    private static func split(_ id: UUID) -> (UInt64, UInt64) {
        withUnsafeBytes(of: id.uuid) { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
    }

    @inline(__always) private static func home(_ hi: UInt64, _ lo: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: ((lo ^ hi) &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    @inline(__always) private func slot(_ hi: UInt64, _ lo: UInt64) -> (index: Int, found: Bool) {
        let mask = values.count - 1
        var index = Self.home(hi, lo, mask: mask)
        while values[index] != 0 {
            if high[index] == hi, low[index] == lo { return (index, true) }
            index = (index + 1) & mask
        }
        return (index, false)
    }

    /// The stored sequence of `id`, if it is in the window.
    func position(of id: UUID) -> UInt64? {
        let (hi, lo) = Self.split(id)
        let (index, found) = slot(hi, lo)
        return found ? values[index] - 1 : nil
    }

    /// Returns the stored sequence of `id`, or records `sequence` for it and returns `nil`.
    mutating func claim(_ id: UUID, sequence: UInt64) -> UInt64? {
        let (hi, lo) = Self.split(id)
        let (index, found) = slot(hi, lo)
        if found { return values[index] - 1 }
        high[index] = hi
        low[index] = lo
        values[index] = sequence + 1
        count += 1
        if count * 2 > values.count { grow() }
        return nil
    }

    /// Forgets `id` (used to undo claims of a batch whose write failed).
    mutating func remove(_ id: UUID) {
        let (hi, lo) = Self.split(id)
        let (start, found) = slot(hi, lo)
        guard found else { return }
        var index = start
        let mask = values.count - 1
        values[index] = 0
        count -= 1
        // Backward-shift deletion keeps every probe chain unbroken.
        var next = (index + 1) & mask
        while values[next] != 0 {
            let home = Self.home(high[next], low[next], mask: mask)
            if (next &- home) & mask >= (next &- index) & mask {
                high[index] = high[next]
                low[index] = low[next]
                values[index] = values[next]
                values[next] = 0
                index = next
            }
            next = (next + 1) & mask
        }
    }

    private mutating func grow() {
        let (oldHigh, oldLow, oldValues) = (high, low, values)
        high = [UInt64](repeating: 0, count: oldValues.count * 2)
        low = high
        values = high
        for index in oldValues.indices where oldValues[index] != 0 {
            let (slotIndex, _) = slot(oldHigh[index], oldLow[index])
            high[slotIndex] = oldHigh[index]
            low[slotIndex] = oldLow[index]
            values[slotIndex] = oldValues[index]
        }
    }

    /// Records that a frame with `ids` (already claimed) was appended at `appendedAt` (UTC µs,
    /// the writer's clock), and evicts frames that fell out of the window.
    mutating func frameWritten(ids: [UUID], appendedAt: Int64) {
        frames.append((appendedAt, ids))
        newest = max(newest, appendedAt)
        let cutoff = newest &- window
        while firstLive < frames.count, frames[firstLive].appendedAt < cutoff {
            for id in frames[firstLive].ids { remove(id) }
            frames[firstLive].ids = []
            firstLive += 1
        }
        if firstLive > 1024, firstLive * 2 > frames.count {
            frames.removeFirst(firstLive)
            firstLive = 0
        }
    }

    /// Loads a frame read back from disk.
    mutating func insert(_ ids: [UUID], baseSequence: UInt64, appendedAt: Int64) {
        for (offset, id) in ids.enumerated() { _ = claim(id, sequence: baseSequence + UInt64(offset)) }
        frameWritten(ids: ids, appendedAt: appendedAt)
    }
}
