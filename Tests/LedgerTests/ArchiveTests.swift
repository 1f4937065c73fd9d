import Foundation
import Testing
import TestSupport

@testable import Ledger

/// `archive`: old sealed segments move out, verified first; nothing disappears silently.
@Suite struct ArchiveTests {
    /// Eight one-frame segments of 10 events each, a day apart per segment.
    func makeLedger(_ scratch: TemporaryDirectory) async throws -> [ProxyRequestEvent] {
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path, fsyncPolicy: .none, segmentMaxBytes: 1))
        var all: [ProxyRequestEvent] = []
        for day in 0..<8 {
            let events = EventFactory.events(10, start: 1_793_491_200_000_000 + Int64(day) * 86_400_000_000, seed: day)
            _ = try await writer.append(events)
            all += events
        }
        try await writer.close()
        return all
    }

    static let day4 = LedgerTimestamp(microseconds: 1_793_491_200_000_000 + 4 * 86_400_000_000)

    @Test func archivedSegmentsAreReadOnlyWithTheArchiveAndTheWriterContinues() async throws {
        let scratch = try TemporaryDirectory("archive")
        let cold = try TemporaryDirectory("archive-cold")
        let all = try await makeLedger(scratch)
        let archived = try LedgerArchiver.archive(directory: scratch.path, before: Self.day4, to: cold.path)
        #expect(archived.map(\.from) == [0, 10, 20, 30])
        #expect(try LedgerDirectory(path: scratch.path).segments(partition: 0) == [40, 50, 60, 70])

        let refused = #expect(throws: LedgerError.self) { try readAll(scratch.path) }
        #expect(refused?.code == .archived, "archived sequences are never skipped silently")

        var records: [LedgerRecord] = []
        try LedgerReader(directory: scratch.path, archive: cold.path).scanAll { records += $0 }
        #expect(records.map(\.event.eventID) == all.map(\.eventID))
        #expect(records.map(\.position.sequence) == Array(0..<80))

        let wrongArchive = try TemporaryDirectory("archive-wrong")
        try Data("proxy-ledger ledger\nid x\n".utf8).write(to: URL(fileURLWithPath: wrongArchive.file("LEDGER")))
        let wrong = #expect(throws: LedgerError.self) {
            try LedgerReader(directory: scratch.path, archive: wrongArchive.path).scanAll { _ in }
        }
        #expect(wrong?.code == .sequenceGap, "an archive that lacks the archived range is an error, never a silent hole")

        var fromCheckpoint: [UInt64] = []
        try LedgerReader(directory: scratch.path).scan(partition: 0, from: 45) { fromCheckpoint += $0.map(\.position.sequence) }
        #expect(fromCheckpoint == Array(45..<80), "a projection past the archive needs no archive")

        let verification = try LedgerVerifier.verify(directory: scratch.path)
        #expect(verification.isClean, "\(String(describing: verification.firstFault))")
        #expect(verification.archived.count == 4)
        #expect(try LedgerVerifier.verify(directory: cold.path).isClean, "the archive is a ledger folder of its own")

        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        #expect(try await writer.append(EventFactory.events(1, seed: 77)).first?.position.sequence == 80)
        try await writer.close()
        #expect(try LedgerArchiver.archive(directory: scratch.path, before: Self.day4, to: cold.path).isEmpty, "idempotent")
    }

    @Test func theNewestSegmentAndDamagedSegmentsStay() async throws {
        let scratch = try TemporaryDirectory("archive-damaged")
        let cold = try TemporaryDirectory("archive-damaged-cold")
        _ = try await makeLedger(scratch)
        let second = LedgerDirectory(path: scratch.path).segmentPath(partition: 0, baseSequence: 10)
        var bytes = try POSIXFile.readAll(second)
        bytes[100] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: second))
        let error = #expect(throws: LedgerError.self) {
            try LedgerArchiver.archive(directory: scratch.path, before: LedgerTimestamp(microseconds: Int64.max), to: cold.path)
        }
        #expect(error?.code == .corruptFrame)
        #expect(FileManager.default.fileExists(atPath: second), "a damaged segment is never removed")
        #expect(try LedgerDirectory(path: scratch.path).segments(partition: 0).first == 10, "the good one before it was archived")
    }
}
