import Foundation
import Jobs
import Logging
import ServiceLifecycle
import Ledger

/// The worker pool of one component: claims that component's jobs from the durable queue and runs
/// up to ``concurrency`` of them at once, each holding a renewed lease.
///
/// Free slots are filled by one claim of that many jobs (one transaction), as soon as a job
/// ends, at every ``pollInterval`` while idle, and at once when ``queueSignal`` reports jobs
/// enqueued, retried or resumed through this process.
///
/// On graceful shutdown it stops claiming, lets the jobs in flight finish within
/// ``shutdownGrace``, then cancels the rest: their yt-dlp is stopped, their events are appended
/// with the bytes counted so far and `error_type` `interrupted`, and their jobs are released to
/// `available` without using up an attempt.
struct JobWorkerService: Service {
    let component: String
    let store: any JobStore
    let executor: JobExecutor
    /// The current bound on jobs in flight (read before every claim, so a reload applies).
    let concurrency: @Sendable () -> Int
    let workerID: String
    let leaseDuration: Duration
    /// How long an idle pool waits before asking the queue again, unless ``queueSignal`` wakes it.
    let pollInterval: Duration
    /// Signalled when jobs become due through this process; wakes the pool before its next poll.
    let queueSignal: QueueSignal
    let shutdownGrace: Duration
    /// Whether a job may be claimed now: `false` while the ledger waits for disk space
    /// (``LedgerSink/blockedReason``), so no new job spends bandwidth whose event cannot be kept.
    let mayClaim: @Sendable () -> Bool
    /// Called when the shutdown grace is over, before the jobs still in flight are cancelled.
    let onGraceOver: @Sendable () -> Void
    let onQueueChange: @Sendable () async -> Void
    let logger: Logger

    private enum Event: Sendable {
        case jobEnded
        case tick
        case graceOver
    }

