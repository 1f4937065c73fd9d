import Ledger
public import Logging
public import ProxyGateway

/// How many jobs a ``BaseWorker`` runs at once.
public struct WorkerConcurrency: Sendable, Hashable, CustomStringConvertible {
    /// The bound on in-flight jobs, or `nil` for no bound.
    public var limit: Int?

    /// At most `limit` jobs at once (values below 1 are treated as 1).
    public static func bounded(_ limit: Int) -> WorkerConcurrency { WorkerConcurrency(limit: max(limit, 1)) }
    /// One job at a time.
    public static let serial = WorkerConcurrency(limit: 1)
    /// No bound: every queued job starts at once.
    public static let unbounded = WorkerConcurrency(limit: nil)

    private init(limit: Int?) { self.limit = limit }

    /// The original design's rule: with the proxy enabled, at most ``ProxyService/maxConcurrency`` jobs at
    /// once (`0` = unbounded, `PROXY_MAX_CONCURRENCY`); with the proxy disabled, one at a time.
    public init(proxyService: ProxyService) {
        if !proxyService.isEnabled {
            self = .serial
        } else if proxyService.maxConcurrency == 0 {
            self = .unbounded
        } else {
            self = .bounded(proxyService.maxConcurrency)
        }
    }

    /// `bounded(N)` or `unbounded`.
    public var description: String { limit.map { "bounded(\($0))" } ?? "unbounded" }
}

/// The result of one job run by a ``BaseWorker``.
public struct JobOutcome<Job: Sendable, Output: Sendable>: Sendable {
    /// The order in which the job was taken from the queue, from 0.
    public let sequence: Int
    /// The job.
    public let job: Job
    /// The job's output, or the error it threw. A thrown error never affects sibling jobs.
    public let result: Result<Output, any Error>
    /// Wall-clock time the job took, milliseconds.
    public let durationMS: Int64

    /// `true` when the job returned normally.
    public var succeeded: Bool {
        if case .success = result { return true }
        return false
    }

    /// The job's output, `nil` when it failed.
    public var output: Output? { try? result.get() }

    /// The error the job threw, `nil` when it succeeded.
    public var error: (any Error)? {
        if case .failure(let error) = result { return error }
        return nil
    }
}

/// Takes jobs from a ``JobQueue`` and runs them concurrently in a task group with a bound
/// (``WorkerConcurrency``). A job that throws is recorded as failed; its siblings carry on.
///
/// ```swift
/// let worker = BaseWorker(proxyService: service, logger: logger) { job in
///     try await transcriber.transcribe(job)
/// }
/// let outcomes = await worker.drain(queue)
/// ```
public struct BaseWorker<Job: Sendable, Output: Sendable>: Sendable {
    /// The bound on in-flight jobs.
    public let concurrency: WorkerConcurrency
    private let operation: @Sendable (Job) async throws -> Output
    private let logger: Logger

    /// Creates a worker with an explicit bound.
    /// - Parameters:
    ///   - concurrency: how many jobs may run at once.
    ///   - logger: receives one warning per failed job (error descriptions are secret-free).
    ///   - operation: processes one job; throwing marks the job failed.
    public init(
        concurrency: WorkerConcurrency, logger: Logger,
        operation: @escaping @Sendable (Job) async throws -> Output
    ) {
        self.concurrency = concurrency
        self.logger = logger
        self.operation = operation
    }

    /// Creates a worker bounded by the original design's rule for `proxyService` (see
    /// ``WorkerConcurrency/init(proxyService:)``).
    public init(
        proxyService: ProxyService, logger: Logger,
        operation: @escaping @Sendable (Job) async throws -> Output
    ) {
        self.init(concurrency: WorkerConcurrency(proxyService: proxyService), logger: logger, operation: operation)
    }

    /// Runs jobs until `queue` is empty and no job is in flight, then returns every outcome in
    /// dequeue order. Jobs enqueued while draining are picked up too. When the calling task is
    /// cancelled, no further job is dequeued; the jobs in flight are cancelled and their outcomes
    /// returned.
    public func drain(_ queue: JobQueue<Job>) async -> [JobOutcome<Job, Output>] {
        let limit = concurrency.limit
        let operation = operation
        let logger = logger
        return await withTaskGroup(of: JobOutcome<Job, Output>.self) { group in
            var outcomes: [JobOutcome<Job, Output>] = []
            var inFlight = 0
            var sequence = 0
            while true {
                // Once the caller is cancelled no new job starts; those in flight end (their
                // yt-dlp is stopped) and are recorded with the bytes they spent.
                while !Task.isCancelled, limit.map({ inFlight < $0 }) ?? true, let job = await queue.dequeue() {
                    let number = sequence
                    sequence += 1
                    inFlight += 1
                    group.addTask { await Self.execute(job, sequence: number, operation: operation, logger: logger) }
                }
                guard let outcome = await group.next() else { break }
                inFlight -= 1
                outcomes.append(outcome)
            }
            return outcomes.sorted { $0.sequence < $1.sequence }
        }
    }

    /// Drains `queue` repeatedly, sleeping `pollInterval` whenever it is empty, until the calling
    /// task is cancelled. Each outcome is handed to `onOutcome` (in dequeue order per drain).
    public func run(
        _ queue: JobQueue<Job>, pollInterval: Duration = .milliseconds(200),
        onOutcome: @Sendable (JobOutcome<Job, Output>) async -> Void
    ) async {
        while !Task.isCancelled {
            let outcomes = await drain(queue)
            for outcome in outcomes { await onOutcome(outcome) }
            if outcomes.isEmpty { try? await Task.sleep(for: pollInterval) }
        }
    }

    private static func execute(
        _ job: Job, sequence: Int, operation: @Sendable (Job) async throws -> Output, logger: Logger
    ) async -> JobOutcome<Job, Output> {
        let clock = ContinuousClock()
        let start = clock.now
        let result: Result<Output, any Error>
        do {
            result = .success(try await operation(job))
        } catch {
            logger.warning("job failed", metadata: ["worker.job": "\(sequence)", "worker.error": "\(error)"])
            result = .failure(error)
        }
        return JobOutcome(sequence: sequence, job: job, result: result, durationMS: (clock.now - start).wholeMilliseconds)
    }
}

