import Foundation

/// Event ids of recent frames and where they are stored, for idempotent append.
///
/// Holds the ids of every frame whose latest event lies within `window` microseconds of the newest
/// event seen. Rebuilt on open from the newest segments, so it survives restarts.
struct DedupeIndex {
    let window: Int64
    private var positions: [UUID: UInt64] = [:]
    private var frames: [(latest: Int64, ids: [UUID])] = []
    private var firstLive = 0
    private var newest = Int64.min

    init(window: Int64) { self.window = window }

    func position(of id: UUID) -> UInt64? { positions[id] }

    mutating func insert(_ ids: [UUID], baseSequence: UInt64, latest: Int64) {
        for (offset, id) in ids.enumerated() where positions[id] == nil {
            positions[id] = baseSequence + UInt64(offset)
        }
        frames.append((latest, ids))
        newest = max(newest, latest)
        evict()
    }

    private mutating func evict() {
        let cutoff = newest &- window
        while firstLive < frames.count, frames[firstLive].latest < cutoff {
            for id in frames[firstLive].ids { positions.removeValue(forKey: id) }
            frames[firstLive].ids = []
            firstLive += 1
        }
        if firstLive > 1024, firstLive * 2 > frames.count {
            frames.removeFirst(firstLive)
            firstLive = 0
        }
    }
}
