import Foundation
import Testing
import TestSupport

@testable import Ledger

/// Reads every record of a ledger.
func readAll(_ directory: String) throws -> [LedgerRecord] {
    var records: [LedgerRecord] = []
    try LedgerReader(directory: directory).scanAll { records += $0 }
    return records
}

@Suite struct LedgerWriterTests {
    @Test func appendsAndReadsBackEveryField() async throws {
        let scratch = try TemporaryDirectory("append")
        let events = EventFactory.events(500)
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        let first = try await writer.append(Array(events[..<200]))
        let second = try await writer.append(Array(events[200...]))
        try await writer.close()
        #expect(first.map(\.position.sequence) == Array(0..<200))
        #expect(second.map(\.position.sequence) == Array(200..<500))
        let records = try readAll(scratch.path)
        #expect(records.map(\.event) == events)
        #expect(records.map(\.position.sequence) == Array(0..<500))
        #expect(records.allSatisfy { $0.schemaVersion == 1 && $0.position.partition == 0 })
        #expect(try LedgerVerifier.verify(directory: scratch.path).isClean)
    }

    /// One append of more events than a payload part holds (the CLI's whole input) is encoded in
    /// parts at once and still written as one frame, with the sequences and dedupe of one batch.
    @Test func aLargeAppendIsOneFrameEncodedInParts() async throws {
        let scratch = try TemporaryDirectory("large")
        let count = 2 * FramePayload.partEvents + 7
        let events = EventFactory.events(count), tail = EventFactory.events(1)
        var writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        let acks = try await writer.append(events)
        let next = try await writer.append(tail)
        try await writer.close()
        #expect(acks.map(\.position.sequence) == Array(0..<UInt64(count)))
        #expect(next.map(\.position.sequence) == [UInt64(count)])
        let summary = try LedgerVerifier.verify(directory: scratch.path)
        #expect(summary.isClean)
        #expect(summary.frames == 2)
        #expect(summary.chainedFrames == 2)
        #expect(try readAll(scratch.path).map(\.event) == events + tail)

        writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        let again = try await writer.append(events)
        try await writer.close()
        #expect(again.allSatisfy { $0.duplicate })
        #expect(again.map(\.position.sequence) == Array(0..<UInt64(count)))
    }

    @Test func duplicateEventIDIsStoredOnceAcrossBatchesAndRestarts() async throws {
        let scratch = try TemporaryDirectory("dedupe")
        let events = EventFactory.events(10)
        var writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        _ = try await writer.append(events)
        let again = try await writer.append([events[3], events[3]])
        #expect(again.map(\.duplicate) == [true, true])
        #expect(again.map(\.position.sequence) == [3, 3])
        try await writer.close()

        writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        var twin = EventFactory.events(1)[0]
        twin.eventID = events[7].eventID
        let afterRestart = try await writer.append([twin, EventFactory.events(1)[0]])
        #expect(afterRestart[0] == AppendAcknowledgement(eventID: events[7].eventID, position: .init(partition: 0, sequence: 7), duplicate: true))
        #expect(afterRestart[1].duplicate == false)
        #expect(afterRestart[1].position.sequence == 10)
        let inOneBatch = try await writer.append([events[0]] + [twin])
        #expect(inOneBatch.allSatisfy { $0.duplicate })
        try await writer.close()
        #expect(try readAll(scratch.path).count == 11)
    }

    /// A batch is written as it came unless it holds a duplicate; then only its fresh events are,
    /// those before the duplicate included.
    @Test func aDuplicateInsideABatchKeepsTheFreshEventsAroundIt() async throws {
        let scratch = try TemporaryDirectory("dedupe-middle")
        let events = EventFactory.events(4)
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        _ = try await writer.append([events[0]])
        let acks = try await writer.append([events[1], events[0], events[2], events[3]])
        #expect(acks.map(\.duplicate) == [false, true, false, false])
        #expect(acks.map(\.position.sequence) == [1, 0, 2, 3])
        try await writer.close()
        #expect(try readAll(scratch.path).map(\.event) == events)
    }

    @Test func concurrentAppendersShareFramesAndGetContinuousSequences() async throws {
        let scratch = try TemporaryDirectory("group")
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path, fsyncPolicy: .always))
        let acks = try await withThrowingTaskGroup(of: [AppendAcknowledgement].self) { group in
            for producer in 0..<256 {
                group.addTask { try await writer.append(EventFactory.events(4, seed: producer)) }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        try await writer.close()
        #expect(acks.count == 1024)
        #expect(Set(acks.map(\.position.sequence)) == Set(0..<1024))
        let check = try LedgerVerifier.verify(directory: scratch.path)
        #expect(check.isClean)
        #expect(check.events == 1024)
        #expect(check.frames < 256, "group commit should put several appends in one frame")
    }

    @Test func rotatesSegmentsBySizeAndReadsAcrossThem() async throws {
        let scratch = try TemporaryDirectory("rotate")
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path, fsyncPolicy: .none, segmentMaxBytes: 4096))
        let events = EventFactory.events(2000)
        for start in stride(from: 0, to: 2000, by: 100) {
            _ = try await writer.append(Array(events[start..<(start + 100)]))
        }
        try await writer.close()
        let check = try LedgerVerifier.verify(directory: scratch.path)
        #expect(check.isClean)
        #expect(check.segments > 3)
        #expect(try readAll(scratch.path).map(\.event) == events)
        var tail: [UInt64] = []
        try LedgerReader(directory: scratch.path).scan(partition: 0, from: 1_950) { tail += $0.map(\.position.sequence) }
        #expect(tail == Array(1_950..<2_000))
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/partition-0").sorted()
        #expect(names.first == "00000000000000000000.seg")
    }

    @Test func secondWriterGetsAClearLockError() async throws {
        let scratch = try TemporaryDirectory("lock")
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        let error = #expect(throws: LedgerError.self) { try LedgerWriter.open(LedgerConfiguration(directory: scratch.path)) }
        #expect(error?.code == .locked)
        #expect(error?.description.contains("only one writer") == true)
        try await writer.close()
        let reopened = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        try await reopened.close()
    }

    @Test func appendAfterCloseThrows() async throws {
        let scratch = try TemporaryDirectory("closed")
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        try await writer.close()
        await #expect(throws: LedgerError.self) { try await writer.append(EventFactory.events(1)) }
    }
}
