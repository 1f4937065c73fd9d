import NIOCore
import Synchronization

/// At most `limit` exchanges open to the gateway at once (`--max-tunnels`); the clients above it
/// wait in arrival order for a slot, up to `queueTimeout`.
///
/// Webshare refuses connections beyond the plan's concurrency with `429
/// client_connect_high_concurrency`, and bills what was exchanged until then; waiting here costs
/// nothing.
final class TunnelLimiter: Sendable {
    /// The most exchanges open at once, `>= 1`.
    let limit: Int
    /// How long a client waits for a slot before it is answered `503`.
    let queueTimeout: TimeAmount

    private struct Waiter {
        let id: UInt64
        let promise: EventLoopPromise<Bool>
    }

    private struct State {
        var open = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    init(limit: Int, queueTimeout: TimeAmount) {
        self.limit = max(1, limit)
        self.queueTimeout = queueTimeout
    }

    /// The number of slots in use.
    var openCount: Int { state.withLock { $0.open } }

    /// The number of clients waiting for a slot.
    var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// Succeeds with `true` once a slot is held (call ``release()`` when the exchange ends), or
    /// with `false` after ``queueTimeout`` without one.
    func acquire(on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        let promise = eventLoop.makePromise(of: Bool.self)
        let id = state.withLock { state -> UInt64? in
            if state.open < limit {
                state.open += 1
                return nil
            }
            state.nextID += 1
            state.waiters.append(Waiter(id: state.nextID, promise: promise))
            return state.nextID
        }
        guard let id else {
            promise.succeed(true)
            return promise.futureResult
        }
        eventLoop.scheduleTask(in: queueTimeout) { [self] in
            let expired = state.withLock { state -> Bool in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return false }
                state.waiters.remove(at: index)
                return true
            }
            if expired { promise.succeed(false) }
        }
        return promise.futureResult
    }

    /// Gives a slot back: to the longest-waiting client, else to the pool.
    func release() {
        let next = state.withLock { state -> Waiter? in
            guard !state.waiters.isEmpty else {
                state.open = max(0, state.open - 1)
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.promise.succeed(true)
    }
}
