import Foundation
import Jobs
import Ledger
import Logging
import Projections
import ProxyGateway
import Runtime
import Testing
import TestSupport

/// The projector service: it follows the ledger, and prunes old request rows while the rollups
/// keep their usage.
@Suite struct ServeProjectionTests {
    @Test func theProjectorFollowsTheLedgerAndPrunesRowsPastTheRetention() async throws {
        let root = try TemporaryDirectory("serve-projection")
        let now = LedgerTimestamp.now.microseconds
        let old = EventFactory.events(3, start: now - 200 * 86_400_000_000)
        let recent = EventFactory.events(2, start: now - 3_600_000_000, seed: 1)
        var options = ServeOptions(
            ledgerDirectory: root.path + "/ledger", databasePath: root.path + "/p.sqlite", jobsDatabasePath: root.path + "/j.sqlite",
            outputDirectory: root.path + "/out", ytDlpPath: "/bin/false")
        options.listenPort = 0
        options.projectionRetention = .seconds(90 * 86_400)
        // Appended before serve starts: its projector's first pass projects them, then prunes.
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: options.ledgerDirectory))
        _ = try await writer.append(old + recent)
        try await writer.close()
        let disabled = ProxySettings(enabled: false)
        let runtime = try await ServeRuntime.start(options: options, settings: { disabled }, logger: ServeLab.logger)
        try await ServeLab.running(runtime) {
            _ = try await runtime.sink.append(EventFactory.events(1, start: now, seed: 2))
            for _ in 0..<100 where runtime.projectorStatus.caughtUpAt == nil || runtime.projectorStatus.lagEvents > 0 {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let store = try ProjectionStore(path: options.databasePath)
        defer { try? store.close() }
        #expect(try store.requestLogCount() == 3, "the three rows older than 90 days are pruned")
        #expect(try store.checkpoints()[0] == 6, "every event was projected, also the one appended while serve ran")
        let all = try store.summary(since: nil)
        #expect(all.totalRequests == 3)
    }
}
