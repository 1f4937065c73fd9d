import Foundation
import Testing
import TestSupport

@testable import Ledger

/// A large batch is encoded in parts on every core and stays one frame; the parts decode back to
/// the batch, and damaged parts are refused, never guessed at.
@Suite struct FramePayloadTests {
    /// The raw payload of `events` as ``FramePayload`` would compress it, joined.
    static func rawPayload(_ events: [ProxyRequestEvent], partEvents: Int, cores: Int = FramePayload.cores) throws -> [UInt8] {
        let payload = try FramePayload.encode(events, level: 3, partEvents: partEvents, cores: cores)
        let front = FrameHeader.headerSize(version: FrameHeader.currentVersion)
        let compressed = Array(payload.bytes[front...])
        return try compressed.withUnsafeBytes { try Zstd.decompress($0, rawLength: payload.rawLength) }
    }

    @Test(arguments: [1, 7, 100, 101, 10_000])
    func partsDecodeToTheWholeBatch(partEvents: Int) throws {
        let events = EventFactory.events(101)
        let raw = try Self.rawPayload(events, partEvents: partEvents, cores: 2)
        #expect(raw.first == (partEvents >= 101 ? BatchCodec.version : BatchCodec.partsVersion))
        let decoded = try BatchCodec.decode(raw)
        #expect(decoded.events == events)
        #expect(decoded.schemaVersion == 1)
    }

    /// A commit of `parallelEvents` or more is split across the cores; a smaller one, or any on
    /// one core, is one part; past `partEvents` no part is larger than that.
    @Test func commitsAreCutIntoPartsByCoresAndSize() {
        let parallel = FramePayload.parallelEvents
        #expect(FramePayload.partRanges(parallel - 1, partEvents: 16_384, cores: 2) == [0..<parallel - 1])
        #expect(FramePayload.partRanges(1_000, partEvents: 16_384, cores: 1) == [0..<1_000])
        #expect(FramePayload.partRanges(1_000, partEvents: 16_384, cores: 2) == [0..<500, 500..<1_000])
        #expect(FramePayload.partRanges(1_000, partEvents: 16_384, cores: 64).count == 1_000 / (parallel / 2))
        let large = FramePayload.partRanges(40_000, partEvents: 16_384, cores: 1)
        #expect(large.count == 3 && large.allSatisfy { $0.count <= 16_384 })
        #expect(large.first?.lowerBound == 0 && large.last?.upperBound == 40_000)
        #expect(zip(large, large.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
    }

    /// The bench's commit of 1,000 events on two cores: two parts, decoding to the batch.
    @Test func aMidSizeCommitOnTwoCoresDecodesToTheBatch() throws {
        let events = EventFactory.events(1_000)
        let raw = try Self.rawPayload(events, partEvents: FramePayload.partEvents, cores: 2)
        #expect(raw.first == BatchCodec.partsVersion)
        #expect(try BatchCodec.decode(raw).events == events)
    }

    @Test func theFrameSpansTheWholeBatch() throws {
        let events = EventFactory.events(50)
        let payload = try FramePayload.encode(events, level: 3, partEvents: 8)
        #expect(payload.earliest == events.map(\.timestamp.microseconds).min())
        #expect(payload.latest == events.map(\.timestamp.microseconds).max())
    }

    @Test func streamedCompressionDecodesToTheJoinedParts() throws {
        let parts: [[UInt8]] = [[], Array("abc".utf8), Array(repeating: 7, count: 100_000), [1], []]
        let joined = parts.flatMap { $0 }
        let compressed = try Zstd.compress(parts: parts, front: 5)
        let frame = Array(compressed[5...])
        #expect(try frame.withUnsafeBytes { try Zstd.decompress($0, rawLength: joined.count) } == joined)
        #expect(frame.withUnsafeBytes { Zstd.isExactlyOneFrame($0) })
    }

    /// Two parts of a payload in parts, with their sections, for damaging.
    static func parts(_ first: [UInt8], _ second: [UInt8], count: UInt8 = 2) -> [UInt8] {
        [BatchCodec.partsVersion, count, UInt8(first.count)] + first + [UInt8(second.count)] + second
    }

    @Test func damagedPartsAreRefused() throws {
        let one = try BatchCodec.encode(EventFactory.events(1))
        try #require(one.count < 128)
        #expect(try BatchCodec.decode(Self.parts(one, one)).events.count == 2)
        let otherSchema = try BatchCodec.encode(EventFactory.events(1), schemaVersion: 2)
        let damaged: [[UInt8]] = [
            [BatchCodec.partsVersion, 0],  // no parts
            [BatchCodec.partsVersion, 9, 1],  // more parts than bytes
            Self.parts(one, [BatchCodec.partsVersion] + one.dropFirst()),  // a part in parts
            Self.parts(one, otherSchema),  // parts of two schema versions
            Array(Self.parts(one, one).dropLast(3)),  // the last part cut short
        ]
        for payload in damaged {
            #expect(throws: (any Error).self) { try BatchCodec.decode(payload) }
        }
    }
}
