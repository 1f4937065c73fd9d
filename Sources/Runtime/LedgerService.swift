import Ledger
import Logging
import ServiceLifecycle
import Synchronization

/// The ledger writer of a `serve` process, as the sink every worker appends to.
///
/// Each acknowledged batch is counted in the metrics and wakes the projector. The writer is
/// opened before the ``ServiceGroup`` starts and closed by ``LedgerService`` after every worker
/// has stopped, so no event of a draining worker is refused.
public final class LedgerSink: EventAppending {
    let writer: LedgerWriter
    let metrics: RuntimeMetrics
    let wakeups: ProjectorWakeups
    private let appended = Atomic<Int>(0)

    init(writer: LedgerWriter, metrics: RuntimeMetrics, wakeups: ProjectorWakeups) {
        self.writer = writer
        self.metrics = metrics
        self.wakeups = wakeups
    }

    /// Events acknowledged by this sink since it was created.
    public var appendedCount: Int { appended.load(ordering: .relaxed) }

    /// Appends `events` as one batch (see `LedgerWriter.append(_:)`).
    ///
    /// - Throws: `LedgerError` from the writer; nothing of the batch is acknowledged then.
    public func append(_ events: [ProxyRequestEvent]) async throws -> [AppendAcknowledgement] {
        let acks = try await writer.append(events)
        appended.add(events.count, ordering: .relaxed)
        metrics.recordAppended(events)
        wakeups.signal()
        return acks
    }
}

/// Closes the ledger writer when the service group shuts down. It is the first service of the
/// group, so it is the last to be shut down: after the workers have appended their final events
/// and the projector has caught up.
struct LedgerService: Service {
    let writer: LedgerWriter
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        do {
            try await writer.close()
        } catch {
            logger.error("closing the ledger failed", metadata: ["ledger.error": "\(error)"])
            throw error
        }
    }
}

/// A wake-up signal from the sink to the projector that coalesces: many appends while the
/// projector works give one more pass, never a backlog.
final class ProjectorWakeups: Sendable {
    private let generation = Atomic<UInt64>(0)

    func signal() { generation.add(1, ordering: .releasing) }

    /// The number of signals so far.
    var current: UInt64 { generation.load(ordering: .acquiring) }

    /// Returns once a signal newer than `seen` arrived, `timeout` passed, or the task is
    /// cancelled, checking every `interval`.
    func wait(after seen: UInt64, timeout: Duration, interval: Duration = .milliseconds(50)) async {
        let deadline = ContinuousClock.now + timeout
        while current == seen, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: interval)
        }
    }
}
