import Logging
import ProxyGateway
import Testing
import TestSupport
import Ledger

@testable import Workers

/// Tracks how many jobs run at once.
actor InFlightTracker {
    private(set) var current = 0
    private(set) var maximum = 0

    func enter() {
        current += 1
        maximum = max(maximum, current)
    }

    func leave() { current -= 1 }
}

struct SampleFailure: Error {}

struct BaseWorkerTests {
    /// The workers log `job failed` for the failures these tests make on purpose: kept, not printed.
    let logger = TestLog().logger(label: "test.workers")

    func makeWorker(_ concurrency: WorkerConcurrency, tracker: InFlightTracker) -> BaseWorker<Int, Int> {
        BaseWorker(concurrency: concurrency, logger: logger) { job in
            await tracker.enter()
            try? await Task.sleep(for: .milliseconds(20))
            await tracker.leave()
            if job % 5 == 0 { throw SampleFailure() }
            return job * 2
        }
    }

    func service(enabled: Bool, maxConcurrency: Int) throws -> ProxyService {
        let settings = ProxySettings(
            enabled: enabled, gatewayHost: "127.0.0.1", gatewayPort: 3128, username: "lab-user",
            password: "secret", useBackbone: false, maxConcurrency: maxConcurrency)
        return try ProxyService(settings: settings, component: .transcribe)
    }

    @Test(arguments: [1, 2, 3, 7])
    func inFlightNeverExceedsTheBound(bound: Int) async throws {
        let tracker = InFlightTracker()
        let worker = makeWorker(.bounded(bound), tracker: tracker)
        let outcomes = await worker.drain(JobQueue(Array(1...30)))
        #expect(outcomes.count == 30)
        #expect(await tracker.maximum <= bound)
        #expect(await tracker.maximum == bound)
    }

    @Test func concurrencyFollowsTheProxyService() throws {
        #expect(WorkerConcurrency(proxyService: try service(enabled: false, maxConcurrency: 8)) == .serial)
        #expect(WorkerConcurrency(proxyService: try service(enabled: true, maxConcurrency: 0)) == .unbounded)
        #expect(WorkerConcurrency(proxyService: try service(enabled: true, maxConcurrency: 4)) == .bounded(4))
    }

    @Test func proxyDisabledRunsOneAtATime() async throws {
        let tracker = InFlightTracker()
        let worker = BaseWorker<Int, Int>(proxyService: try service(enabled: false, maxConcurrency: 8), logger: logger)
        {
            await tracker.enter()
            try? await Task.sleep(for: .milliseconds(5))
            await tracker.leave()
            return $0
        }
        _ = await worker.drain(JobQueue(Array(1...10)))
        #expect(await tracker.maximum == 1)
    }

    @Test func zeroMeansUnbounded() async throws {
        let tracker = InFlightTracker()
        let worker = BaseWorker<Int, Int>(proxyService: try service(enabled: true, maxConcurrency: 0), logger: logger) {
            await tracker.enter()
            try? await Task.sleep(for: .milliseconds(200))
            await tracker.leave()
            return $0
        }
        _ = await worker.drain(JobQueue(Array(1...25)))
        #expect(await tracker.maximum == 25)
    }

    @Test func aFailingJobDoesNotAffectItsSiblings() async {
        let tracker = InFlightTracker()
        let outcomes = await makeWorker(.bounded(4), tracker: tracker).drain(JobQueue(Array(1...20)))
        #expect(outcomes.map(\.job) == Array(1...20))
        for outcome in outcomes {
            if outcome.job % 5 == 0 {
                #expect(!outcome.succeeded)
                #expect(outcome.error is SampleFailure)
            } else {
                #expect(outcome.output == outcome.job * 2)
            }
        }
        #expect(await tracker.current == 0)
    }

    @Test func aCancelledDrainStartsNoFurtherJob() async {
        let started = InFlightTracker()
        let worker = BaseWorker<Int, Int>(concurrency: .bounded(2), logger: logger) { job in
            await started.enter()
            try await Task.sleep(for: .seconds(30))  // ends early: cancellation reaches the job
            return job
        }
        let drain = Task { await worker.drain(JobQueue(Array(1...50))) }
        while await started.maximum < 2 { try? await Task.sleep(for: .milliseconds(5)) }
        drain.cancel()
        let outcomes = await drain.value
        #expect(outcomes.map(\.job) == [1, 2], "only the jobs in flight end, as cancelled")
        #expect(outcomes.allSatisfy { $0.error is CancellationError })
        #expect(await started.maximum == 2)
    }

    @Test func jobsEnqueuedWhileDrainingAreRun() async {
        let queue = JobQueue<Int>([1])
        let worker = BaseWorker<Int, Int>(concurrency: .bounded(2), logger: logger) { job in
            if job < 5 { await queue.enqueue(job + 1) }
            return job
        }
        let outcomes = await worker.drain(queue)
        #expect(outcomes.map(\.job) == [1, 2, 3, 4, 5])
        #expect(await queue.counts == JobQueueCounts(pending: 0, enqueued: 5, dequeued: 5))
    }

    @Test func queueIsFIFOAndPollTimesOut() async {
        let queue = JobQueue<String>()
        await queue.enqueue(contentsOf: ["a", "b"])
        #expect(await queue.count == 2)
        #expect(await queue.dequeue() == "a")
        #expect(await queue.poll(timeout: .milliseconds(10)) == "b")
        #expect(await queue.poll(timeout: .milliseconds(30)) == nil)
        #expect(await queue.isEmpty)
    }

    @Test func rateLimitCountersAreActorState() async {
        let counters = RateLimitCounters()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask {
                    await counters.record(index % 2 == 0 ? .rateLimited : (index % 3 == 0 ? .botCheck : nil))
                }
            }
        }
        let snapshot = await counters.snapshot
        #expect(snapshot.rateLimited == 50)
        #expect(snapshot.botChecks == 17)
        #expect(snapshot.successes == 33)
        #expect(snapshot.failures == 67)
    }
}
