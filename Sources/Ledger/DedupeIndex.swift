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
    /// One table slot: the id's two halves beside its value, so a probe touches one cache line.
    private struct Slot {
        var high: UInt64
        var low: UInt64
        /// Sequence + 1; 0 marks an empty slot.
        var value: UInt64
    }

    let window: Int64
    private var slots: [Slot]
    private var count = 0
    private var frames: [(appendedAt: Int64, ids: [UUID])] = []
    private var firstLive = 0
    private var newest = Int64.min
    /// Written by ``warm(count:id:)`` so that its loads are kept.
    private var warmed: UInt64 = 0

    init(window: Int64, capacity: Int = 1 << 16) {
        self.window = window
        slots = [Slot](repeating: Slot(high: 0, low: 0, value: 0), count: capacity)
    }

    @inline(__always) private static func split(_ id: UUID) -> (UInt64, UInt64) {
        withUnsafeBytes(of: id.uuid) { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
    }

    @inline(__always) private static func home(_ hi: UInt64, _ lo: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: ((lo ^ hi) &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// The slot holding (`hi`, `lo`), or the empty slot where it would go. The table is never
    /// more than half full, so the probe always ends.
    @inline(__always) private static func slot(_ hi: UInt64, _ lo: UInt64, in table: UnsafeBufferPointer<Slot>) -> (index: Int, found: Bool) {
        let mask = table.count - 1
        var index = home(hi, lo, mask: mask)
        while table[index].value != 0 {
            if table[index].high == hi, table[index].low == lo { return (index, true) }
            index = (index + 1) & mask
        }
        return (index, false)
    }

    /// The stored sequence of `id`, if it is in the window.
    func position(of id: UUID) -> UInt64? {
        let (hi, lo) = Self.split(id)
        return slots.withUnsafeBufferPointer { table in
            let (index, found) = Self.slot(hi, lo, in: table)
            return found ? table[index].value - 1 : nil
        }
    }

    /// Loads the home slot of each of `count` ids (`id(0)`…) before they are claimed one by one.
    ///
    /// The table is larger than the caches, so each claim would wait on a memory load of its own;
    /// these loads do not depend on one another, so the processor overlaps them, and the claims
    /// that follow find their slots in cache.
    mutating func warm(count: Int, id: (Int) -> UUID) {
        var sum: UInt64 = 0
        slots.withUnsafeBufferPointer { table in
            let mask = table.count - 1
            for index in 0..<count {
                let (hi, lo) = Self.split(id(index))
                sum &+= table[Self.home(hi, lo, mask: mask)].value
            }
        }
        warmed = sum
    }

    /// Returns the stored sequence of `id`, or records `sequence` for it and returns `nil`.
    mutating func claim(_ id: UUID, sequence: UInt64) -> UInt64? {
        let (hi, lo) = Self.split(id)
        let old = slots.withUnsafeMutableBufferPointer { table -> UInt64? in
            let (index, found) = Self.slot(hi, lo, in: UnsafeBufferPointer(table))
            if found { return table[index].value - 1 }
            table[index] = Slot(high: hi, low: lo, value: sequence + 1)
            return nil
        }
        if old != nil { return old }
        count += 1
        if count * 2 > slots.count { grow() }
        return nil
    }

    /// Forgets `id` (used to undo claims of a batch whose write failed).
    mutating func remove(_ id: UUID) {
        let (hi, lo) = Self.split(id)
        let removed = slots.withUnsafeMutableBufferPointer { table -> Bool in
            let (start, found) = Self.slot(hi, lo, in: UnsafeBufferPointer(table))
            guard found else { return false }
            var index = start
            let mask = table.count - 1
            table[index].value = 0
            // Backward-shift deletion keeps every probe chain unbroken.
            var next = (index + 1) & mask
            while table[next].value != 0 {
                let home = Self.home(table[next].high, table[next].low, mask: mask)
                if (next &- home) & mask >= (next &- index) & mask {
                    table[index] = table[next]
                    table[next].value = 0
                    index = next
                }
                next = (next + 1) & mask
            }
            return true
        }
        if removed { count -= 1 }
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(high: 0, low: 0, value: 0), count: old.count * 2)
        slots.withUnsafeMutableBufferPointer { table in
            for entry in old where entry.value != 0 {
                let (index, _) = Self.slot(entry.high, entry.low, in: UnsafeBufferPointer(table))
                table[index] = entry
            }
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
