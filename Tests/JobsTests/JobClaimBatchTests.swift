import Foundation
import Synchronization
import Testing
import TestSupport

@testable import Jobs

/// Claiming several jobs in one call (a worker filling its free slots), and the store's
/// `newlyDue` notice that wakes waiting workers.
@Suite struct JobClaimBatchTests {
    static let videoC = "jNQXAC9IVRw"

    func claim(_ fixture: Fixture, at now: Int64, limit: Int, lease: Duration = .seconds(60)) async throws -> [Job] {
        try await fixture.store.claim(
            component: JobComponent.transcribeWorker, workerID: "w1", leaseDuration: lease, now: now, limit: limit)
    }

    @Test func aBatchTakesTheLongestDueJobsOfItsComponentUpToTheLimit() async throws {
        let fixture = try Fixture()
        let a = try await fixture.transcribe(videoA, at: t0)
        let b = try await fixture.transcribe(videoB, at: t0 + 1)
        let c = try await fixture.transcribe(Self.videoC, at: t0 + 2)
        _ = try await fixture.store.enqueue(JobRequest(.videoMetadata(videoID: videoA)), now: t0)
        #expect(try await claim(fixture, at: t0 + 3, limit: 0).isEmpty)
        let first = try await claim(fixture, at: t0 + 3, limit: 2)
        #expect(first.map(\.id) == [a.id, b.id])
        for job in first {
            #expect(job.state == .running && job.attempt == 1 && job.leaseOwner == "w1")
            #expect(job.dueAt == t0 + 3 + 60 * second)
            #expect(try await fixture.store.attempts(jobID: job.id).map(\.outcome) == [.running])
        }
        #expect(try await claim(fixture, at: t0 + 4, limit: 5).map(\.id) == [c.id], "fewer due than the limit")
        #expect(try await claim(fixture, at: t0 + 5, limit: 5).isEmpty, "the metadata job belongs to another component")
    }

    @Test func aBatchTakesOverExpiredLeasesAndDiscardsThoseWithoutAttemptsLeft() async throws {
        let fixture = try Fixture()
        let last = try await fixture.transcribe(videoA, maxAttempts: 1, at: t0)
        let retried = try await fixture.transcribe(videoB, maxAttempts: 2, at: t0 + 1)
        #expect(try await claim(fixture, at: t0 + 2, limit: 2, lease: .seconds(1)).count == 2)
        let takenOver = try await claim(fixture, at: t0 + 10 * second, limit: 2)
        #expect(takenOver.map(\.id) == [retried.id] && takenOver.first?.attempt == 2)
        #expect(try await fixture.store.job(id: last.id)?.state == .discarded)
        #expect(try await fixture.store.attempts(jobID: last.id).map(\.outcome) == [.leaseExpired])
    }

    @Test func aPausedComponentGivesAnEmptyBatch() async throws {
        let fixture = try Fixture()
        _ = try await fixture.transcribe(videoA)
        try await fixture.store.pause(component: JobComponent.transcribeWorker, reason: "maintenance", now: t0)
        #expect(try await claim(fixture, at: t0, limit: 3).isEmpty)
        _ = try await fixture.store.resume(component: JobComponent.transcribeWorker)
        #expect(try await claim(fixture, at: t0, limit: 3).count == 1)
    }

    @Test func newlyDueIsCalledOnlyWhenJobsBecomeDueThroughTheStore() async throws {
        let directory = try TemporaryDirectory("jobs-newly-due")
        let notices = NoticeCount()
        let store = try SQLiteJobStore(
            path: directory.file("jobs.sqlite"), jitter: FixedJitter(0),
            newlyDue: { notices.value.add(1, ordering: .relaxed) })
        var expected = 0
        func expectNotices(_ change: Int, _ comment: Comment) {
            expected += change
            #expect(notices.value.load(ordering: .relaxed) == expected, comment)
        }
        let job = try await store.enqueue(JobRequest(.transcribe(.video(id: videoA))), now: t0).job
        expectNotices(1, "a new job")
        _ = try await store.enqueue(JobRequest(.transcribe(.video(id: videoA))), now: t0)
        expectNotices(0, "a duplicate adds nothing")
        _ = try await store.cancel(jobID: job.id, now: t0)
        expectNotices(0, "cancelling makes nothing due")
        _ = try await store.retry(jobID: job.id, now: t0)
        expectNotices(1, "a retried job")
        _ = try await store.cancel(jobID: job.id, now: t0)
        #expect(try await store.retryAll(state: .cancelled, now: t0) == 1)
        expectNotices(1, "retrying every cancelled job")
        #expect(try await store.retryAll(state: .cancelled, now: t0) == 0)
        expectNotices(0, "no job retried")
        try await store.pause(component: JobComponent.transcribeWorker, reason: "test", now: t0)
        #expect(try await store.resume(component: JobComponent.transcribeWorker))
        expectNotices(1, "a lifted pause")
        #expect(try await store.resume(component: JobComponent.transcribeWorker) == false)
        expectNotices(0, "resuming a component that was not paused")
        let claimed = try await store.claim(
            component: JobComponent.transcribeWorker, workerID: "w1", leaseDuration: .seconds(60), now: t0, limit: 1)
        _ = try await store.complete(jobID: job.id, attempt: try #require(claimed.first).attempt, result: nil, now: t0)
        expectNotices(0, "claims and completions make nothing due")
    }
}

final class NoticeCount: Sendable {
    let value = Atomic<Int>(0)
}
