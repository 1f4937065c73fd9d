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
    let retention: ProjectionRetention?
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
        let (snapshot, previousError) = status.value.withLock { status -> (ProjectorStatus, String?) in
            let previous = status.lastError
            status.lagEvents = Int(clamping: head > projected ? head - projected : 0)
            if case .failure(let error) = result {
                status.lastError = "\(error)"
            } else {
                status.lastError = nil
            }
            if status.lagEvents == 0 { status.caughtUpAt = now }
            status.lagSeconds = status.caughtUpAt.map { Double(now - $0) / 1_000_000 } ?? 0
            return (status, previous)
        }
        // The same failure pass after pass (a full disk) is logged once, and so is the recovery.
        switch result {
        case .failure(let error) where "\(error)" != previousError:
            logger.error("projecting the ledger failed; retrying every pass", metadata: ["projection.error": "\(error)"])
        case .success where previousError != nil:
            logger.notice("projecting the ledger works again")
        default: break
        }
        metrics.recordProjectorLag(events: snapshot.lagEvents, seconds: snapshot.lagSeconds)
        if case .success = result, let retention { await retention.pruneIfDue(store, logger: logger) }
    }
}

/// Prunes `proxy_request_logs` rows older than ``keep`` after the projector's first pass and
/// then at most once a day. The hourly rollups keep the pruned rows' usage, so reports do not
/// change, and the ledger keeps every event.
final class ProjectionRetention: Sendable {
    let keep: Duration
    private let lastRun = Mutex<ContinuousClock.Instant?>(nil)

    init(keep: Duration) { self.keep = keep }

    func pruneIfDue(_ store: ProjectionStore, logger: Logger) async {
        let now = ContinuousClock.now
        let due = lastRun.withLock { last -> Bool in
            guard last.map({ now - $0 >= .seconds(86_400) }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        let horizon = LedgerTimestamp(microseconds: LedgerTimestamp.now.microseconds - keep.components.seconds * 1_000_000)
        do {
            let result = try await Offload.run(throwing: { try store.prune(before: horizon) })
            logger.info("pruned the projection", metadata: [
                "projection.rows_deleted": "\(result.rowsDeleted)", "projection.horizon": "\(result.horizon)",
            ])
        } catch {
            logger.error("pruning the projection failed; retrying in a day", metadata: ["projection.error": "\(error)"])
        }
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
