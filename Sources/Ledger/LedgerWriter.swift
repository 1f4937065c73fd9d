import Dispatch
import Foundation
public import Logging
import Synchronization

/// The single writer of one ledger partition, with group commit.
///
/// Any number of tasks may call ``append(_:)`` at once. Calls that arrive while a frame is being
/// written and fsynced are queued and then committed together as the next frame, so one `fsync`
/// serves many appenders. Each call's events land in one frame: a batch is all or nothing.
///
/// ```swift
/// let writer = try LedgerWriter.open(LedgerConfiguration(directory: "ledger"), logger: logger)
/// let acks = try await writer.append(events)
/// try await writer.close()
/// ```
public final class LedgerWriter: EventAppending, Sendable {
    private typealias Waiter = CheckedContinuation<[AppendAcknowledgement], any Error>

    private struct Pending {
        var requests: [(events: [ProxyRequestEvent], waiter: Waiter)] = []
        var draining = false
        var closed = false
    }

    /// The partition this writer owns.
    public let partition: Int
    public let configuration: LedgerConfiguration
    private let queue: DispatchQueue
    private let pending = Mutex(Pending())
    /// Confined to `queue`.
    private nonisolated(unsafe) let segment: SegmentWriter
    private nonisolated(unsafe) var timer: (any DispatchSourceTimer)?
    private nonisolated(unsafe) var failure: LedgerError?

    private init(segment: SegmentWriter, configuration: LedgerConfiguration) {
        self.segment = segment
        self.configuration = configuration
        self.partition = configuration.partition
        self.queue = DispatchQueue(label: "proxy-ledger.commit.\(configuration.partition)")
    }

    /// Opens (and recovers) the partition for writing.
    ///
    /// Waits up to ``LedgerConfiguration/lockTimeout`` for the partition lock (blocking the
    /// calling thread).
    ///
    /// - Throws: `LedgerError` `.locked` when another writer still holds the partition;
    ///   `.corruptFrame` or `.sequenceGap` naming the segment and byte offset when a frame is
    ///   damaged (anything but a torn final write, which is cut off) or sequences do not continue;
    ///   `.invalidArgument` for a negative partition; `.io` on system errors.
    public static func open(_ configuration: LedgerConfiguration, logger: Logger = Logger(label: "proxy-ledger.ledger")) throws -> LedgerWriter {
        let writer = LedgerWriter(segment: try SegmentWriter(configuration: configuration, logger: logger), configuration: configuration)
        if case .interval(let milliseconds) = configuration.fsyncPolicy {
            writer.startSyncTimer(milliseconds: milliseconds)
        }
        return writer
    }

