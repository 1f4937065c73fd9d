import Foundation
import Ledger

/// A record source that reads (decompresses and decodes) its base source's batches on another
/// thread, a few batches ahead of the consumer, so a rebuild's decoding overlaps its inserts.
///
/// At most ``depth`` batches wait at any time, so memory stays flat however long the ledger is.
/// A read error reaches the consumer after every batch read before it; an error thrown by the
/// consumer stops the reading thread, and `scan` returns only after that thread has ended.
struct PrefetchingSource<Base: LedgerRecordSource>: LedgerRecordSource {
    /// The source read on the other thread.
    let base: Base
    /// Batches read ahead at most.
    var depth = 4

    func partitions() throws -> [Int] { try base.partitions() }

    func scan(partition: Int, from sequence: UInt64, _ body: ([LedgerRecord]) throws -> Void) throws {
        let channel = BatchChannel(capacity: depth)
        let base = base
        let read = UncheckedSendable<() throws -> Void> {
            try base.scan(partition: partition, from: sequence) { batch in try channel.put(batch) }
        }
        let thread = Thread {
            do {
                try read.value()
                channel.finish(nil)
            } catch {
                channel.finish(error)
            }
        }
        thread.start()
        defer {
            channel.cancel()
            channel.waitUntilFinished()
        }
        while let batch = try channel.take() {
            try body(batch)
        }
    }
}

/// A value handed to the reading thread. The base source is used by that thread alone until
/// `scan` has waited for it to end.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A bounded hand-over of record batches from one reading thread to one consumer.
private final class BatchChannel: @unchecked Sendable {
    /// Thrown into the reading thread when the consumer stopped.
    struct Stopped: Error {}

    private let condition = NSCondition()
    private let capacity: Int
    // Guarded by `condition`.
    private var batches: [[LedgerRecord]] = []
    private var finished = false
    private var stopped = false
    private var failure: (any Error)?

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Waits for room, then queues `batch`. Throws ``Stopped`` once the consumer stopped.
    func put(_ batch: [LedgerRecord]) throws {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= capacity && !stopped {
            condition.wait()
        }
        guard !stopped else { throw Stopped() }
        batches.append(batch)
        condition.broadcast()
    }

    /// Marks the reading thread done, with the error that ended it, if any.
    func finish(_ error: (any Error)?) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch; `nil` after the last one. Rethrows the reading thread's error once every
    /// batch read before it was taken.
    func take() throws -> [LedgerRecord]? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished {
            condition.wait()
        }
        if !batches.isEmpty {
            condition.broadcast()
            return batches.removeFirst()
        }
        if let failure, !(failure is Stopped) { throw failure }
        return nil
    }

    /// Tells the reading thread to stop at its next batch.
    func cancel() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the reading thread to end.
    func waitUntilFinished() {
        condition.lock()
        while !finished {
            condition.wait()
        }
        condition.unlock()
    }
}
