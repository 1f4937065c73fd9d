import Foundation
import Ledger
import Testing
import TestSupport

@testable import Jobs

/// A store in a fresh directory with no jitter, so delays are exact.
struct Fixture {
    let directory: TemporaryDirectory
    let store: SQLiteJobStore

    init(_ label: String = "jobs", policy: RetryPolicy = RetryPolicy(jitterFraction: 0)) throws {
        directory = try TemporaryDirectory(label)
        store = try SQLiteJobStore(path: directory.file("jobs.sqlite"), retryPolicy: policy, jitter: FixedJitter(0))
    }

    func transcribe(_ id: String, maxAttempts: Int? = nil, at now: Int64 = t0) async throws -> Job {
        try await store.enqueue(JobRequest(.transcribe(.video(id: id)), maxAttempts: maxAttempts), now: now).job
    }

    func claim(_ worker: String = "w1", at now: Int64, lease: Duration = .seconds(60)) async throws -> Job? {
        try await store.claim(component: JobComponent.transcribeWorker, workerID: worker, leaseDuration: lease, now: now)
    }
}

let t0: Int64 = 1_790_000_000_000_000
let second: Int64 = 1_000_000
let videoA = "dQw4w9WgXcQ"
let videoB = "9bZkp7q19f0"

@Suite struct JobStoreTests {
    @Test func happyPathRunsAvailableRunningCompleted() async throws {
        let fixture = try Fixture()
        let job = try await fixture.transcribe(videoA)
        #expect(job.state == .available && job.attempt == 0 && job.component == "transcribe-worker")
        let claimed = try #require(try await fixture.claim(at: t0 + second))
        #expect(claimed.id == job.id && claimed.state == .running && claimed.attempt == 1 && claimed.leaseOwner == "w1")
        #expect(claimed.dueAt == t0 + 61 * second)
        #expect(try await fixture.claim("w2", at: t0 + 2 * second) == nil)
        let done = try await fixture.store.complete(jobID: job.id, attempt: 1, result: "/out/a.vtt", now: t0 + 3 * second)
        #expect(done.state == .completed && done.result == "/out/a.vtt" && done.finishedAt == t0 + 3 * second)
        let attempts = try await fixture.store.attempts(jobID: job.id)
        #expect(attempts.map(\.outcome) == [.completed])
        #expect(attempts.first?.workerID == "w1" && attempts.first?.endedAt == t0 + 3 * second)
    }

    @Test func claimsTheOldestDueJobOfItsComponentOnly() async throws {
        let fixture = try Fixture()
        let first = try await fixture.transcribe(videoA, at: t0)
        _ = try await fixture.transcribe(videoB, at: t0 + 1)
        _ = try await fixture.store.enqueue(JobRequest(.videoMetadata(videoID: videoA)), now: t0)
        #expect(try await fixture.claim(at: t0 + 2)?.id == first.id)
        let api = try await fixture.store.claim(
            component: JobComponent.apiYouTubeService, workerID: "api", leaseDuration: .seconds(5), now: t0 + 2)
        #expect(api?.kind == .videoMetadata)
        #expect(try await fixture.store.claim(component: "nobody", workerID: "x", leaseDuration: .seconds(5), now: t0 + 2) == nil)
    }

