import Foundation
import Ledger
import Testing

@testable import Projections

/// A throughput measurement, not a check: prints events/s and asserts only correctness.
/// Run with `PROJECTIONS_BENCH=200000 swift test --skip-build --filter RebuildBenchmark`.
@Suite struct RebuildBenchmarkTests {
    private static let eventCount = Int(ProcessInfo.processInfo.environment["PROJECTIONS_BENCH"] ?? "") ?? 0

    @Test(.enabled(if: eventCount > 0, "set PROJECTIONS_BENCH=<events> to measure rebuild throughput"))
    func rebuildThroughput() throws {
        let directory = try TemporaryDirectory()
        let count = Self.eventCount
        let ledger = InMemoryLedger(
            records: (0..<count).map { makeRecord(partition: $0 % 2, sequence: UInt64($0 / 2), index: $0) },
            frameSize: 4_096
        )
        let path = directory.file("bench.sqlite")
        for round in 1...2 {
            let clock = ContinuousClock()
            var result: ReplayResult?
            let elapsed = try clock.measure {
                result = try Projector.rebuild(from: ledger, databasePath: path)
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("rebuild round \(round): \(count) events in \(seconds) s = \(Int(Double(count) / seconds)) events/s")
            #expect(result?.eventsApplied == count)
        }
        let store = try ProjectionStore(path: path)
        let clock = ContinuousClock()
        var summary = ProxyUsageSummary()
        let elapsed = try clock.measure { summary = try store.summary(since: nil) }
        print("summary over \(count) events: \(elapsed)")
        #expect(summary.totalRequests == count)
    }
}
