import Foundation
public import Ledger

/// A durable job queue shared by worker processes.
///
/// Workers only see this protocol, so a PostgreSQL store (`FOR UPDATE SKIP LOCKED`) can replace
/// ``SQLiteJobStore`` without touching them. Times are µs since the Unix epoch (UTC) and are
/// passed in (`now`), so behaviour does not depend on the wall clock.
///
/// A worker's loop: ``claim(component:workerID:leaseDuration:now:)``, run the job with the
/// returned ``Job/attempt`` as the ledger events' `attempt`, ``renewLease(jobID:attempt:leaseDuration:now:)``
/// while it runs, then ``complete(jobID:attempt:result:now:)``, ``fail(jobID:attempt:errorType:httpStatus:retryAfter:now:)``
/// or, when interrupted, ``release(jobID:attempt:now:)``. The `attempt` identifies the lease: once
/// another worker has re-claimed the job, every call with the old attempt throws `.leaseLost`.
public protocol JobStore: Sendable {
    /// Enqueues requests in one transaction (all or nothing).
    ///
    /// A request whose kind and target already have an available, retryable or running job
    /// returns that job with `isNew == false`; duplicates within `requests` collapse the same way.
    /// - Parameter now: The enqueue time, µs; new jobs are due at once.
    /// - Returns: One result per request, in order.
    /// - Throws: ``JobStoreError`` `.invalidRequest` (nothing enqueued), `.writeFailed`.
    func enqueue(_ requests: [JobRequest], now: Int64) async throws -> [EnqueueResult]

    /// Takes the job of `component` that has been due longest, or `nil` when none is due or the
    /// component is paused.
    ///
    /// Due: available, retryable whose time has come, or running whose lease expired (taken
    /// over). The job becomes running, leased to `workerID` until `now + leaseDuration`, with
    /// ``Job/attempt`` one higher than before; the attempt is recorded in `job_attempts`. A job
    /// whose lease expired after its last allowed attempt is discarded instead.
    /// - Throws: ``JobStoreError`` `.writeFailed`.
    func claim(component: String, workerID: String, leaseDuration: Duration, now: Int64) async throws -> Job?

    /// Takes up to `limit` due jobs of `component` in one transaction, longest-due first, each as
    /// ``claim(component:workerID:leaseDuration:now:)`` takes one (a worker fills all its free
    /// slots at once instead of one claim, and one commit, per slot).
    ///
    /// - Parameter limit: The most jobs to take; `0` or less takes none.
    /// - Returns: The claimed jobs in claim order; fewer than `limit` (possibly none) when fewer
    ///   are due, none when the component is paused.
    /// - Throws: ``JobStoreError`` `.writeFailed`; nothing is claimed then.
    func claim(
        component: String, workerID: String, leaseDuration: Duration, now: Int64, limit: Int
    ) async throws -> [Job]

    /// Extends a running attempt's lease to `now + leaseDuration`.
    ///
    /// - Returns: The new lease expiry, µs.
    /// - Throws: ``JobStoreError`` `.leaseLost` when the attempt no longer holds the job, `.notFound`.
    func renewLease(jobID: String, attempt: Int, leaseDuration: Duration, now: Int64) async throws -> Int64

    /// Marks a running attempt's job completed with an optional result (a path, JSON text).
    ///
    /// - Throws: ``JobStoreError`` `.leaseLost`, `.notFound`.
    func complete(jobID: String, attempt: Int, result: String?, now: Int64) async throws -> Job

    /// Records a failed attempt and applies the retry policy (see ``FailureDisposition``).
    ///
    /// - Parameters:
    ///   - errorType: The attempt's `error_type`.
    ///   - httpStatus: The last upstream HTTP status, if any (decides whether `http_error` is permanent).
    ///   - retryAfter: The server's `Retry-After`, if any; the retry waits at least this long.
    /// - Returns: The job: retryable (due later), discarded, or available with its component paused.
    /// - Throws: ``JobStoreError`` `.leaseLost`, `.notFound`.
    func fail(
        jobID: String, attempt: Int, errorType: ProxyErrorType, httpStatus: Int?, retryAfter: Duration?, now: Int64
    ) async throws -> Job

