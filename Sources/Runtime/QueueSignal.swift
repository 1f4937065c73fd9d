import Synchronization

/// Wakes the worker pools of a `serve` process when jobs may have become due through it (an
/// enqueue, retry or resume on ``ServeRuntime/jobs``, from the HTTP API or in-process), so that
/// they claim at once instead of at their next poll. Jobs made due elsewhere (another process
/// writing the jobs file, a retry's backoff running out) are still found by the poll.
///
/// Signals coalesce: a waiter returns once for any number of signals after the generation it saw.
final class QueueSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// The number of signals so far; read it before looking at the queue, then wait after it.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Wakes every waiter.
    func signal() {
        let waiters = state.withLock { state in
            state.generation &+= 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once a signal newer than `seen` came, `timeout` passed, or the task is cancelled.
    func wait(after seen: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.next(after: seen) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns once the generation is past `seen`, or the task is cancelled.
    private func next(after seen: UInt64) async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state in
                    guard state.generation == seen, !Task.isCancelled else { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