    @Test func expiredLeaseIsReclaimedWithAHigherAttemptAndTheStaleWorkerLosesIt() async throws {
        let fixture = try Fixture()
        let job = try await fixture.transcribe(videoA)
        let first = try #require(try await fixture.claim("old", at: t0, lease: .seconds(10)))
        #expect(try await fixture.claim("new", at: t0 + 9 * second) == nil)
        let second2 = try #require(try await fixture.claim("new", at: t0 + 10 * second))
        #expect(second2.id == job.id && second2.attempt == first.attempt + 1 && second2.attemptsUsed == 2)
        await #expect(throws: JobStoreError.self) {
            _ = try await fixture.store.complete(jobID: job.id, attempt: first.attempt, result: nil, now: t0 + 11 * second)
        }
        do {
            _ = try await fixture.store.renewLease(jobID: job.id, attempt: first.attempt, leaseDuration: .seconds(10), now: t0)
            Issue.record("a stale renew succeeded")
        } catch let error as JobStoreError {
            #expect(error.code == .leaseLost)
            #expect(error.description.contains("stop working on it"))
        }
        let renewed = try await fixture.store.renewLease(
            jobID: job.id, attempt: second2.attempt, leaseDuration: .seconds(30), now: t0 + 12 * second)
        #expect(renewed == t0 + 42 * second)
        _ = try await fixture.store.complete(jobID: job.id, attempt: second2.attempt, result: nil, now: t0 + 13 * second)
        let outcomes = try await fixture.store.attempts(jobID: job.id).map(\.outcome)
        #expect(outcomes == [.leaseExpired, .completed])
    }

    @Test func leaseExpiryAfterTheLastAttemptDiscards() async throws {
        let fixture = try Fixture()
        let job = try await fixture.transcribe(videoA, maxAttempts: 1)
        _ = try await fixture.claim(at: t0, lease: .seconds(1))
        #expect(try await fixture.claim(at: t0 + 2 * second) == nil)
        let stored = try #require(try await fixture.store.job(id: job.id))
        #expect(stored.state == .discarded && stored.lastErrorType == "lease_expired")
    }

    @Test func backoffGrowsExponentiallyUpToTheCapAndHonoursRetryAfter() async throws {
        let policy = RetryPolicy(baseDelay: .seconds(2), maxDelay: .seconds(10), jitterFraction: 0, maxAttempts: 6)
        let fixture = try Fixture(policy: policy)
        let job = try await fixture.transcribe(videoA)
        var now = t0
        var delays: [Int64] = []
        for _ in 0..<5 {
            let claimed = try #require(try await fixture.claim(at: now))
            let failed = try await fixture.store.fail(
                jobID: job.id, attempt: claimed.attempt, errorType: .rateLimited, httpStatus: 429, retryAfter: nil, now: now)
            #expect(failed.state == .retryable)
            #expect(try await fixture.claim(at: failed.dueAt - 1) == nil)
            delays.append(failed.dueAt - now)
            now = failed.dueAt
        }
        #expect(delays == [2, 4, 8, 10, 10].map { $0 * second })
        let claimed = try #require(try await fixture.claim(at: now))
        let honoured = try await fixture.store.fail(
            jobID: job.id, attempt: claimed.attempt, errorType: .botCheck, httpStatus: nil, retryAfter: .seconds(120), now: now)
        #expect(honoured.state == .discarded)  // the 6th attempt was the last
        #expect(policy.delayMicroseconds(attemptsUsed: 1, retryAfter: .seconds(120), jitter: 0) == 120 * second)
        #expect(policy.delayMicroseconds(attemptsUsed: 3, retryAfter: .seconds(1), jitter: 0) == 8 * second)
    }

    @Test func jitterShortensTheDelayDeterministically() {
        let policy = RetryPolicy(baseDelay: .seconds(10), maxDelay: .seconds(100), jitterFraction: 0.5)
        #expect(policy.delayMicroseconds(attemptsUsed: 1, retryAfter: nil, jitter: 1) == 5 * second)
        #expect(policy.delayMicroseconds(attemptsUsed: 1, retryAfter: nil, jitter: 0) == 10 * second)
        let a = SeededJitter(seed: 42), b = SeededJitter(seed: 42)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        #expect(first.allSatisfy { (0...1).contains($0) } && Set(first).count == 5)
    }

    @Test(arguments: [
        (ProxyErrorType.notFound, Int?.none), (.httpError, 404), (.httpError, 403), (.httpError, 410),
    ])
    func permanentErrorsDiscardAtOnce(errorType: ProxyErrorType, status: Int?) async throws {
        let fixture = try Fixture()
        let job = try await fixture.transcribe(videoA)
        let claimed = try #require(try await fixture.claim(at: t0))
        let failed = try await fixture.store.fail(
            jobID: job.id, attempt: claimed.attempt, errorType: errorType, httpStatus: status, retryAfter: nil, now: t0)
        #expect(failed.state == .discarded && failed.attemptsUsed == 1 && failed.lastHTTPStatus == status)
        #expect(try await fixture.store.attempts(jobID: job.id).map(\.outcome) == [.discarded])
    }

    @Test func classificationOfErrorTypes() {
        for type in [
            ProxyErrorType.rateLimited, .botCheck, .gatewayThrottled, .connectionError, .timeout, .unknown, .interrupted,
            .bandwidthExhausted,
        ] {
            #expect(FailureDisposition.of(type, httpStatus: nil) == .retry)
        }
        #expect(FailureDisposition.of(.httpError, httpStatus: 429) == .retry)
        #expect(FailureDisposition.of(.httpError, httpStatus: 503) == .retry)
        #expect(FailureDisposition.of(.httpError, httpStatus: nil) == .retry)
        #expect(FailureDisposition.of(.httpError, httpStatus: 400) == .discard)
        #expect(FailureDisposition.of(.authFailure, httpStatus: 407) == .pauseComponent)
    }

    @Test func authFailurePausesTheComponentUntilResumed() async throws {
        let fixture = try Fixture()
        let job = try await fixture.transcribe(videoA)
        let claimed = try #require(try await fixture.claim(at: t0))
        let failed = try await fixture.store.fail(
            jobID: job.id, attempt: claimed.attempt, errorType: .authFailure, httpStatus: 407, retryAfter: nil, now: t0 + 1)
        #expect(failed.state == .available && failed.attemptsUsed == 0)
        #expect(try await fixture.claim(at: t0 + 10 * second) == nil)
        let stats = try await fixture.store.stats(now: t0 + 10 * second)
        #expect(stats.pausedComponents.map(\.component) == ["transcribe-worker"])
        #expect(stats.pausedComponents.first?.reason.contains("auth_failure") == true)
        #expect(try await fixture.store.resume(component: "transcribe-worker"))
        #expect(try await fixture.store.resume(component: "transcribe-worker") == false)
        let again = try #require(try await fixture.claim(at: t0 + 11 * second))
        #expect(again.id == job.id && again.attempt == 2 && again.attemptsUsed == 1)
    }

    @Test func manualPauseStopsClaims() async throws {
        let fixture = try Fixture()
        _ = try await fixture.transcribe(videoA)
        try await fixture.store.pause(component: "transcribe-worker", reason: "maintenance", now: t0)
        #expect(try await fixture.claim(at: t0) == nil)
        _ = try await fixture.store.resume(component: "transcribe-worker")
        #expect(try await fixture.claim(at: t0) != nil)
    }

    @Test func exhaustedAttemptsDiscard() async throws {
        let fixture = try Fixture()
        let job = try await fixture.transcribe(videoA, maxAttempts: 2)
        var now = t0
        var states: [JobState] = []
        for _ in 0..<2 {
            let claimed = try #require(try await fixture.claim(at: now))
            let failed = try await fixture.store.fail(
                jobID: job.id, attempt: claimed.attempt, errorType: .timeout, httpStatus: nil, retryAfter: nil, now: now)
            states.append(failed.state)
            now = failed.dueAt
        }
        #expect(states == [.retryable, .discarded])
        #expect(try await fixture.claim(at: now + 3600 * second) == nil)
    }

    @Test func releaseKeepsTheAttemptBudgetButNotTheAttemptNumber() async throws {
        let fixture = try Fixture()
        let job = try await fixture.transcribe(videoA, maxAttempts: 1)
        for round in 1...3 {
            let claimed = try #require(try await fixture.claim(at: t0 + Int64(round)))
            #expect(claimed.attempt == round && claimed.attemptsUsed == 1)
            let released = try await fixture.store.release(jobID: job.id, attempt: claimed.attempt, now: t0 + Int64(round))
            #expect(released.state == .available && released.attemptsUsed == 0)
        }
        let last = try #require(try await fixture.claim(at: t0 + 10))
        let failed = try await fixture.store.fail(
            jobID: job.id, attempt: last.attempt, errorType: .timeout, httpStatus: nil, retryAfter: nil, now: t0 + 10)
        #expect(failed.state == .discarded && failed.attempt == 4)
        #expect(try await fixture.store.attempts(jobID: job.id).map(\.outcome) == [.released, .released, .released, .discarded])
    }

    @Test func enqueueIsIdempotentPerKindAndTarget() async throws {
        let fixture = try Fixture()
        let results = try await fixture.store.enqueue([
            JobRequest(.transcribe(.video(id: videoA))), JobRequest(.transcribe(.video(id: videoA))),
            JobRequest(.videoMetadata(videoID: videoA)),
            JobRequest(.batchMetadata(videoIDs: [videoB, videoA])), JobRequest(.batchMetadata(videoIDs: [videoA, videoB, videoA])),
            JobRequest(.channelListing(channel: "@veritasium", limit: 10)), JobRequest(.channelListing(channel: "@veritasium", limit: 5)),
        ], now: t0)
        #expect(results.map(\.isNew) == [true, false, true, true, false, true, false])
        #expect(results[0].job.id == results[1].job.id && results[0].job.id != results[2].job.id)
        #expect(results[3].job.target == "\(videoB),\(videoA)".split(separator: ",").sorted().joined(separator: ","))
        let claimed = try #require(try await fixture.claim(at: t0))
        #expect(try await fixture.transcribe(videoA).id == claimed.id)  // running still counts
        _ = try await fixture.store.complete(jobID: claimed.id, attempt: claimed.attempt, result: nil, now: t0)
        let fresh = try await fixture.store.enqueue(JobRequest(.transcribe(.video(id: videoA))), now: t0 + 1)
        #expect(fresh.isNew && fresh.job.id != claimed.id)
    }

    @Test func invalidRequestsEnqueueNothing() async throws {
        let fixture = try Fixture()
        await #expect(throws: JobStoreError.self) {
            _ = try await fixture.store.enqueue(
                [JobRequest(.transcribe(.video(id: videoA))), JobRequest(.videoMetadata(videoID: "short"))], now: t0)
        }
        await #expect(throws: JobStoreError.self) {
            _ = try await fixture.store.enqueue(JobRequest(.channelListing(channel: "@x", limit: 0)), now: t0)
        }
        await #expect(throws: JobStoreError.self) {
            _ = try await fixture.store.enqueue(JobRequest(.transcribe(.video(id: videoA)), maxAttempts: 0), now: t0)
        }
        #expect(try await fixture.store.list(state: nil, kind: nil, limit: 10).isEmpty)
    }
}
