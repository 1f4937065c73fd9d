import Foundation
import Testing
import TestSupport

@testable import Ledger

/// Acknowledged data is never deleted, and nothing is silently missing.
@Suite struct DurabilityTests {
    static let segment0 = "/partition-0/00000000000000000000.seg"

    /// Writes `batches` frames of 10 events (one segment unless `segmentBytes` is small).
    func makeLedger(_ scratch: TemporaryDirectory, batches: Int, segmentBytes: Int = 64 << 20) async throws {
        let writer = try LedgerWriter.open(
            LedgerConfiguration(directory: scratch.path, fsyncPolicy: .none, segmentMaxBytes: segmentBytes))
        for index in 0..<batches { _ = try await writer.append(EventFactory.events(10, seed: index)) }
        try await writer.close()
    }

    func frames(_ path: String) throws -> [SegmentScan.Frame] { SegmentScan(try POSIXFile.readAll(path)).frames }

    func flip(_ path: String, at offset: Int, mask: UInt8 = 0x10) throws {
        var bytes = try POSIXFile.readAll(path)
        bytes[offset] ^= mask
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func aCompleteLastFrameWithOneFlippedBitIsNeverTruncated() async throws {
        let scratch = try TemporaryDirectory("flip-last")
        try await makeLedger(scratch, batches: 3)
        let segment = scratch.path + Self.segment0
        let last = try #require(try frames(segment).last)
        try flip(segment, at: last.offset + last.header.size + 3)
        let size = try POSIXFile.readAll(segment).count

        let error = #expect(throws: LedgerError.self) { try LedgerWriter.open(LedgerConfiguration(directory: scratch.path)) }
        #expect(error?.code == .corruptFrame)
        #expect(error?.offset == Int64(last.offset))
        #expect(error?.description.contains("recover") == true)
        #expect(try POSIXFile.readAll(segment).count == size, "nothing was truncated")
        #expect(!(try LedgerVerifier.verify(directory: scratch.path).isClean))
    }

    @Test func aDamagedLengthFieldIsNotATornWrite() async throws {
        let scratch = try TemporaryDirectory("flip-length")
        try await makeLedger(scratch, batches: 2)
        let segment = scratch.path + Self.segment0
        let last = try #require(try frames(segment).last)
        try flip(segment, at: last.offset + 42, mask: 0x01)  // compressed length: now past the end of the file
        let error = #expect(throws: LedgerError.self) { try LedgerWriter.open(LedgerConfiguration(directory: scratch.path)) }
        #expect(error?.code == .corruptFrame)
    }

    @Test func aZeroFilledTailIsTornAndCutOff() async throws {
        let scratch = try TemporaryDirectory("zero-tail")
        try await makeLedger(scratch, batches: 2)
        let segment = scratch.path + Self.segment0
        let handle = try #require(FileHandle(forWritingAtPath: segment))
        try handle.seekToEnd()
        handle.write(Data(count: 300))
        try handle.close()
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        let acks = try await writer.append(EventFactory.events(1))
        try await writer.close()
        #expect(acks.first?.position.sequence == 20)
        #expect(try LedgerVerifier.verify(directory: scratch.path).isClean)
    }

    @Test func recoverQuarantinesTheDamagedSegmentAndKeepsEveryGoodFrame() async throws {
        let scratch = try TemporaryDirectory("recover")
        try await makeLedger(scratch, batches: 4)
        let segment = scratch.path + Self.segment0
        let damaged = try frames(segment)[1]
        try flip(segment, at: damaged.offset + damaged.header.size + 3)
        let original = try POSIXFile.readAll(segment)

        let recovered = try LedgerRecovery.recover(directory: scratch.path, partition: 0)
        let entry = try #require(recovered.first)
        #expect(entry.eventsKept == 30)
        #expect(entry.lostRanges.map { $0.from..<$0.to } == [10..<20])
        #expect(try POSIXFile.readAll(entry.quarantinedFile) == original, "the original bytes are kept")

        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        let acks = try await writer.append(EventFactory.events(2, seed: 9))
        try await writer.close()
        #expect(acks.map(\.position.sequence) == [40, 41], "no sequence is used twice")
        let sequences = try readAll(scratch.path).map(\.position.sequence)
        #expect(sequences == Array(0..<10) + Array(20..<42))
        let verification = try LedgerVerifier.verify(directory: scratch.path)
        #expect(verification.isClean, "\(String(describing: verification.firstFault))")
        #expect(verification.quarantined.map(\.from) == [10])
        #expect(try LedgerRecovery.recover(directory: scratch.path, partition: 0).isEmpty)
    }

    @Test func recoverAtTheTailContinuesAfterTheDamagedFramesSequences() async throws {
        let scratch = try TemporaryDirectory("recover-tail")
        try await makeLedger(scratch, batches: 3)
        let segment = scratch.path + Self.segment0
        let last = try #require(try frames(segment).last)
        try flip(segment, at: last.offset + last.header.size + 3)
        let entry = try #require(try LedgerRecovery.recover(directory: scratch.path, partition: 0).first)
        #expect(entry.lostRanges.map { $0.from..<$0.to } == [20..<30])
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        let acks = try await writer.append(EventFactory.events(1, seed: 7))
        try await writer.close()
        #expect(acks.first?.position.sequence == 30)
    }

    @Test(arguments: ["delete", "cut"])
    func aMissingOrCutSealedSegmentIsAGapEverywhere(damage: String) async throws {
        let scratch = try TemporaryDirectory("gap-\(damage)")
        try await makeLedger(scratch, batches: 8, segmentBytes: 1)
        let layout = LedgerDirectory(path: scratch.path)
        let bases = try layout.segments(partition: 0)
        #expect(bases.count == 8)
        let victim = layout.segmentPath(partition: 0, baseSequence: bases[3])
        if damage == "delete" {
            try FileManager.default.removeItem(atPath: victim)
        } else {
            let handle = try #require(FileHandle(forUpdatingAtPath: victim))
            try handle.truncate(atOffset: 0)
            try handle.close()
        }
        let readError = #expect(throws: LedgerError.self) { try readAll(scratch.path) }
        #expect(readError?.code == .sequenceGap)
        let openError = #expect(throws: LedgerError.self) { try LedgerWriter.open(LedgerConfiguration(directory: scratch.path)) }
        #expect(openError?.code == .sequenceGap)
        #expect(try LedgerVerifier.verify(directory: scratch.path).firstFault?.code == .sequenceGap)
    }

    @Test func aFarFutureEventDoesNotPushRealEventsOutOfTheDedupeWindow() async throws {
        let scratch = try TemporaryDirectory("dedupe-future")
        let batch = EventFactory.events(5, start: LedgerTimestamp.now.microseconds)
        var future = EventFactory.events(1)
        future[0].timestamp = try #require(LedgerTimestamp(rfc3339: "9999-12-31T00:00:00Z"))
        var writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        _ = try await writer.append(batch)
        _ = try await writer.append(future)
        #expect(try await writer.append(batch).allSatisfy(\.duplicate))
        try await writer.close()
        writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        #expect(try await writer.append(batch).allSatisfy(\.duplicate), "also after a restart")
        try await writer.close()
        #expect(try readAll(scratch.path).count == 6)
    }

    @Test func aSecondWriterWaitsForTheLockAndNamesTheHolder() async throws {
        let scratch = try TemporaryDirectory("lock-wait")
        let first = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        let refused = #expect(throws: LedgerError.self) {
            try LedgerWriter.open(LedgerConfiguration(directory: scratch.path, lockTimeout: .milliseconds(100)))
        }
        #expect(refused?.code == .locked)
        #expect(refused?.message.contains("process \(getpid())") == true)
        // The wait blocks its thread, so it runs on a thread of its own, not the test's pool.
        let path = scratch.path
        let waiting = Task {
            try await withCheckedThrowingContinuation { (done: CheckedContinuation<LedgerWriter, any Error>) in
                Thread.detachNewThread {
                    done.resume(with: Result { try LedgerWriter.open(LedgerConfiguration(directory: path, lockTimeout: .seconds(120))) })
                }
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        try await first.close()
        let second = try await waiting.value
        #expect(try await second.append(EventFactory.events(1)).first?.position.sequence == 0)
        try await second.close()
    }

    @Test func aNegativePartitionIsRefused() {
        let error = #expect(throws: LedgerError.self) {
            try LedgerWriter.open(LedgerConfiguration(directory: "/tmp/never-created", partition: -1))
        }
        #expect(error?.code == .invalidArgument)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-created/partition--1"))
    }
}

/// A failed fsync poisons the writer; a full disk does not.
@Suite struct WriteFailureTests {
    @Test func aFailedFsyncPoisonsTheWriterAndARetryAfterReopeningIsDeduplicated() async throws {
        let scratch = try TemporaryDirectory("fsync-poison")
        var configuration = LedgerConfiguration(directory: scratch.path, fsyncPolicy: .always)
        configuration.failingSyncNumber = 2
        let writer = try LedgerWriter.open(configuration)
        let first = EventFactory.events(3), second = EventFactory.events(3, seed: 1), third = EventFactory.events(2, seed: 2)
        _ = try await writer.append(first)
        let failed = await #expect(throws: LedgerError.self) { try await writer.append(second) }
        #expect(failed?.message.contains("fsync failed") == true)
        let refused = await #expect(throws: LedgerError.self) { try await writer.append(third) }
        #expect(refused?.message.contains("refuses further appends") == true, "poisoned: no append after a failed fsync")
        try? await writer.close()

        let reopened = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        let retried = try await reopened.append(second)
        #expect(retried.allSatisfy { $0.duplicate }, "the frame reached the file: the retry is not stored twice")
        _ = try await reopened.append(third)
        try await reopened.close()
        #expect(try readAll(scratch.path).count == 8)
    }

