import Foundation
import Testing
import TestSupport

/// `proxy-ledger crash-test`: SIGKILLs a writer appending with `fsync always` at random moments,
/// then checks that every event it acknowledged survived and that the ledger verifies clean.
@Suite(.serialized) struct CrashTests {
    static var trials: Int { Int(ProcessInfo.processInfo.environment["PROXY_LEDGER_CRASH_TRIALS"] ?? "") ?? 100 }

    @Test func sigkillDuringAppendLosesNoAcknowledgedEvent() throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first (make test does)")
        let result = try BuiltExecutable.run(["crash-test", "--trials", "\(Self.trials)", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\"trials\" : \(Self.trials)"))
        #expect(result.stdout.contains("\"lost_events\" : 0"))
        #expect(result.stdout.contains("\"verify_failures\" : 0"))
        #expect(!result.stdout.contains("\"acknowledged_events\" : 0,"), "the writers were killed after appending started")
        print("crash-test: \(result.stdout.split(separator: "\n").joined(separator: " "))")
    }
}
