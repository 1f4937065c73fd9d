import Foundation
public import Ledger
import Logging
import Synchronization

/// The ledger writer of a `serve` process, as the sink every worker appends to.
///
/// Each acknowledged batch is counted in the metrics and wakes the projector. The writer is
/// opened before the ``ServiceGroup`` starts and closed by ``LedgerService`` after every worker
/// has stopped, so no event of a draining worker is refused.
///
/// **A full disk makes appends wait, not fail.** When the writer reports ENOSPC (or EDQUOT) and
/// is not poisoned (a cut-back write leaves nothing behind), the append retries every
/// ``spaceRetryInterval`` until it succeeds: the operation's bytes have already crossed the
/// gateway, and its event must not be lost. Meanwhile ``blockedReason`` is set (readiness is
/// false, the worker pools claim nothing, `proxy_ledger_ledger_blocked` is 1). After
/// ``stopWaitingForSpace()`` (the shutdown grace is over) the append fails instead, and the
/// event is logged as a JSON line at error level so that an operator can `proxy-ledger append`
/// it once there is space.
public final class LedgerSink: EventAppending {
    let writer: LedgerWriter
    let metrics: RuntimeMetrics
    let wakeups: ProjectorWakeups
    let logger: Logger
    /// How often a blocked append is retried.
    let spaceRetryInterval: Duration
    private let appended = Atomic<Int>(0)
    private let blocked = Mutex<String?>(nil)
    private let givingUp = Atomic<Bool>(false)

    init(
        writer: LedgerWriter, metrics: RuntimeMetrics, wakeups: ProjectorWakeups, logger: Logger,
        spaceRetryInterval: Duration = .seconds(1)
    ) {
        self.writer = writer
        self.metrics = metrics
        self.wakeups = wakeups
        self.logger = logger
        self.spaceRetryInterval = spaceRetryInterval
    }

    /// Events acknowledged by this sink since it was created.
    public var appendedCount: Int { appended.load(ordering: .relaxed) }

    /// Why appends are waiting (the writer's ENOSPC error, naming the segment file), or `nil`
    /// when the ledger takes appends.
    public var blockedReason: String? { blocked.withLock { $0 } }

    /// Makes blocked and later appends fail instead of waiting for space (called when the
    /// shutdown grace is over, so that the process can exit).
    func stopWaitingForSpace() { givingUp.store(true, ordering: .releasing) }

    /// Appends `events` as one batch (see `LedgerWriter.append(_:)`), waiting while the disk is
    /// full (see the type's documentation).
    ///
    /// - Throws: `LedgerError` from the writer; nothing of the batch is acknowledged then. A
    ///   full disk throws only after ``stopWaitingForSpace()`` or when the task is cancelled.
    public func append(_ events: [ProxyRequestEvent]) async throws -> [AppendAcknowledgement] {
        while true {
            do {
                let acks = try await writer.append(events)
                acknowledged(events)
                return acks
            } catch let error as LedgerError where Self.isOutOfSpace(error) && !writer.refusesAppends {
                guard !givingUp.load(ordering: .acquiring) else { throw unrecorded(events, error) }
                block(error)
                do { try await Task.sleep(for: spaceRetryInterval) } catch { throw unrecorded(events, error) }
            }
        }
    }

    private func acknowledged(_ events: [ProxyRequestEvent]) {
        appended.add(events.count, ordering: .relaxed)
        metrics.recordAppended(events)
        wakeups.signal()
        let was = blocked.withLock { state in
            defer { state = nil }
            return state
        }
        if was != nil {
            metrics.recordLedgerBlocked(false)
            logger.notice("the ledger takes appends again; the waiting events are appended")
        }
    }

    private func block(_ error: LedgerError) {
        let first = blocked.withLock { state in
            defer { state = error.description }
            return state == nil
        }
        guard first else { return }
        metrics.recordLedgerBlocked(true)
        logger.error("the ledger's disk is full: appends wait and no job is claimed until there is space",
            metadata: ["ledger.error": "\(error)"])
    }

    /// Logs `events` as JSON lines for a later `proxy-ledger append`; returns the error to throw.
    private func unrecorded(_ events: [ProxyRequestEvent], _ error: any Error) -> any Error {
        for event in events {
            logger.error("event not appended (the ledger's disk is full); append this line with `proxy-ledger append` once there is space",
                metadata: ["ledger.event": "\(String(decoding: event.jsonLine(), as: UTF8.self))"])
        }
        return error
    }

    /// `true` for a write error that more space would cure: ENOSPC or EDQUOT.
    static func isOutOfSpace(_ error: LedgerError) -> Bool {
        guard error.code == .io else { return false }
        return [ENOSPC, EDQUOT].contains { error.message.contains(String(cString: strerror($0))) }
    }
}
