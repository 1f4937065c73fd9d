public import Ledger
public import Logging
public import NIOCore
public import NIOPosix

/// An HTTP forward proxy on 127.0.0.1 that forwards each request to the gateway with the real
/// credentials and counts the bytes on the gateway connection per operation.
///
/// ```swift
/// let proxy = try await MeteringProxy.start(upstream: try MeteringUpstream(service: service), logger: logger)
/// let lease = proxy.register(OperationAttribution(component: "transcribe-worker", operation: "subtitle-download"))
/// // yt-dlp --config-locations FILE …   (FILE, mode 0600, holds `--proxy '<lease.proxyURL>'`)
/// let usage = await lease.finish()          // usage.requestBytes, usage.responseBytes, usage.gatewayFailure
/// let cutShort = await proxy.shutdown(grace: .seconds(5))
/// ```
///
/// It accepts `CONNECT host:port` (RFC 9110 §9.3.6, RFC 9112 §3.2.3) and absolute-form requests
/// such as `GET http://host/path` (RFC 9112 §3.2.2). Each client connection is one *exchange*: a
/// tunnel, or exactly one plain request (the proxy sends `Connection: close` upstream). A client
/// must authenticate with a lease token as the Basic proxy username; a missing, unknown or ended
/// token gets `407` and nothing is forwarded. The gateway password never leaves the process except
/// inside `Proxy-Authorization` to the gateway, and is never logged.
///
/// Bytes are counted on the gateway socket: the `CONNECT` request and reply, all tunnelled bytes
/// (TLS included), request and response heads and bodies. A refused tunnel still counts what was
/// exchanged. Gateway replies are classified by ``GatewayReply/errorType(isTunnel:)``.
public final class MeteringProxy: Sendable {
    /// The TCP port the proxy listens on, on 127.0.0.1.
    public let port: Int

    private let serverChannel: any Channel
    private let environment: MeteringEnvironment

    private init(serverChannel: any Channel, port: Int, environment: MeteringEnvironment) {
        self.serverChannel = serverChannel
        self.port = port
        self.environment = environment
    }

    /// Starts the proxy on `127.0.0.1:port`.
    ///
    /// - Parameters:
    ///   - upstream: The gateway and its raw credentials.
    ///   - logger: The logger for connection events (metadata keys `metering.*`); secrets are never logged.
    ///   - port: The port to listen on; `0` (the default) picks a free ephemeral port.
    ///   - connectTimeout: How long to wait for the TCP connection to the gateway. Default 10 s.
    ///   - group: The event loops to run on. Default `MultiThreadedEventLoopGroup.singleton`.
    /// - Returns: The running proxy; call ``shutdown(grace:)`` when done.
    /// - Throws: ``MeteringError`` with code ``MeteringError/Code/bindFailed`` when 127.0.0.1:`port`
    ///   cannot be bound.
    public static func start(
        upstream: MeteringUpstream, logger: Logger, port: Int = 0, connectTimeout: Duration = .seconds(10),
        rules: @escaping @Sendable () -> [TrafficRule] = { [] },
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(MeteringError) -> MeteringProxy {
        var environment = MeteringEnvironment(
            registry: LeaseRegistry(), upstream: upstream, authorization: upstream.basicAuthorization,
            connectTimeout: .nanoseconds(connectTimeout.wholeNanoseconds),
            tracker: ChannelTracker(), logger: logger)
        environment.rules = rules
        return try await listen(environment: environment, host: "127.0.0.1", port: port, group: group)
    }

    /// Starts a shared listener for any client (`proxy-ledger proxy`, `serve --proxy-listen`).
    ///
    /// A client names its attribution in the proxy username (`component`, `component/job-id` or
    /// `component/job-id/operation`, see ``OperationAttribution/init(proxyUsername:)``) and
    /// presents the access token as the password. Every exchange (a tunnel, or one plain
    /// request) becomes one event, handed to `record` when it ends: the attribution, the bytes on
    /// the gateway connection, the gateway's status and reason, and `target_host` (`host:port`)
    /// and `method` among its extra fields. A client that fails the check gets `407`; nothing is
    /// forwarded and nothing recorded.
    ///
    /// - Parameters:
    ///   - upstream: The gateway and its raw credentials.
    ///   - access: What clients must present; ``ClientAccess/open`` only on a loopback `host`.
    ///   - host: The address to listen on, e.g. `127.0.0.1`.
    ///   - port: The port; `0` picks a free one (see ``port``).
    ///   - record: Receives each exchange's event, on an event loop: it must return at once.
    ///   - maxTunnels: At most so many exchanges open to the gateway at once; the clients above it
    ///     wait for a slot up to `queueTimeout`, then get `503` with `X-Proxy-Ledger-Reason:
    ///     max_tunnels`. `nil` (the default) sets no limit.
    ///   - queueTimeout: How long a client waits for a slot. Default 30 s.
    ///   - rules: The current ``TrafficRule``s, read for every request; a blocked request gets
    ///     `403` and a zero-byte `blocked_by_rule` event, and never reaches the gateway.
    ///   - logger: The logger; secrets are never logged.
    ///   - connectTimeout: How long to wait for the TCP connection to the gateway. Default 10 s.
    ///   - group: The event loops to run on.
    /// - Throws: ``MeteringError`` with code ``MeteringError/Code/bindFailed`` when the address
    ///   cannot be bound, or ``MeteringError/Code/openListener`` for an open listener off loopback.
    public static func startShared(
        upstream: MeteringUpstream, access: ClientAccess, host: String, port: Int,
        record: @escaping @Sendable (ProxyRequestEvent) -> Void, maxTunnels: Int? = nil, queueTimeout: Duration = .seconds(30),
        rules: @escaping @Sendable () -> [TrafficRule] = { [] }, logger: Logger, connectTimeout: Duration = .seconds(10),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(MeteringError) -> MeteringProxy {
        if case .open = access, !isLoopback(host) {
            throw MeteringError(.openListener,
                "a listener on \(host) must check an access token: give --access-token-file, or listen on 127.0.0.1 with --no-auth")
        }
        var environment = MeteringEnvironment(
            registry: LeaseRegistry(), upstream: upstream, authorization: upstream.basicAuthorization,
            connectTimeout: .nanoseconds(connectTimeout.wholeNanoseconds),
            tracker: ChannelTracker(), logger: logger)
        environment.rules = rules
        environment.shared = SharedAdmission(
            access: access, record: record,
            limiter: maxTunnels.map { TunnelLimiter(limit: $0, queueTimeout: .nanoseconds(queueTimeout.wholeNanoseconds)) })
        return try await listen(environment: environment, host: host, port: port, group: group)
    }

    /// Whether `host` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    private static func listen(
        environment: MeteringEnvironment, host: String, port: Int, group: any EventLoopGroup
    ) async throws(MeteringError) -> MeteringProxy {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                guard environment.tracker.add(channel) else {
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MeteringClientHandler(environment: environment))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw MeteringError(.bindFailed, "cannot listen on \(host):\(port): \(error)")
        }
        guard let boundPort = channel.localAddress?.port else {
            try? await channel.close()
            throw MeteringError(.bindFailed, "the listener on \(host) has no port")
        }
        environment.logger.info(
            "metering proxy listening",
            metadata: [
                "metering.address": "\(host):\(boundPort)",
                "metering.upstream": "\(environment.upstream.host):\(environment.upstream.port)",
            ])
        return MeteringProxy(serverChannel: channel, port: boundPort, environment: environment)
    }