    @Test func aFullDiskIsAClearErrorLosesNothingAndAppendsResumeOnceSpaceIsFreed() async throws {
        guard getuid() == 0 else {
            print("skipped: mounting a small tmpfs needs root")
            return
        }
        let scratch = try TemporaryDirectory("enospc")
        let mountPoint = scratch.file("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard mount("tmpfs", mountPoint, "tmpfs", 0, "size=256k") == 0 else {
            print("skipped: mount(2) of a tmpfs is not allowed here (\(String(cString: strerror(errno))))")
            return
        }
        defer { umount(mountPoint) }
        let ledger = mountPoint + "/ledger"
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: ledger, fsyncPolicy: .always))
        var acknowledged: [UUID] = []
        var failure: LedgerError?
        for round in 0..<400 {
            let batch = EventFactory.events(20, seed: round)
            do {
                _ = try await writer.append(batch)
                acknowledged += batch.map(\.eventID)
            } catch let error as LedgerError {
                failure = error
                break
            }
        }
        let error = try #require(failure, "256 KiB must fill up")
        #expect(error.description.contains("No space left on device"))
        #expect(error.file?.hasPrefix(ledger) == true, "the error names the path")
        #expect(try readAll(ledger).map(\.event.eventID) == acknowledged, "every acknowledged event is intact")

        // Free space: the mount grows (as an operator would delete other files), and the same
        // writer carries on, because a write that was cut back leaves nothing behind.
        #expect(mount("tmpfs", mountPoint, "tmpfs", UInt(MS_REMOUNT), "size=4m") == 0)
        let more = EventFactory.events(5, seed: 999)
        _ = try await writer.append(more)
        try await writer.close()
        #expect(try readAll(ledger).count == acknowledged.count + 5)
        #expect(try LedgerVerifier.verify(directory: ledger).isClean)
    }
}