    func run() async throws {
        await withTaskGroup(of: Event.self) { group in
            var inFlight = 0
            var ticking = false
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                // Read before the claim, so that a job enqueued while it runs still wakes the tick.
                let seen = queueSignal.generation
                for job in await claim(upTo: mayClaim() ? concurrency() - inFlight : 0) {
                    inFlight += 1
                    group.addTask { await attempt(job); return .jobEnded }
                }
                if !ticking {
                    ticking = true
                    group.addTask { [pollInterval, queueSignal] in
                        await cancelWhenGracefulShutdown { await queueSignal.wait(after: seen, timeout: pollInterval) }
                        return .tick
                    }
                }
                switch await group.next() {
                case .jobEnded: inFlight -= 1
                case .tick, .graceOver: ticking = false
                case nil: break
                }
            }
            await drain(&group, inFlight: inFlight)
        }
    }

    /// Waits for the jobs in flight, cancelling them once the grace period is over.
    private func drain(_ group: inout TaskGroup<Event>, inFlight: Int) async {
        var inFlight = inFlight
        if inFlight > 0 {
            logger.notice("shutting down: waiting for jobs in flight", metadata: [
                "worker.component": "\(component)", "worker.in_flight": "\(inFlight)",
                "worker.grace_seconds": "\(shutdownGrace.components.seconds)",
            ])
            group.addTask { [shutdownGrace] in
                try? await Task.sleep(for: shutdownGrace)
                return .graceOver
            }
        }
        while inFlight > 0, let event = await group.next() {
            switch event {
            case .jobEnded: inFlight -= 1
            case .graceOver:
                logger.warning("grace period over: interrupting jobs", metadata: [
                    "worker.component": "\(component)", "worker.in_flight": "\(inFlight)",
                ])
                onGraceOver()
                group.cancelAll()
            case .tick: break
            }
        }
        group.cancelAll()
    }

    /// Claims jobs for the `free` slots in one call (one transaction), so that a burst of jobs
    /// starts at once instead of one claim, commit and scheduler turn per slot.
    private func claim(upTo free: Int) async -> [Job] {
        guard free > 0 else { return [] }
        do {
            return try await store.claim(
                component: component, workerID: workerID, leaseDuration: leaseDuration, now: JobClock.now(),
                limit: free)
        } catch {
            if !Task.isCancelled {
                logger.error(
                    "claiming jobs failed", metadata: ["worker.component": "\(component)", "worker.error": "\(error)"])
            }
            return []
        }
    }

    /// Runs one attempt while renewing its lease, then records its outcome in the store.
    private func attempt(_ job: Job) async {
        await recordTakeover(of: job)
        let (outcome, leaseLost) = await withTaskGroup(of: (AttemptOutcome?, Bool).self) { group in
            group.addTask { (await executor.run(job), false) }
            group.addTask { await renew(job) ? (nil, false) : (nil, true) }
            var outcome: AttemptOutcome = .interrupted
            var leaseLost = false
            while let (result, lost) = await group.next() {
                if lost {
                    leaseLost = true
                    group.cancelAll()
                }
                if let result {
                    outcome = result
                    group.cancelAll()
                }
            }
            return (outcome, leaseLost)
        }
        guard !leaseLost else {
            logger.warning("lease lost (job cancelled or taken over); the attempt was stopped",
                metadata: ["job.id": "\(job.id)", "job.attempt": "\(job.attempt)"])
            return
        }
        await settle(job, outcome)
        await onQueueChange()
    }

    /// When this claim took the job over from a worker that died, appends the dead attempt's event.
    private func recordTakeover(of job: Job) async {
        guard job.attempt > 1 else { return }
        do {
            let attempts = try await store.attempts(jobID: job.id)
            guard let lost = attempts.last(where: { $0.attempt < job.attempt }), lost.outcome == .leaseExpired else { return }
            try await executor.recordLostAttempt(lost, of: job)
            logger.warning("took over a job whose worker died; its lost attempt is recorded as interrupted",
                metadata: ["job.id": "\(job.id)", "job.lost_attempt": "\(lost.attempt)", "job.lost_worker": "\(lost.workerID)"])
        } catch {
            logger.error("recording a lost attempt failed", metadata: ["job.id": "\(job.id)", "worker.error": "\(error)"])
        }
    }

    /// Renews the lease every third of its duration until cancelled (`true`) or lost (`false`).
    private func renew(_ job: Job) async -> Bool {
        while !Task.isCancelled {
            try? await Task.sleep(for: leaseDuration / 3)
            guard !Task.isCancelled else { return true }
            do {
                _ = try await store.renewLease(jobID: job.id, attempt: job.attempt, leaseDuration: leaseDuration, now: JobClock.now())
            } catch let error as JobStoreError where error.code == .leaseLost || error.code == .notFound {
                return false
            } catch {
                logger.warning("renewing a lease failed; retrying", metadata: ["job.id": "\(job.id)", "worker.error": "\(error)"])
            }
        }
        return true
    }

    /// Records the outcome in the store. Runs outside the attempt's task, so that an interrupted
    /// attempt's release is never itself cancelled.
    private func settle(_ job: Job, _ outcome: AttemptOutcome) async {
        let store = store
        let task = Task {
            let now = JobClock.now()
            switch outcome {
            case .completed(let result):
                return try await store.complete(jobID: job.id, attempt: job.attempt, result: result, now: now)
            case .interrupted:
                return try await store.release(jobID: job.id, attempt: job.attempt, now: now)
            case .failed(let errorType, let status, let retryAfter, _):
                return try await store.fail(
                    jobID: job.id, attempt: job.attempt, errorType: errorType, httpStatus: status, retryAfter: retryAfter,
                    now: now)
            }
        }
        do {
            let settled = try await task.value
            var metadata: Logger.Metadata = [
                "job.id": "\(job.id)", "job.attempt": "\(job.attempt)", "job.state": "\(settled.state.rawValue)",
            ]
            if case .failed(let errorType, _, _, let message) = outcome {
                metadata["job.error_type"] = "\(errorType.rawValue)"
                metadata["job.error"] = "\(message)"
            }
            logger.info("job attempt ended", metadata: metadata)
        } catch {
            logger.error("recording a job's outcome failed; its lease will expire and it runs again",
                metadata: ["job.id": "\(job.id)", "worker.error": "\(error)"])
        }
    }
}
