import Foundation
import Ledger
import Logging
import Projections
import ServiceLifecycle
import Synchronization

/// How far the projection is behind the ledger, as last measured by the projector.
public struct ProjectorStatus: Sendable, Hashable, Codable {
    /// Events acknowledged by the ledger writer and not yet in `proxy_request_logs`.
    public var lagEvents: Int = 0
    /// Seconds since the projection was last fully caught up (0 while it is).
    public var lagSeconds: Double = 0
    /// When the projection was last caught up, µs since the Unix epoch; `nil` before the first pass.
    public var caughtUpAt: Int64?
    /// The last pass's error (a `ProjectionError` message), `nil` when it succeeded.
    public var lastError: String?
}

/// The projector's latest ``ProjectorStatus``, shared with the HTTP endpoints.
final class ProjectorStatusBox: Sendable {
    let value = Mutex(ProjectorStatus())
}

/// Tails the ledger into the SQLite projection: one incremental replay after each batch of
/// appends (the sink's wake-up) and at least once a second, and a final one on shutdown. It is
/// shut down before the ledger writer closes, after the workers, so its final pass sees every
/// event they appended.
struct ProjectorService: Service {
    let ledgerDirectory: String
    let partition: Int
    let store: ProjectionStore
    let writer: LedgerWriter
    let wakeups: ProjectorWakeups
    let metrics: RuntimeMetrics
    let status: ProjectorStatusBox
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let seen = wakeups.current
            await pass()
            await cancelWhenGracefulShutdown { await wakeups.wait(after: seen, timeout: .seconds(1)) }
        }
        await pass()
    }

    /// One incremental replay, then the lag is measured and published.
    func pass() async {
        let result = await Offload.run { [ledgerDirectory, store] in
            Result { try Projector(store: store).replay(from: try LedgerReader(directory: ledgerDirectory)) }
        }
        let head = writer.nextSequence
        let projected = (try? store.checkpoints())?[partition] ?? 0
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        let snapshot = status.value.withLock { status -> ProjectorStatus in
            status.lagEvents = Int(clamping: head > projected ? head - projected : 0)
            if case .failure(let error) = result {
                status.lastError = "\(error)"
            } else {
                status.lastError = nil
            }
            if status.lagEvents == 0 { status.caughtUpAt = now }
            status.lagSeconds = status.caughtUpAt.map { Double(now - $0) / 1_000_000 } ?? 0
            return status
        }
        if case .failure(let error) = result {
            logger.error("projecting the ledger failed; retrying", metadata: ["projection.error": "\(error)"])
        }
        metrics.recordProjectorLag(events: snapshot.lagEvents, seconds: snapshot.lagSeconds)
    }
}

/// Runs blocking work (SQLite, file reads) on a Dispatch thread instead of a Swift concurrency
/// thread, which the two-core machines this runs on cannot spare.
enum Offload {
    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    static func run<T: Sendable>(throwing work: @escaping @Sendable () throws -> T) async throws -> T {
        try await run { Result { try work() } }.get()
    }
}
