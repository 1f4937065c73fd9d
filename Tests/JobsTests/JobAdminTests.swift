import Foundation
import Ledger
import Testing
import TestSupport

@testable import Jobs

@Suite struct JobAdminTests {
    @Test func cancelStopsARunningWorkerAndRetryMakesItAvailableWithAFreshBudget() async throws {
        let fixture = try Fixture()
        let job = try await fixture.transcribe(videoA, maxAttempts: 1)
        let claimed = try #require(try await fixture.claim(at: t0))
        let cancelled = try await fixture.store.cancel(jobID: job.id, now: t0 + 1)
        #expect(cancelled.state == .cancelled && cancelled.finishedAt == t0 + 1)
        do {
            _ = try await fixture.store.complete(jobID: job.id, attempt: claimed.attempt, result: nil, now: t0 + 2)
            Issue.record("completing a cancelled job succeeded")
        } catch let error as JobStoreError {
            #expect(error.code == .leaseLost)
        }
        let retried = try await fixture.store.retry(jobID: job.id, now: t0 + 3)
        #expect(retried.state == .available && retried.attemptsUsed == 0 && retried.finishedAt == nil)
        let again = try #require(try await fixture.claim(at: t0 + 4))
        #expect(again.attempt == 2)
        await #expect(throws: JobStoreError.self) { _ = try await fixture.store.retry(jobID: job.id, now: t0 + 5) }
    }

    @Test func cancelAndRetryRejectTheWrongStatesAndUnknownIDs() async throws {
        let fixture = try Fixture()
        let job = try await fixture.transcribe(videoA)
        let claimed = try #require(try await fixture.claim(at: t0))
        _ = try await fixture.store.complete(jobID: job.id, attempt: claimed.attempt, result: nil, now: t0)
        do {
            _ = try await fixture.store.cancel(jobID: job.id, now: t0)
            Issue.record("cancelling a completed job succeeded")
        } catch let error as JobStoreError {
            #expect(error.code == .invalidState)
        }
        do {
            _ = try await fixture.store.retry(jobID: "00000000-0000-0000-0000-000000000000", now: t0)
            Issue.record("retrying an unknown job succeeded")
        } catch let error as JobStoreError {
            #expect(error.code == .notFound)
        }
    }

    @Test func retryRefusesWhenTheTargetIsQueuedAgain() async throws {
        let fixture = try Fixture()
        let job = try await fixture.transcribe(videoA)
        _ = try await fixture.store.cancel(jobID: job.id, now: t0)
        let newer = try await fixture.transcribe(videoA, at: t0 + 1)
        #expect(newer.id != job.id)
        do {
            _ = try await fixture.store.retry(jobID: job.id, now: t0 + 2)
            Issue.record("two active jobs for one target")
        } catch let error as JobStoreError {
            #expect(error.code == .invalidState && error.message.contains(newer.id))
        }
    }

    @Test func retryAllDiscarded() async throws {
        let fixture = try Fixture()
        for id in [videoA, videoB] {
            let job = try await fixture.transcribe(id)
            let claimed = try #require(try await fixture.claim(at: t0))
            _ = try await fixture.store.fail(
                jobID: job.id, attempt: claimed.attempt, errorType: .notFound, httpStatus: nil, retryAfter: nil, now: t0)
        }
        #expect(try await fixture.store.list(state: .discarded, kind: nil, limit: 10).count == 2)
        #expect(try await fixture.store.retryAll(state: .discarded, now: t0 + 1) == 2)
        #expect(try await fixture.store.list(state: .available, kind: .transcribe, limit: 10).count == 2)
        await #expect(throws: JobStoreError.self) { _ = try await fixture.store.retryAll(state: .running, now: t0) }
    }

    @Test func statsCountStatesDepthAndAge() async throws {
        let fixture = try Fixture()
        _ = try await fixture.transcribe(videoA, at: t0)
        let b = try await fixture.transcribe(videoB, at: t0 + 5 * second)
        _ = try await fixture.store.enqueue(JobRequest(.videoMetadata(videoID: videoA)), now: t0 + 6 * second)
        let claimed = try #require(try await fixture.claim(at: t0 + 7 * second))
        let failed = try await fixture.store.fail(
            jobID: claimed.id, attempt: claimed.attempt, errorType: .timeout, httpStatus: nil, retryAfter: .seconds(100),
            now: t0 + 7 * second)
        let early = try await fixture.store.stats(now: t0 + 10 * second)
        #expect(early.countsByState["available"] == 2 && early.countsByState["retryable"] == 1)
        #expect(early.countsByState["completed"] == 0 && early.countsByState.count == JobState.allCases.count)
        #expect(early.queueDepth == 2)
        #expect(early.oldestAvailableAgeSeconds == 5)  // b, enqueued at t0 + 5 s
        #expect(b.createdAt == t0 + 5 * second)
        let late = try await fixture.store.stats(now: failed.dueAt)
        #expect(late.queueDepth == 3)
        let empty = try Fixture("jobs-empty")
        #expect(try await empty.store.stats(now: t0).oldestAvailableAgeSeconds == nil)
    }

    @Test func listFiltersAndLimitsInEnqueueOrder() async throws {
        let fixture = try Fixture()
        _ = try await fixture.transcribe(videoA, at: t0)
        _ = try await fixture.store.enqueue(JobRequest(.videoMetadata(videoID: videoA)), now: t0 + 1)
        _ = try await fixture.transcribe(videoB, at: t0 + 2)
        #expect(try await fixture.store.list(state: nil, kind: .transcribe, limit: 10).map(\.target) == [videoA, videoB])
        #expect(try await fixture.store.list(state: .available, kind: nil, limit: 2).count == 2)
        #expect(try await fixture.store.list(state: .completed, kind: nil, limit: 2).isEmpty)
    }

    @Test func youTubeInputsAreRecognised() {
        #expect(YouTubeInput.videoID(from: videoA) == videoA)
        #expect(YouTubeInput.videoID(from: "https://www.youtube.com/watch?v=\(videoA)&t=42s") == videoA)
        #expect(YouTubeInput.videoID(from: "youtube.com/watch?feature=share&v=\(videoA)") == videoA)
        #expect(YouTubeInput.videoID(from: "https://youtu.be/\(videoA)?si=abc") == videoA)
        #expect(YouTubeInput.videoID(from: "https://m.youtube.com/shorts/\(videoA)") == videoA)
        #expect(YouTubeInput.videoID(from: "https://example.com/watch?v=\(videoA)") == nil)
        #expect(YouTubeInput.videoID(from: "dQw4w9WgXc") == nil)
        #expect(YouTubeInput.videoID(from: "dQw4w9WgXc!") == nil)
        #expect(YouTubeInput.isChannel("@veritasium"))
        #expect(YouTubeInput.isChannel("https://www.youtube.com/@veritasium/videos"))
        #expect(YouTubeInput.isChannel("https://www.youtube.com/channel/UCHnyfMqiRRG1u-2MsSQLbXA"))
        #expect(!YouTubeInput.isChannel("https://www.youtube.com/watch?v=\(videoA)"))
        #expect(!YouTubeInput.isChannel("@"))
    }
}