    /// Opens the partition as ``open(_:logger:)`` does, waiting for its lock on a thread of its
    /// own so that the calling task's thread (a Swift concurrency or event-loop thread) is never
    /// blocked.
    ///
    /// - Throws: As ``open(_:logger:)``.
    public static func opening(
        _ configuration: LedgerConfiguration, logger: Logger = Logger(label: "proxy-ledger.ledger")
    ) async throws -> LedgerWriter {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try open(configuration, logger: logger) })
            }
        }
    }

    /// The sequence the next new event will get.
    public var nextSequence: UInt64 {
        queue.sync { segment.nextSequence }
    }

    /// `true` once the writer refuses every further append: it was closed, or a failed fsync (or
    /// a tail in an unknown state) poisoned it. A write that failed and was cut back (ENOSPC)
    /// leaves it `false`: a later append of the same batch may succeed once there is space.
    public var refusesAppends: Bool {
        queue.sync { failure != nil } || pending.withLock { $0.closed }
    }

    /// Appends `events` as one batch and waits until the batch is committed under the fsync policy.
    ///
    /// - Returns: One acknowledgement per event, in order. An event id already in the dedupe window
    ///   (or earlier in the same group) is not stored again and is acknowledged with its original
    ///   position and `duplicate == true`.
    /// - Throws: `LedgerError` `.invalidEvent` naming the event id and field when an event fails
    ///   ``ProxyRequestEvent/validate()`` (a request or response byte count above 10^12 bytes, a duration above 30 days,
    ///   …; nothing of the batch is written); `.closed` after ``close()``; or the write or fsync
    ///   error, in which case nothing of the batch is acknowledged.
    public func append(_ events: [ProxyRequestEvent]) async throws -> [AppendAcknowledgement] {
        if events.isEmpty { return [] }
        // By index: `for event in events` would copy (retain and release) every event.
        for index in events.indices {
            do {
                try events[index].validate()
            } catch {
                throw LedgerError(.invalidEvent, "event \(UUIDText.lowercase(events[index].eventID)): \(error)")
            }
        }
        return try await withCheckedThrowingContinuation { (waiter: Waiter) in
            let startDrain = pending.withLock { state -> Bool? in
                if state.closed { return nil }
                state.requests.append((events, waiter))
                if state.draining { return false }
                state.draining = true
                return true
            }
            switch startDrain {
            case nil: waiter.resume(throwing: LedgerError(.closed, "the ledger writer is closed"))
            case true?: queue.async { self.drain() }
            case false?: break
            }
        }
    }

    /// Commits queued requests until none are left. Runs on `queue`.
    private func drain() {
        while true {
            let requests = pending.withLock { state in
                let taken = state.requests
                state.requests = []
                if taken.isEmpty { state.draining = false }
                return taken
            }
            if requests.isEmpty { return }
            commit(requests)
        }
    }

    /// Writes one frame for all new events of `requests` and resumes their waiters.
    private func commit(_ requests: [(events: [ProxyRequestEvent], waiter: Waiter)]) {
        if let failure {
            for request in requests { request.waiter.resume(throwing: failure) }
            return
        }
        var fresh: [ProxyRequestEvent] = []
        // One request with nothing deduplicated (the CLI's whole batch) is written as it came,
        // without a second copy of its events; the copy starts at its first duplicate.
        var freshIsFirstRequest = requests.count == 1
        var freshIDs: [UUID] = []
        freshIDs.reserveCapacity(requests.count == 1 ? requests[0].events.count : 1_024)
        var acknowledgements: [[AppendAcknowledgement]] = []
        acknowledgements.reserveCapacity(requests.count)
        var next = segment.nextSequence
        // By index: `for request in requests` would copy every (events, waiter) pair.
        for requestIndex in requests.indices {
            let events = requests[requestIndex].events
            events.withUnsafeBufferPointer { buffer in segment.dedupe.warm(count: buffer.count) { buffer[$0].eventID } }
            var acks: [AppendAcknowledgement] = []
            acks.reserveCapacity(events.count)
            for index in events.indices {
                let eventID = events[index].eventID
                if let old = segment.dedupe.claim(eventID, sequence: next) {
                    acks.append(AppendAcknowledgement(
                        eventID: eventID, position: LedgerPosition(partition: partition, sequence: old), duplicate: true))
                    if freshIsFirstRequest {
                        fresh = Array(events[..<index])
                        freshIsFirstRequest = false
                    }
                } else {
                    acks.append(AppendAcknowledgement(
                        eventID: eventID, position: LedgerPosition(partition: partition, sequence: next), duplicate: false))
                    if !freshIsFirstRequest { fresh.append(events[index]) }
                    freshIDs.append(eventID)
                    next += 1
                }
            }
            acknowledgements.append(acks)
        }
        if freshIsFirstRequest { fresh = requests[0].events }
        if !fresh.isEmpty, let error = write(fresh, ids: freshIDs) {
            for request in requests { request.waiter.resume(throwing: error) }
            return
        }
        for (request, acks) in zip(requests, acknowledgements) { request.waiter.resume(returning: acks) }
    }

    /// Writes one frame for `events` and makes it durable under the policy; returns the error, if
    /// any. A failed write that was cut back leaves nothing on disk: the ids are released and later
    /// appends may succeed (after ENOSPC, once space is freed). A failed fsync, or a tail whose
    /// state is unknown, poisons the writer: every later append fails with the same error, and the
    /// ids stay claimed, because the frame may be on disk and a retry must not store it twice.
    private func write(_ events: [ProxyRequestEvent], ids: [UUID]) -> LedgerError? {
        let header: FrameHeader
        do {
            header = try segment.append(events)
        } catch {
            let ledgerError = error as? LedgerError ?? LedgerError(.io, "\(error)")
            if ledgerError.code == .closed || segment.syncFailure != nil {
                failure = segment.syncFailure ?? ledgerError
            } else {
                for id in ids { segment.dedupe.remove(id) }
            }
            return ledgerError
        }
        segment.dedupe.frameWritten(ids: ids, appendedAt: header.appendedAt ?? LedgerTimestamp.now.microseconds)
        if configuration.fsyncPolicy == .always {
            do { try segment.sync() } catch {
                let ledgerError = error as? LedgerError ?? LedgerError(.io, "\(error)")
                failure = ledgerError
                return ledgerError
            }
        }
        return nil
    }

    private func startSyncTimer(milliseconds: Int) {
        let source = DispatchSource.makeTimerSource(queue: queue)
        source.schedule(deadline: .now() + .milliseconds(milliseconds), repeating: .milliseconds(milliseconds))
        source.setEventHandler { [self] in
            do { try segment.sync() } catch {
                // The segment is now poisoned: the next append reports the failure to its caller.
                if failure == nil {
                    failure = error as? LedgerError ?? LedgerError(.io, "\(error)")
                    segment.logger.error("background fsync failed; the writer refuses further appends",
                        metadata: ["ledger.error": "\(error)"])
                }
            }
        }
        queue.sync { timer = source }
        source.resume()
    }

    /// Commits what is queued, fsyncs, and releases the partition lock. Later appends throw `.closed`.
    /// - Throws: `LedgerError` `.io` when the final fsync fails.
    public func close() async throws {
        pending.withLock { $0.closed = true }
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            queue.async { [self] in
                drain()
                timer?.cancel()
                timer = nil
                do {
                    try segment.sync()
                    segment.close()
                    done.resume()
                } catch {
                    segment.close()
                    done.resume(throwing: error)
                }
            }
        }
    }
}
