import Ledger
import Logging
public import ProxyGateway
import ServiceLifecycle
import Synchronization

/// Where a shared metering listener listens and what its clients must present
/// (`proxy-ledger proxy --listen`, `serve --proxy-listen`).
public struct SharedProxyOptions: Sendable {
    /// The address to listen on, e.g. `127.0.0.1`.
    public var host: String
    /// The port; `0` picks a free one.
    public var port: Int
    /// The access token clients present as the proxy password, or ``ClientAccess/open``.
    public var access: ClientAccess
    /// At most so many exchanges open to the gateway at once (`--max-tunnels`); `nil` = no limit.
    public var maxTunnels: Int?
    /// How long a client waits for a tunnel slot before `503` (`--queue-timeout`).
    public var queueTimeout: Duration = .seconds(30)
    /// How long open tunnels may run on at shutdown before they are closed (their bytes are kept).
    public var shutdownGrace: Duration = .seconds(5)

    /// Creates options; see the properties.
    public init(host: String, port: Int, access: ClientAccess) {
        self.host = host
        self.port = port
        self.access = access
    }
}

/// Runs a shared metering listener for any client, and appends one event per exchange to the
/// ledger in group-committed batches.
///
/// On graceful shutdown it stops accepting, lets open exchanges end within
/// ``SharedProxyOptions/shutdownGrace`` (then closes them, keeping their bytes), and appends
/// every remaining event before it returns, so it comes after the projector in the group.
struct SharedProxyService: Service {
    let options: SharedProxyOptions
    let settings: @Sendable () -> ProxySettings
    let sink: LedgerSink
    let port: PortAnnouncement
    let logger: Logger

    func run() async throws {
        let upstream: MeteringUpstream
        do { upstream = try MeteringUpstream(sharedListener: settings()) } catch {
            throw RuntimeError(.invalidConfiguration, error.message)
        }
        let batcher = EventBatcher()
        let proxy: MeteringProxy
        do {
            proxy = try await MeteringProxy.startShared(
                upstream: upstream, access: options.access, host: options.host, port: options.port,
                record: { batcher.add($0) }, maxTunnels: options.maxTunnels, queueTimeout: options.queueTimeout,
                rules: { [settings] in settings().rules }, logger: logger)
        } catch {
            throw RuntimeError(error.code == .bindFailed ? .bindFailed : .invalidConfiguration, error.message)
        }
        port.announce(proxy.port)
        async let appending: Void = appendBatches(from: batcher)
        try? await gracefulShutdown()
        await proxy.shutdown(grace: options.shutdownGrace)
        batcher.finish()
        await appending
    }

    private func appendBatches(from batcher: EventBatcher) async {
        while let batch = await batcher.next() {
            do {
                _ = try await sink.append(batch)
            } catch {
                logger.error("appending the metering listener's events failed; append these lines with `proxy-ledger append`",
                    metadata: ["ledger.error": "\(error)",
                        "ledger.events": "\(batch.map { String(decoding: $0.jsonLine(), as: UTF8.self) }.joined(separator: "\n"))"])
            }
        }
    }
}

/// Collects events from event-loop callbacks and hands them out as batches: everything that
/// arrived while the previous batch was being appended is the next batch.
final class EventBatcher: Sendable {
    private struct State {
        var events: [ProxyRequestEvent] = []
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Adds an event; never blocks.
    func add(_ event: ProxyRequestEvent) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.events.append(event)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// No more events will be added; ``next()`` returns the rest, then `nil`.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The events added since the last call, waiting for one; `nil` once finished and empty.
    func next() async -> [ProxyRequestEvent]? {
        while true {
            let (batch, finished) = state.withLock { state in
                defer { state.events = [] }
                return (state.events, state.finished)
            }
            if !batch.isEmpty { return batch }
            if finished { return nil }
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Bool in
                    if !state.events.isEmpty || state.finished { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }
}

/// A port that becomes known once a listener is bound, and the tasks waiting for it.
final class PortAnnouncement: Sendable {
    private let state = Mutex<(port: Int?, waiters: [CheckedContinuation<Int, Never>])>((nil, []))

    /// Records the port and wakes the waiters.
    func announce(_ port: Int) {
        let waiters = state.withLock { state in
            state.port = port
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    /// The port, waiting until it is announced.
    func value() async -> Int {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Int? in
                if let port = state.port { return port }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