    /// Hands out a lease for one operation: a fresh token whose traffic is attributed to `attribution`.
    ///
    /// - Parameter attribution: Who causes the traffic.
    /// - Returns: The lease; give ``MeteringLease/proxyURL`` to yt-dlp and call
    ///   ``MeteringLease/finish(grace:)`` afterwards.
    public func register(_ attribution: OperationAttribution) -> MeteringLease {
        let state = environment.registry.register(attribution)
        environment.logger.debug(
            "metering lease opened",
            metadata: [
                "metering.lease": "\(state.id)", "metering.component": "\(attribution.component)",
                "metering.operation": "\(attribution.operation)",
            ])
        return MeteringLease(state: state, registry: environment.registry, tracker: environment.tracker, port: port)
    }

    /// A shared listener's tunnel limit (`maxTunnels`), `nil` without one.
    var tunnelLimiter: TunnelLimiter? { environment.shared?.limiter }

    /// The number of open connections (client and gateway side).
    public var openConnectionCount: Int { environment.tracker.openCount }

    /// Stops the proxy: closes the listener, lets open exchanges end on their own within `grace`,
    /// then closes the rest (marking them ``MeteredExchange/cutShort``, keeping their bytes).
    ///
    /// Leases that were not finished end here; their usages are returned so that the caller can
    /// still append their events. ``MeteringLease/finish(grace:)`` on such a lease afterwards
    /// returns the same usage.
    ///
    /// - Parameter grace: How long open exchanges may take to end. Default 5 s.
    /// - Returns: The attribution and final usage of every lease that was still open, by lease id.
    @discardableResult
    public func shutdown(grace: Duration = .seconds(5)) async -> [(attribution: OperationAttribution, usage: MeteredUsage)] {
        environment.tracker.stopAccepting()
        try? await serverChannel.close()
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while environment.tracker.openCount > 0, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let remaining = environment.tracker.forceRemaining()
        if !remaining.isEmpty {
            environment.logger.info(
                "metering: closing open connections at shutdown", metadata: ["metering.open": "\(remaining.count)"])
        }
        for channel in remaining { channel.close(promise: nil) }
        let hardDeadline = clock.now + .seconds(2)
        while environment.tracker.openCount > 0, clock.now < hardDeadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        var ended: [(attribution: OperationAttribution, usage: MeteredUsage)] = []
        for lease in environment.registry.liveLeases() {
            lease.end()
            ended.append((lease.attribution, lease.snapshot()))
        }
        return ended
    }
}
