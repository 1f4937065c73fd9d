import Ledger
import Logging
import ServiceLifecycle
import Synchronization

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
