import Ledger
import Logging

/// Admits the clients of a shared listener: each authorised client connection gets a lease of
/// its own, attributed from its proxy username, whose exchange becomes one ledger event when it
/// ends.
struct SharedAdmission: Sendable {
    /// What a client must present.
    let access: ClientAccess
    /// Receives the event of every exchange that ends, on the event loop: it must not block.
    let record: @Sendable (ProxyRequestEvent) -> Void

    /// At most so many exchanges open at once (`--max-tunnels`), `nil` = no limit.
    var limiter: TunnelLimiter? = nil

    /// Records the zero-byte `blocked_by_rule` event of a request `rule` refused.
    func recordBlocked(_ attribution: OperationAttribution, head: ProxyRequestHead, rule: TrafficRule) {
        var event = attribution.event(timestamp: .now, durationMS: 0, success: false, proxied: false)
        event.errorType = .blockedByRule
        event.requestBytes = 0
        event.responseBytes = 0
        event.estimatedBytes = 0
        event.bytesMeasured = true
        event.extra["rule"] = .string(rule.name)
        event.extra["target_host"] = .string(head.targetAuthority)
        event.extra["method"] = .string(head.method)
        record(event)
    }

    /// Who the client's traffic is for, or `nil` when its credentials fail the check (answer `407`).
    func attribution(for head: ProxyRequestHead, logger: Logger) -> OperationAttribution? {
        let credentials = head.proxyCredentials
        guard access.admits(password: credentials?.password) else { return nil }
        do {
            return try Self.attribution(user: credentials?.user)
        } catch {
            logger.info("metering: refused a client whose proxy username names no attribution",
                metadata: ["metering.reason": "\(error.message)", "metering.target": "\(head.targetHost)"])
            return nil
        }
    }

    /// A lease of its own for one admitted client connection; when its exchange ends, the event
    /// is recorded and `slot` (the tunnel slot it holds, if any) is released. With `direct` (a
    /// `direct` rule), the event says `proxied` false and names the rule.
    func register(
        _ attribution: OperationAttribution, head: ProxyRequestHead, registry: LeaseRegistry, slot: TunnelLimiter? = nil,
        direct: TrafficRule? = nil
    ) -> LeaseState {
        let target = head.targetAuthority
        let record = record
        return registry.register(attribution) { [registry] lease in
            lease.end()
            registry.remove(lease)
            slot?.release()
            var event = Self.event(of: lease, target: target)
            if let direct {
                event.proxied = false
                event.extra["rule"] = .string(direct.name)
            }
            record(event)
        }
    }

    private static func attribution(user: String?) throws(ClientAttributionError) -> OperationAttribution {
        guard let user, !user.isEmpty else {
            return OperationAttribution(
                component: OperationAttribution.unattributedComponent,
                operation: OperationAttribution.proxyExchangeOperation)
        }
        return try OperationAttribution(proxyUsername: user)
    }

    /// The event of a per-exchange lease that has ended: its attribution, the metered bytes,
    /// `target_host` (`host:port`) and the `method`, failed as ``failure(of:)`` says.
    static func event(of lease: LeaseState, target: String) -> ProxyRequestEvent {
        let usage = lease.snapshot()
        let exchange = usage.exchanges.first
        let failure = failure(of: exchange)
        var event = lease.attribution.event(
            timestamp: lease.startedAt, durationMS: usage.durationMS, success: failure == nil, proxied: true)
        event.errorType = failure
        usage.apply(to: &event)
        event.extra["target_host"] = .string(target)
        if let method = exchange?.method { event.extra["method"] = .string(method) }
        return event
    }

    /// How an exchange failed: the gateway's class; `interrupted` when shutdown cut it short;
    /// `connection_error` without a reply; from a status of 400 or more, `not_found` (404),
    /// `rate_limited` (429) or `http_error`; `nil` when it succeeded.
    static func failure(of exchange: MeteredExchange?) -> ProxyErrorType? {
        guard let exchange else { return .unknown }
        if let type = exchange.errorType { return type }
        if exchange.cutShort { return .interrupted }
        guard let status = exchange.status else { return .connectionError }
        switch status {
        case ..<400: return nil
        case 404: return .notFound
        case 429: return .rateLimited
        default: return .httpError
        }
    }
}
