import Foundation
import Testing
import TestSupport

@testable import Ledger

@Suite struct CorruptionTests {
    /// Writes `batches` frames of 10 events and returns the segment path.
    func makeLedger(_ scratch: TemporaryDirectory, batches: Int) async throws -> String {
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path, fsyncPolicy: .none))
        for index in 0..<batches { _ = try await writer.append(EventFactory.events(10, seed: index)) }
        try await writer.close()
        return scratch.path + "/partition-0/00000000000000000000.seg"
    }

    func frameOffsets(_ path: String) throws -> [Int] {
        SegmentScan(try POSIXFile.readAll(path)).frames.map(\.offset)
    }

    @Test(arguments: [1, 20, 47, 48, 100])
    func tornFinalFrameIsTruncatedOnOpen(cut: Int) async throws {
        let scratch = try TemporaryDirectory("torn")
        let segment = try await makeLedger(scratch, batches: 3)
        let offsets = try frameOffsets(segment)
        let handle = try #require(FileHandle(forUpdatingAtPath: segment))
        try handle.truncate(atOffset: UInt64(offsets[2] + cut))
        try handle.close()

        let verification = try LedgerVerifier.verify(directory: scratch.path)
        #expect(verification.firstFault?.offset == Int64(offsets[2]))
        #expect(verification.firstFault?.file == segment)
        #expect(try readAll(scratch.path).count == 20, "a reader treats a torn tail as not yet written")

        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        let acks = try await writer.append(EventFactory.events(5, seed: 9))
        try await writer.close()
        #expect(acks.first?.position.sequence == 20)
        #expect(try LedgerVerifier.verify(directory: scratch.path).isClean)
        #expect(try readAll(scratch.path).count == 25)
    }

    @Test func bitFlipIsReportedWithFileAndOffsetAndNeverSkipped() async throws {
        let scratch = try TemporaryDirectory("flip")
        let segment = try await makeLedger(scratch, batches: 3)
        let offsets = try frameOffsets(segment)
        var bytes = try POSIXFile.readAll(segment)
        bytes[offsets[1] + FrameHeader.maximumSize + 5] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: segment))

        let verification = try LedgerVerifier.verify(directory: scratch.path)
        #expect(verification.firstFault?.code == .corruptFrame)
        #expect(verification.firstFault?.offset == Int64(offsets[1]))
        #expect(verification.firstFault?.file == segment)
        #expect(verification.events == 10)

        let readError = #expect(throws: LedgerError.self) { try readAll(scratch.path) }
        #expect(readError?.offset == Int64(offsets[1]))

        let openError = #expect(throws: LedgerError.self) { try LedgerWriter.open(LedgerConfiguration(directory: scratch.path)) }
        #expect(openError?.code == .corruptFrame, "a damaged frame followed by good ones is not a torn tail")
        #expect(try POSIXFile.readAll(segment).count == bytes.count, "nothing was truncated")
    }

    @Test func flippedHeaderFieldFailsTheChecksum() async throws {
        let scratch = try TemporaryDirectory("header")
        let segment = try await makeLedger(scratch, batches: 2)
        var bytes = try POSIXFile.readAll(segment)
        bytes[16] ^= 0x01  // record count of frame 0
        try Data(bytes).write(to: URL(fileURLWithPath: segment))
        let verification = try LedgerVerifier.verify(directory: scratch.path)
        #expect(verification.firstFault?.offset == 0)
        #expect(verification.firstFault?.message.contains("CRC-32C") == true)
    }

    @Test func missingLedgerIsNotFound() {
        let error = #expect(throws: LedgerError.self) { try LedgerReader(directory: "/nonexistent/ledger") }
        #expect(error?.code == .notFound)
    }
}
