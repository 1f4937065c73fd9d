import Foundation
import Synchronization
import Testing
import TestSupport

@testable import Ledger

/// Kills a child process that appends with `fsync always` at random moments, then checks that
/// every event it acknowledged survived and that the ledger verifies clean after recovery.
@Suite(.serialized) struct CrashTests {
    static var trials: Int { Int(ProcessInfo.processInfo.environment["PROXY_LEDGER_CRASH_TRIALS"] ?? "") ?? 50 }

    @Test func sigkillDuringAppendLosesNoAcknowledgedEvent() async throws {
        let binary = BuiltExecutable.proxyLedger
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build proxy-ledger first (make test does)")
        let scratch = try TemporaryDirectory("crash")
        var generator = SystemRandomNumberGenerator()
        var acknowledged: [UUID: UInt64] = [:]
        var killedWithAcks = 0
        for trial in 0..<Self.trials {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["stress-append", "--ledger", scratch.path, "--fsync", "always", "--segment-bytes", "16384"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let received = Mutex(Data())
            let reader = Task.detached {
                while case let chunk = output.fileHandleForReading.availableData, !chunk.isEmpty {
                    received.withLock { $0.append(chunk) }
                }
            }
            // Kill at a random moment after appending has started (start-up time varies).
            let deadline = Date().addingTimeInterval(20)
            while received.withLock({ $0.isEmpty }), Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...250, using: &generator)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            await reader.value
            let text = String(decoding: received.withLock { $0 }, as: UTF8.self)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            lines.removeLast()  // an unterminated last line was never fully acknowledged
            for line in lines {
                let parts = line.split(separator: " ")
                let id = try #require(UUID(uuidString: String(parts[0])))
                acknowledged[id] = UInt64(parts[1])
            }
            if !lines.isEmpty { killedWithAcks += 1 }

            // Restart: recovery on open, then the whole ledger must verify and hold every ack.
            try await LedgerWriter.open(LedgerConfiguration(directory: scratch.path)).close()
            let verification = try LedgerVerifier.verify(directory: scratch.path)
            #expect(verification.isClean, "trial \(trial): \(String(describing: verification.firstFault))")
            var stored: [UUID: UInt64] = [:]
            try LedgerReader(directory: scratch.path).scanAll { records in
                for record in records { stored[record.event.eventID] = record.position.sequence }
            }
            let missing = acknowledged.filter { stored[$0.key] != $0.value }
            #expect(missing.isEmpty, "trial \(trial): \(missing.count) acknowledged events missing or moved")
            if !missing.isEmpty { break }
        }
        #expect(killedWithAcks == Self.trials, "every trial is killed after appending started")
    }
}
