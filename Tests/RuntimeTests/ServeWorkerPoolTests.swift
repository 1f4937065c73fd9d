import Foundation
import Jobs
import ProxyGateway
import Runtime
import Testing
import TestSupport
import Ledger

/// How `serve`'s worker pool takes work: a burst of jobs is claimed in one go, and a job enqueued
/// through the runtime wakes an idle pool instead of waiting for its next poll.
@Suite struct ServeWorkerPoolTests {
    /// Transcription jobs whose info JSON does not exist: each attempt ends at once as `not_found`
    /// (discarded) without starting yt-dlp or touching the gateway.
    static func burst(_ count: Int, in root: String, name: String) -> [JobRequest] {
        (0..<count).map { JobRequest(.transcribe(.infoJSON(path: "\(root)/\(name)-\($0).info.json"))) }
    }

    @Test func aBurstIsClaimedInOneGoAndAnEnqueueWakesAnIdlePoolBeforeItsPoll() async throws {
        let root = try TemporaryDirectory("serve-worker-pool")
        var options = ServeOptions(
            ledgerDirectory: root.path + "/ledger", databasePath: root.path + "/p.sqlite",
            jobsDatabasePath: root.path + "/j.sqlite", outputDirectory: root.path + "/out", ytDlpPath: "/bin/false")
        options.listenPort = 0
        options.fsyncPolicy = .none
        // Far longer than the test may wait: only the enqueue's wake-up can start the second burst.
        options.pollInterval = .seconds(3_600)
        let settings = ProxySettings(
            enabled: true, gatewayHost: "127.0.0.1", gatewayPort: 9, username: "unused", password: "unused",
            useBackbone: false, maxConcurrency: 5)
        let runtime = try await ServeRuntime.start(options: options, settings: { settings }, logger: ServeLab.logger)
        try await ServeLab.running(runtime) {
            for name in ["first", "second"] {
                let ids = try await runtime.jobs.enqueue(Self.burst(5, in: root.path, name: name), now: JobClock.now())
                    .map(\.job.id)
                let jobs = try await ServeLab.waitFor(ids, in: runtime.jobs, timeout: .seconds(60)) {
                    $0.count == ids.count && $0.allSatisfy(\.isFinished)
                }
                #expect(jobs.allSatisfy { $0.state == .discarded && $0.lastErrorType == "not_found" }, "\(name) burst")
                var claimTimes: Set<Int64> = []
                for id in ids { claimTimes.formUnion(try await runtime.jobs.attempts(jobID: id).map(\.startedAt)) }
                #expect(claimTimes.count == 1, "the \(name) burst's five jobs were claimed together, in one claim")
            }
        }
    }
}
