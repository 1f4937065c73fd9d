import Foundation
import Jobs
import Ledger
import Projections
import ProxyGateway
import Synchronization

/// What the HTTP endpoints read: the job store, the projection, the metrics, the projector's lag
/// and the current proxy settings. One instance per `serve` process.
final class RuntimeState: Sendable {
    let jobs: any JobStore
    let projection: ProjectionStore
    let metrics: RuntimeMetrics
    let settings: @Sendable () -> ProxySettings
    let projector: ProjectorStatusBox
    let ledgerDirectory: String
    let connectivity: TimedCache<ConnectivityReport>
    let usage: TimedCache<UsageReport>
    let sink: LedgerSink
    /// The browsing API's operations (synchronous, through the gateway).
    let executor: JobExecutor

    init(
        jobs: any JobStore, projection: ProjectionStore, metrics: RuntimeMetrics, settings: @escaping @Sendable () -> ProxySettings,
        ledgerDirectory: String, sink: LedgerSink, executor: JobExecutor
    ) {
        self.jobs = jobs
        self.projection = projection
        self.metrics = metrics
        self.settings = settings
        self.projector = ProjectorStatusBox()
        self.ledgerDirectory = ledgerDirectory
        self.connectivity = TimedCache(maxAge: .seconds(30))
        self.usage = TimedCache(maxAge: .seconds(30))
        self.sink = sink
        self.executor = executor
    }

    /// The queue's statistics now, also set on the queue gauges of ``metrics``.
    ///
    /// - Throws: `JobStoreError` `.readFailed`.
    func queueStats() async throws -> JobStats {
        let stats = try await jobs.stats(now: JobClock.now())
        metrics.recordQueue(stats)
        return stats
    }

    /// Whether the process can do its work: the queue answers, the ledger folder is writable,
    /// the projector's last pass succeeded, and no component is paused on `auth_failure`.
    func readiness() async -> Readiness {
        do {
            return readiness(stats: .success(try await queueStats()))
        } catch {
            return readiness(stats: .failure(error))
        }
    }

    /// ``readiness()`` from queue statistics already read (or the error reading them).
    func readiness(stats: Result<JobStats, any Error>) -> Readiness {
        var problems: [String] = []
        var paused: [PausedComponent] = []
        switch stats {
        case .success(let stats): paused = stats.pausedComponents
        case .failure(let error): problems.append("the job queue cannot be read: \(error)")
        }
        if access(ledgerDirectory, W_OK) != 0 {
            problems.append("the ledger folder \(ledgerDirectory) is not writable")
        }
        if let reason = sink.blockedReason {
            problems.append("the ledger cannot be written (\(reason)); free space on its disk: appends wait and are retried every second, and no job is claimed meanwhile")
        }
        if let error = projector.value.withLock({ $0.lastError }) {
            problems.append("the projector's last pass failed: \(error)")
        }
        for component in paused {
            problems.append("\(component.component) is paused (\(component.reason)); fix the credentials, then reload the settings or run `proxy-ledger jobs resume \(component.component)`")
        }
        return Readiness(ready: problems.isEmpty, problems: problems, pausedComponents: paused.map(\.component))
    }
}

/// The body of `GET /readyz`.
struct Readiness: Encodable, Sendable {
    var ready: Bool
    var problems: [String]
    var pausedComponents: [String]
}

/// A value recomputed at most once per `maxAge`; concurrent readers of a stale value share one
/// recomputation.
actor TimedCache<Value: Sendable> {
    private let maxAge: Duration
    private var value: (Value, ContinuousClock.Instant)?
    private var pending: Task<Value, any Error>?

    init(maxAge: Duration) { self.maxAge = maxAge }

    func get(_ compute: @escaping @Sendable () async throws -> Value) async throws -> Value {
        if let (value, at) = value, ContinuousClock.now - at < maxAge { return value }
        if let pending { return try await pending.value }
        let task = Task { try await compute() }
        pending = task
        defer { pending = nil }
        let fresh = try await task.value
        value = (fresh, ContinuousClock.now)
        return fresh
    }
}
