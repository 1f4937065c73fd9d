import Foundation
import Testing
import TestSupport

@testable import Ledger

/// A bad frame never hides the good frames around it; bad arguments are errors, never traps.
@Suite struct SalvageTests {
    static let segment0 = "/partition-0/00000000000000000000.seg"

    /// Four frames of 10 events; frame 1 (sequences 10..<20) fails its checksum.
    func makeDamagedLedger(_ label: String) async throws -> (TemporaryDirectory, badOffset: Int) {
        let scratch = try TemporaryDirectory(label)
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path, fsyncPolicy: .none))
        for index in 0..<4 { _ = try await writer.append(EventFactory.events(10, seed: index)) }
        try await writer.close()
        let path = scratch.path + Self.segment0
        var bytes = try POSIXFile.readAll(path)
        let bad = SegmentScan(bytes).frames[1]
        bytes[bad.offset + bad.header.size + 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (scratch, bad.offset)
    }

    func lines(_ events: [ProxyRequestEvent]) -> [UInt8] { events.flatMap { $0.jsonLine() + [0x0A] } }

    @Test func theReaderDeliversEveryGoodFrameBeforeTheFaultAndSalvagesTheRest() async throws {
        let (scratch, badOffset) = try await makeDamagedLedger("salvage-reader")
        var delivered: [UInt64] = []
        let error = #expect(throws: LedgerError.self) {
            try LedgerReader(directory: scratch.path).scanAll { delivered += $0.map(\.position.sequence) }
        }
        #expect(delivered == Array(0..<10))
        #expect(error?.offset == Int64(badOffset))

        var salvaged: [UInt64] = []
        var skipped: [SkippedFrame] = []
        try LedgerReader(directory: scratch.path).scanAll(salvage: { skipped.append($0) }) { salvaged += $0.map(\.position.sequence) }
        #expect(salvaged == Array(0..<10) + Array(20..<40))
        #expect(skipped.map(\.lostSequences) == [10..<20])
        #expect(skipped.first?.file == scratch.path + Self.segment0)
    }

    @Test func catWritesTheGoodEventsThenFailsAndSalvageGoesOn() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let (scratch, badOffset) = try await makeDamagedLedger("salvage-cat")
        let plain = try BuiltExecutable.run(["cat", "--ledger", scratch.path])
        #expect(plain.status == 1)
        #expect(plain.stdout.split(separator: "\n").count == 10)
        #expect(plain.stderr.contains("byte offset \(badOffset)"))
        let salvaged = try BuiltExecutable.run(["cat", "--ledger", scratch.path, "--salvage"])
        #expect(salvaged.status == 0, "\(salvaged.stderr)")
        #expect(salvaged.stdout.split(separator: "\n").count == 30)
        #expect(salvaged.stderr.contains("sequences 10..<20 (10 events) lost"))
    }

    @Test func replayAppliesTheEventsBeforeTheBadFrameThenFails() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let (scratch, badOffset) = try await makeDamagedLedger("salvage-replay")
        let db = scratch.file("p.sqlite")
        let replay = try BuiltExecutable.run(["replay", "--ledger", scratch.path, "--db", db])
        #expect(replay.status != 0)
        #expect(replay.stderr.contains("byte offset \(badOffset)"))
        let summary = try BuiltExecutable.run(["summary", "--db", db, "--format", "json"])
        #expect(summary.stdout.contains("\"total_requests\" : 10"), "\(summary.stdout)")
    }

    @Test func recoverAndVerifyFromTheCommandLine() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let (scratch, _) = try await makeDamagedLedger("salvage-recover")
        let refused = try BuiltExecutable.run(["append", "--ledger", scratch.path], stdin: lines(EventFactory.events(1)))
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("recover"))
        let recovered = try BuiltExecutable.run(["recover", "--ledger", scratch.path])
        #expect(recovered.status == 0, "\(recovered.stderr)")
        #expect(recovered.stdout.contains("sequences 10..<20 (10 events) are only in the quarantined file"))
        let head = try BuiltExecutable.run(["verify", "--ledger", scratch.path, "--head"])
        #expect(head.status == 0, "\(head.stderr)")
        #expect(head.stdout.hasPrefix("partition 0 next_sequence 40 sha256 "))
        #expect(head.stderr.contains("quarantined"))
        try Data(head.stdout.utf8).write(to: URL(fileURLWithPath: scratch.file("heads.txt")))
        let appended = try BuiltExecutable.run(["append", "--ledger", scratch.path], stdin: lines(EventFactory.events(3)))
        #expect(appended.status == 0, "\(appended.stderr)")
        let expect = try BuiltExecutable.run(["verify", "--ledger", scratch.path, "--expect-head", scratch.file("heads.txt")])
        #expect(expect.status == 0, "\(expect.stderr)")
        #expect(expect.stdout.contains("every kept head is still part of the ledger"))
    }

    @Test(arguments: [
        ["append", "--partition=-1"], ["stress-append", "--producers=-1"], ["stress-append", "--batch=-5"],
        ["stress-append", "--batch", "0"], ["append", "--lock-timeout=-1"],
    ])
    func badNumbersAreUsageErrors(arguments: [String]) throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let scratch = try TemporaryDirectory("bad-numbers")
        let result = try BuiltExecutable.run(arguments + ["--ledger", scratch.path])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/partition--1"))
    }

    @Test func appendRefusesImplausibleTimesUnlessAllowed() throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let scratch = try TemporaryDirectory("clock")
        var events = EventFactory.events(3, start: LedgerTimestamp.now.microseconds)
        events[1].timestamp = LedgerTimestamp(microseconds: LedgerTimestamp.now.microseconds + 2 * 86_400_000_000)
        events[2].timestamp = LedgerTimestamp(microseconds: 900_000_000_000_000)  // 1998
        let future = try BuiltExecutable.run(["append", "--ledger", scratch.path], stdin: lines(Array(events[0...1])))
        #expect(future.status == 65)
        #expect(future.stderr.contains("line 2: field \"timestamp\""))
        #expect(future.stderr.contains("more than a day in the future"))
        let old = try BuiltExecutable.run(["append", "--ledger", scratch.path], stdin: lines([events[2]]))
        #expect(old.status == 65)
        #expect(old.stderr.contains("is before 2000-01-01"))
        let allowed = try BuiltExecutable.run(["append", "--ledger", scratch.path, "--allow-any-time"], stdin: lines(events))
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test func aPathThatIsNotALedgerIsExit66() throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let scratch = try TemporaryDirectory("not-a-ledger")
        for command in ["cat", "verify", "recover"] {
            let result = try BuiltExecutable.run([command, "--ledger", scratch.path])
            #expect(result.status == 66, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("is not a ledger"))
        }
    }
}
