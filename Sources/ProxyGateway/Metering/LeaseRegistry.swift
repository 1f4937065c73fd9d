import Ledger
import NIOCore
import Synchronization

/// The shared, lock-protected state of one lease: its attribution, its token and the usage
/// counted so far. Event-loop handlers update it as bytes move; ``MeteringLease`` reads it.
final class LeaseState: Sendable {
    /// A process-unique number for logs (the token itself is never logged).
    let id: UInt64
    /// The one-time local credential (the proxy URL's username).
    let token: String
    /// Who caused the traffic.
    let attribution: OperationAttribution
    /// When the lease was registered.
    let started: ContinuousClock.Instant
    /// When the lease was registered, on the wall clock (for the event's `timestamp`).
    let startedAt: LedgerTimestamp
    /// Called once for each exchange that ends (a shared listener's per-exchange lease records
    /// its event here); `nil` for a worker's lease, whose owner calls ``MeteringLease/finish(grace:)``.
    let onExchangeClosed: (@Sendable (LeaseState) -> Void)?

    private struct State {
        var usage = MeteredUsage()
        var openChannels: [Int: any Channel] = [:]
        var authRejected = false
        var forcing = false
        var ended = false
        var endedAt: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    init(
        id: UInt64, token: String, attribution: OperationAttribution,
        onExchangeClosed: (@Sendable (LeaseState) -> Void)? = nil
    ) {
        self.id = id
        self.token = token
        self.attribution = attribution
        self.started = .now
        self.startedAt = .now
        self.onExchangeClosed = onExchangeClosed
    }

    /// Whether the gateway answered 407 on an exchange of this lease.
    var authRejected: Bool { state.withLock { $0.authRejected } }

    /// Whether the lease has ended (finished or closed by shutdown); its token is no longer valid.
    var hasEnded: Bool { state.withLock { $0.ended } }

    /// The number of exchanges still open.
    var openExchangeCount: Int { state.withLock { $0.openChannels.count } }

    /// Starts an exchange for `channel` (the client connection) and returns its index, or `nil`
    /// when the lease has ended.
    func openExchange(head: ProxyRequestHead, channel: any Channel) -> Int? {
        state.withLock { state in
            guard !state.ended else { return nil }
            let index = state.usage.exchanges.count
            state.usage.exchanges.append(
                MeteredExchange(
                    isTunnel: head.isTunnel, method: head.method, targetHost: head.targetHost, requestBytes: 0,
                    responseBytes: 0, status: nil, errorType: nil, errorReason: nil, cutShort: false, isOpen: true))
            state.openChannels[index] = channel
            return index
        }
    }

    /// Adds bytes written to the gateway.
    func addRequestBytes(_ count: Int, exchange: Int) {
        state.withLock { state in
            state.usage.exchanges[exchange].requestBytes += Int64(count)
            state.usage.requestBytes += Int64(count)
        }
    }

    /// Adds bytes read from the gateway.
    func addResponseBytes(_ count: Int, exchange: Int) {
        state.withLock { state in
            state.usage.exchanges[exchange].responseBytes += Int64(count)
            state.usage.responseBytes += Int64(count)
        }
    }

    /// Records the gateway's reply head; a 407 marks the lease's credentials as rejected.
    /// - Returns: The reply's gateway failure class, if any.
    @discardableResult
    func recordReply(_ reply: GatewayReply, exchange: Int) -> ProxyErrorType? {
        state.withLock { state in
            let type = reply.errorType(isTunnel: state.usage.exchanges[exchange].isTunnel)
            state.usage.exchanges[exchange].status = reply.status
            state.usage.exchanges[exchange].errorReason = reply.errorReason
            state.usage.exchanges[exchange].retryAfter = reply.retryAfter
            state.usage.exchanges[exchange].errorType = type
            if type == .authFailure { state.authRejected = true }
            return type
        }
    }

    /// Records a request a `block` rule refused locally (`403`): an exchange of zero bytes whose
    /// class is `blocked_by_rule`, naming the rule. Nothing reached the gateway.
    func recordBlocked(head: ProxyRequestHead, rule: String) {
        state.withLock { state in
            state.usage.exchanges.append(
                MeteredExchange(
                    isTunnel: head.isTunnel, method: head.method, targetHost: head.targetHost, requestBytes: 0,
                    responseBytes: 0, status: 403, errorType: .blockedByRule, errorReason: nil, cutShort: false,
                    isOpen: false, rule: rule))
        }
    }