    /// Returns an interrupted attempt's job to available without charging the attempt.
    ///
    /// ``Job/attemptsUsed`` goes back down by one, so the job keeps its full attempt budget; the
    /// next claim still gets a new, higher ``Job/attempt`` so that no two attempts (and their
    /// ledger events) share a number.
    /// - Throws: ``JobStoreError`` `.leaseLost`, `.notFound`.
    func release(jobID: String, attempt: Int, now: Int64) async throws -> Job

    /// Cancels an available, retryable or running job (a running worker then gets `.leaseLost`).
    ///
    /// - Throws: ``JobStoreError`` `.notFound`, `.invalidState` for a completed or discarded job.
    func cancel(jobID: String, now: Int64) async throws -> Job

    /// Makes a discarded or cancelled job available again with its attempt budget reset.
    ///
    /// - Throws: ``JobStoreError`` `.notFound`, `.invalidState` when the job is not discarded or
    ///   cancelled, or when another active job has the same target.
    func retry(jobID: String, now: Int64) async throws -> Job

    /// Retries every job in `state` (`.discarded` or `.cancelled`), skipping any whose target has
    /// an active job again.
    ///
    /// - Returns: The number of jobs made available.
    /// - Throws: ``JobStoreError`` `.invalidRequest` for another state, `.writeFailed`.
    func retryAll(state: JobState, now: Int64) async throws -> Int

    /// Stops claims for `component` until ``resume(component:)``.
    ///
    /// - Throws: ``JobStoreError`` `.writeFailed`.
    func pause(component: String, reason: String, now: Int64) async throws

    /// Lets claims for `component` go on.
    ///
    /// - Returns: `false` when it was not paused.
    /// - Throws: ``JobStoreError`` `.writeFailed`.
    func resume(component: String) async throws -> Bool

    /// Jobs in enqueue order, optionally only in `state` and of `kind`, at most `limit`.
    ///
    /// - Throws: ``JobStoreError`` `.readFailed`.
    func list(state: JobState?, kind: JobKind?, limit: Int) async throws -> [Job]

    /// The job with `id`, or `nil`.
    ///
    /// - Throws: ``JobStoreError`` `.readFailed`.
    func job(id: String) async throws -> Job?

    /// The job's attempts, oldest first.
    ///
    /// - Throws: ``JobStoreError`` `.readFailed`.
    func attempts(jobID: String) async throws -> [JobAttempt]

    /// Counts by state, queue depth, the oldest available job's age and paused components, at `now`.
    ///
    /// - Throws: ``JobStoreError`` `.readFailed`.
    func stats(now: Int64) async throws -> JobStats
}

extension JobStore {
    /// Enqueues one request (see ``enqueue(_:now:)``).
    ///
    /// - Throws: ``JobStoreError`` `.invalidRequest`, `.writeFailed`.
    public func enqueue(_ request: JobRequest, now: Int64) async throws -> EnqueueResult {
        let results = try await enqueue([request], now: now)
        guard let first = results.first else { throw JobStoreError(code: .writeFailed, message: "enqueue returned no job") }
        return first
    }

    /// Claims one job at a time, up to `limit` (see ``claim(component:workerID:leaseDuration:now:limit:)``);
    /// a store that can take several in one transaction implements that instead.
    ///
    /// - Throws: ``JobStoreError`` `.writeFailed`; the jobs claimed before the failure stay claimed
    ///   (their leases expire if the caller drops them).
    public func claim(
        component: String, workerID: String, leaseDuration: Duration, now: Int64, limit: Int
    ) async throws -> [Job] {
        var jobs: [Job] = []
        while jobs.count < limit,
            let job = try await claim(component: component, workerID: workerID, leaseDuration: leaseDuration, now: now)
        {
            jobs.append(job)
        }
        return jobs
    }
}

/// The wall clock in the units the store uses.
public enum JobClock {
    /// Now, in µs since the Unix epoch (UTC).
    public static func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down))
    }
}
