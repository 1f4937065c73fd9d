import Foundation
import Testing

@testable import Ledger

@Suite struct DedupeIndexTests {
    @Test func claimsGrowsRemovesAndEvicts() {
        var index = DedupeIndex(window: 1_000, capacity: 8)
        let ids = (0..<5_000).map { _ in UUID() }
        for (offset, id) in ids.enumerated() { #expect(index.claim(id, sequence: UInt64(offset)) == nil) }
        #expect(index.claim(ids[1234], sequence: 99_999) == 1234)
        for id in ids[..<2_500] { index.remove(id) }
        #expect(ids[..<2_500].allSatisfy { index.position(of: $0) == nil })
        #expect(ids[2_500...].enumerated().allSatisfy { index.position(of: $0.element) == UInt64($0.offset + 2_500) })

        var windowed = DedupeIndex(window: 1_000)
        let old = UUID(), recent = UUID(), newest = UUID()
        windowed.insert([old], baseSequence: 0, appendedAt: 500)
        windowed.insert([recent], baseSequence: 1, appendedAt: 1_400)
        #expect(windowed.position(of: old) == 0, "still within 1,000 µs of the newest append")
        windowed.insert([newest], baseSequence: 2, appendedAt: 2_000)
        #expect(windowed.position(of: old) == nil, "evicted: 1,500 µs older than the newest append")
        #expect(windowed.position(of: recent) == 1)
        #expect(windowed.position(of: newest) == 2)
    }
}
