import Foundation
import Testing
import TestSupport

@testable import Ledger

/// The SHA-256 frame chain: a rewrite with a valid CRC is still found.
@Suite struct TamperTests {
    static let segment0 = "/partition-0/00000000000000000000.seg"

    func makeLedger(_ scratch: TemporaryDirectory, batches: Int) async throws {
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path, fsyncPolicy: .none))
        for index in 0..<batches { _ = try await writer.append(EventFactory.events(10, seed: index)) }
        try await writer.close()
    }

    /// Rewrites frame `index` with one event's `response_bytes` changed and a freshly computed CRC,
    /// as a forger who knows the format would.
    func forge(_ path: String, frame index: Int) throws {
        var bytes = try POSIXFile.readAll(path)
        let frames = SegmentScan(bytes).frames
        let frame = frames[index]
        var events = try SegmentScan.decode(frame, in: bytes, path: path).events
        events[0].responseBytes = (events[0].responseBytes ?? 0) + 1_000_000
        let raw = try BatchCodec.encode(events)
        let payload = try Zstd.compress(raw)
        let header = frame.header
        let forged = FrameHeader.makeFrame(
            baseSequence: header.baseSequence, recordCount: Int(header.recordCount), rawLength: raw.count,
            earliest: header.earliestTimestamp, latest: header.latestTimestamp, appendedAt: header.appendedAt ?? 0,
            previousDigest: header.previousDigest ?? [], payload: payload)
        bytes.replaceSubrange(frame.range, with: forged.bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func aRewrittenEventWithAValidCRCBreaksTheChain() async throws {
        let scratch = try TemporaryDirectory("forge")
        try await makeLedger(scratch, batches: 3)
        let segment = scratch.path + Self.segment0
        try forge(segment, frame: 1)
        let forgedOffset = SegmentScan(try POSIXFile.readAll(segment)).frames[2].offset
        #expect(try Self.readAll(scratch.path).count == 30, "the CRCs pass: only the chain can tell")
        let result = try LedgerVerifier.verify(directory: scratch.path)
        #expect(result.firstFault?.code == .chainBroken)
        #expect(result.firstFault?.offset == Int64(forgedOffset), "the first broken link is the frame after the forgery")
    }

    @Test func aKeptHeadProvesTheLedgerUpToItAndCatchesARewriteOfTheLastFrame() async throws {
        let scratch = try TemporaryDirectory("heads")
        try await makeLedger(scratch, batches: 2)
        let heads = try LedgerVerifier.verify(directory: scratch.path).heads
        #expect(heads.map(\.nextSequence) == [20])
        let kept = try LedgerHead.parse(heads.map(\.description).joined(separator: "\n"))
        #expect(kept == heads)

        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        _ = try await writer.append(EventFactory.events(5, seed: 3))
        try await writer.close()
        #expect(try LedgerVerifier.verify(directory: scratch.path, expecting: kept).isClean, "appending keeps old heads")

        try forge(scratch.path + Self.segment0, frame: 1)
        let result = try LedgerVerifier.verify(directory: scratch.path, expecting: kept)
        #expect(result.firstFault?.code == .chainBroken)
    }

    @Test func removingTheLastFrameIsCaughtByAKeptHead() async throws {
        let scratch = try TemporaryDirectory("heads-cut")
        try await makeLedger(scratch, batches: 3)
        let kept = try LedgerVerifier.verify(directory: scratch.path).heads
        let segment = scratch.path + Self.segment0
        let last = try #require(SegmentScan(try POSIXFile.readAll(segment)).frames.last)
        let handle = try #require(FileHandle(forUpdatingAtPath: segment))
        try handle.truncate(atOffset: UInt64(last.offset))
        try handle.close()
        #expect(try LedgerVerifier.verify(directory: scratch.path).isClean, "a cut at a frame boundary alone looks clean")
        #expect(try LedgerVerifier.verify(directory: scratch.path, expecting: kept).firstFault?.code == .chainBroken)
    }

    @Test func aFrameFromAnotherLedgerDoesNotLinkToThisGenesis() async throws {
        let scratch = try TemporaryDirectory("genesis")
        try await makeLedger(scratch, batches: 1)
        try Data("proxy-ledger ledger\nid 00000000-0000-4000-8000-000000000000\n".utf8)
            .write(to: URL(fileURLWithPath: scratch.path + "/LEDGER"))
        #expect(try LedgerVerifier.verify(directory: scratch.path).firstFault?.code == .chainBroken)
    }

    static func readAll(_ directory: String) throws -> [LedgerRecord] {
        var records: [LedgerRecord] = []
        try LedgerReader(directory: directory).scanAll { records += $0 }
        return records
    }
}
