import Foundation
public import Ledger

/// A record source that reads (decompresses and decodes) its base's frames on a thread of its
/// own, up to ``capacity`` records ahead, while the caller applies the frames already read.
///
/// A replay spends its time in two halves that need not wait for each other: decoding the
/// ledger and inserting into SQLite. On a machine with two cores or more this overlaps them.
/// Order and errors are the base's: every batch the base delivered before it failed reaches
/// `body` before the failure is rethrown, and an error `body` throws stops the reading thread
/// and is rethrown once that thread has finished.
public struct PrefetchingRecordSource<Base: LedgerRecordSource & Sendable>: LedgerRecordSource, Sendable {
    /// The source read ahead.
    public let base: Base
    /// Records read ahead at most; one batch (a decoded frame) larger than this is still handed
    /// over, alone.
    public let capacity: Int

    /// - Parameters:
    ///   - base: The source to read ahead, for example a `LedgerReader`.
    ///   - capacity: Records read ahead at most (at least 1; default 65,536, about 30 MB).
    public init(_ base: Base, capacity: Int = 65_536) {
        self.base = base
        self.capacity = max(1, capacity)
    }

    public func partitions() throws -> [Int] { try base.partitions() }

    public func ledgerIdentity() throws -> LedgerIdentity? { try base.ledgerIdentity() }

    public func scan(partition: Int, from sequence: UInt64, _ body: ([LedgerRecord]) throws -> Void) throws {
        let channel = BatchChannel(capacity: capacity)
        let base = self.base
        let reader = Thread {
            do {
                try base.scan(partition: partition, from: sequence) { batch in try channel.send(batch) }
                channel.finish(throwing: nil)
            } catch {
                channel.finish(throwing: error)
            }
        }
        reader.name = "proxy-ledger.prefetch.\(partition)"
        reader.start()
        do {
            while let batch = try channel.receive() {
                try body(batch)
            }
        } catch {
            channel.stop()
            throw error
        }
    }
}

/// A bounded hand-over of batches from one reading thread to one consumer, guarded by a
/// condition variable.
private final class BatchChannel: @unchecked Sendable {
    /// Thrown into the reading thread once the consumer has stopped.
    private struct Stopped: Error {}

    private let condition = NSCondition()
    private let capacity: Int
    private var batches: [[LedgerRecord]] = []
    /// The next batch to receive. Taken batches are dropped 64 at a time, not by `removeFirst()`
    /// each: a ledger of one-event frames queues up to ``capacity`` batches.
    private var head = 0
    /// Records in the batches not yet received.
    private var queued = 0
    private var finished = false
    private var failure: (any Error)?
    private var stopped = false

    init(capacity: Int) { self.capacity = capacity }

    /// Waits for room (or for an empty queue), then queues `batch`. Throws once the consumer has
    /// stopped.
    func send(_ batch: [LedgerRecord]) throws {
        condition.lock()
        defer { condition.unlock() }
        while queued > 0 && queued + batch.count > capacity && !stopped { condition.wait() }
        if stopped { throw Stopped() }
        batches.append(batch)
        queued += batch.count
        condition.broadcast()
    }

    /// Marks the end of the batches, with the reading thread's error if it failed.
    func finish(throwing error: (any Error)?) {
        condition.lock()
        defer { condition.unlock() }
        finished = true
        failure = error
        condition.broadcast()
    }

    /// The next batch; `nil` after the last one; rethrows the reader's error after its batches.
    func receive() throws -> [LedgerRecord]? {
        condition.lock()
        defer { condition.unlock() }
        while head == batches.count && !finished { condition.wait() }
        guard head < batches.count else {
            if let failure { throw failure }
            return nil
        }
        let batch = batches[head]
        batches[head] = []
        head += 1
        queued -= batch.count
        if head >= 64 {
            batches.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return batch
    }

    /// Tells the reading thread to stop, and waits until it has.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
    }
}