    /// Records the status of a `direct` tunnel that reached its target (the proxy answered 200).
    func recordDirectTunnelOpened(exchange: Int) {
        state.withLock { $0.usage.exchanges[exchange].status = 200 }
    }

    /// Records a connection-level failure (refused, reset, timed out) unless one is recorded.
    func recordFailure(_ type: ProxyErrorType, exchange: Int) {
        state.withLock { state in
            if state.usage.exchanges[exchange].errorType == nil { state.usage.exchanges[exchange].errorType = type }
        }
    }

    /// Ends an exchange; it is cut short when the lease or the proxy was closing it by force.
    /// An exchange that ends without a gateway reply, and was not cut short, is a
    /// `connection_error` (the gateway refused or reset it).
    func closeExchange(_ exchange: Int, proxyForcing: Bool, replyMissing: Bool = false) {
        let closed = state.withLock { state -> Bool in
            guard state.openChannels.removeValue(forKey: exchange) != nil else { return false }
            let cutShort = state.forcing || proxyForcing
            state.usage.exchanges[exchange].isOpen = false
            state.usage.exchanges[exchange].cutShort = cutShort
            if replyMissing, !cutShort, state.usage.exchanges[exchange].status == nil,
                state.usage.exchanges[exchange].errorType == nil
            {
                state.usage.exchanges[exchange].errorType = .connectionError
            }
            return true
        }
        if closed { onExchangeClosed?(self) }
    }

    /// Counts a connection answered locally after an auth failure.
    func noteSuppressed() {
        state.withLock { $0.usage.suppressedAfterAuthFailure += 1 }
    }

    /// Ends the lease: its token stops working and its duration stops growing.
    func end() {
        state.withLock { state in
            state.ended = true
            if state.endedAt == nil { state.endedAt = .now }
        }
    }

    /// Marks the lease as closing by force and returns the channels of its open exchanges.
    func forceChannels() -> [any Channel] {
        state.withLock { state in
            state.forcing = true
            return Array(state.openChannels.values)
        }
    }

    /// The usage counted so far, with ``MeteredUsage/durationMS`` measured up to the end (or now).
    func snapshot() -> MeteredUsage {
        var (usage, endedAt) = state.withLock { ($0.usage, $0.endedAt) }
        let elapsed = (endedAt ?? .now) - started
        usage.durationMS = elapsed.wholeMilliseconds
        return usage
    }
}

/// Maps tokens to leases. Tokens are 128 random bits from the system CSPRNG, as 32 hex digits.
final class LeaseRegistry: Sendable {
    private let leases = Mutex<[String: LeaseState]>([:])
    private let nextID = Atomic<UInt64>(1)

    /// Registers a lease under a fresh token.
    ///
    /// - Parameters:
    ///   - attribution: Who the lease's traffic is attributed to.
    ///   - onExchangeClosed: Called as each of its exchanges ends (see ``LeaseState/onExchangeClosed``).
    func register(
        _ attribution: OperationAttribution, onExchangeClosed: (@Sendable (LeaseState) -> Void)? = nil
    ) -> LeaseState {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        var generator = SystemRandomNumberGenerator()
        let token = [generator.next(), generator.next()].map(Self.hex).joined()
        let lease = LeaseState(id: id, token: token, attribution: attribution, onExchangeClosed: onExchangeClosed)
        leases.withLock { $0[token] = lease }
        return lease
    }

    /// The live lease for `token`, or `nil` when it is unknown or has ended.
    func lookup(_ token: String) -> LeaseState? {
        guard let lease = leases.withLock({ $0[token] }), !lease.hasEnded else { return nil }
        return lease
    }

    /// Forgets a lease (after it ended).
    func remove(_ lease: LeaseState) {
        _ = leases.withLock { $0.removeValue(forKey: lease.token) }
    }

    /// Every registered lease that has not ended.
    func liveLeases() -> [LeaseState] {
        leases.withLock { Array($0.values) }.filter { !$0.hasEnded }.sorted { $0.id < $1.id }
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

