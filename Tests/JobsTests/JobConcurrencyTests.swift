import Foundation
import Testing
import TestSupport

@testable import Jobs

@Suite struct JobConcurrencyTests {
    /// Claims and completes until the queue is empty; returns the (job id, attempt) pairs claimed.
    static func drain(_ store: SQLiteJobStore, worker: String, now: Int64) async throws -> [String] {
        var claimed: [String] = []
        while let job = try await store.claim(
            component: JobComponent.transcribeWorker, workerID: worker, leaseDuration: .seconds(3600), now: now)
        {
            claimed.append("\(job.id)#\(job.attempt)")
            _ = try await store.complete(jobID: job.id, attempt: job.attempt, result: worker, now: now)
        }
        return claimed
    }

    @Test func twoPoolsOnOneFileNeverClaimAJobTwice() async throws {
        let directory = try TemporaryDirectory("jobs-race")
        let path = directory.file("jobs.sqlite")
        // Two stores opened at once on a new file: the migration race must not fail either.
        async let openedA = Task { try SQLiteJobStore(path: path) }.value
        async let openedB = Task { try SQLiteJobStore(path: path) }.value
        let (storeA, storeB) = try await (openedA, openedB)
        let ids = (0..<400).map { String(format: "vid%08d", $0) }
        let results = try await storeA.enqueue(ids.map { JobRequest(.transcribe(.video(id: $0))) }, now: t0)
        #expect(results.allSatisfy { $0.isNew })

        let claims = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<16 {
                let store = worker.isMultiple(of: 2) ? storeA : storeB
                group.addTask { try await Self.drain(store, worker: "w\(worker)", now: t0 + 1) }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(claims.count == ids.count)
        #expect(Set(claims).count == ids.count)
        #expect(claims.allSatisfy { $0.hasSuffix("#1") })
        let stats = try await storeB.stats(now: t0 + 2)
        #expect(stats.countsByState["completed"] == ids.count && stats.queueDepth == 0)
        let completed = try await storeA.list(state: .completed, kind: nil, limit: 1_000)
        #expect(Set(completed.compactMap(\.result)).count > 1, "both pools' workers took part")
    }
}
