/// An in-memory FIFO job queue shared by producers and workers.
///
/// ```swift
/// let queue = JobQueue<TranscriptionJob>()
/// await queue.enqueue(contentsOf: jobs)
/// let outcomes = await worker.drain(queue)
/// ```
public actor JobQueue<Job: Sendable> {
    private var pending: [Job] = []
    private var head = 0
    private var enqueuedTotal = 0
    private var dequeuedTotal = 0

    /// Creates an empty queue, or one holding `jobs` in order.
    public init(_ jobs: [Job] = []) {
        pending = jobs
        enqueuedTotal = jobs.count
    }

    /// Appends `job` at the tail.
    public func enqueue(_ job: Job) {
        pending.append(job)
        enqueuedTotal += 1
    }

    /// Appends `jobs` at the tail, in order.
    public func enqueue(contentsOf jobs: some Sequence<Job>) {
        for job in jobs { enqueue(job) }
    }

    /// Removes and returns the job at the head, or `nil` when the queue is empty (never waits).
    /// - Complexity: amortised O(1).
    public func dequeue() -> Job? {
        guard head < pending.count else { return nil }
        let job = pending[head]
        head += 1
        dequeuedTotal += 1
        if head > 1024 && head * 2 > pending.count {
            pending.removeFirst(head)
            head = 0
        }
        return job
    }

    /// Waits until a job is available or `timeout` has passed, polling every `interval`.
    /// - Returns: the job, or `nil` on timeout or cancellation.
    public func poll(timeout: Duration, interval: Duration = .milliseconds(50)) async -> Job? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if let job = dequeue() { return job }
            guard clock.now < deadline, !Task.isCancelled else { return nil }
            try? await Task.sleep(for: interval)
        }
    }

    /// Jobs waiting in the queue.
    public var count: Int { pending.count - head }
    /// `true` when no job is waiting.
    public var isEmpty: Bool { count == 0 }
    /// The queue's counters.
    public var counts: JobQueueCounts {
        JobQueueCounts(pending: count, enqueued: enqueuedTotal, dequeued: dequeuedTotal)
    }
}

/// A snapshot of a ``JobQueue``'s counters.
public struct JobQueueCounts: Sendable, Hashable {
    /// Jobs waiting.
    public var pending: Int
    /// Jobs ever enqueued.
    public var enqueued: Int
    /// Jobs ever handed to a worker.
    public var dequeued: Int
}
