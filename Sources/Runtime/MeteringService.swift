import Logging
import ProxyGateway
import ServiceLifecycle

/// The in-process metering proxies of a `serve` process: one per gateway upstream (host, port
/// and credentials). A settings reload that changes the upstream gets a new meter from the next
/// job; the old one keeps serving the leases already open on it until shutdown.
actor MeteringPool {
    private var meters: [(upstream: MeteringUpstream, proxy: MeteringProxy)] = []
    private let logger: Logger
    private let rules: @Sendable () -> [TrafficRule]

    /// - Parameter rules: The settings' current listener rules; their `block` rules apply to the
    ///   workers' requests too.
    init(rules: @escaping @Sendable () -> [TrafficRule] = { [] }, logger: Logger) {
        self.rules = rules
        self.logger = logger
    }

    /// The meter for `service`'s gateway, started on first use; `nil` when the route is off.
    ///
    /// - Throws: `MeteringError` when the credentials cannot go into a Proxy-Authorization header
    ///   or 127.0.0.1 cannot be bound.
    func meter(for service: ProxyService) async throws -> MeteringProxy? {
        guard service.isEnabled else { return nil }
        let upstream = try MeteringUpstream(service: service)
        if let known = meters.first(where: { $0.upstream == upstream }) { return known.proxy }
        let proxy = try await MeteringProxy.start(upstream: upstream, logger: logger, rules: rules)
        meters.append((upstream, proxy))
        return proxy
    }

    /// Open client connections on every meter (for tests and the status page).
    var openConnections: Int { meters.reduce(0) { $0 + $1.proxy.openConnectionCount } }

    /// Stops every meter, letting open tunnels finish within `grace`.
    func shutdown(grace: Duration) async {
        for meter in meters { _ = await meter.proxy.shutdown(grace: grace) }
        meters = []
    }
}

/// Stops the metering proxies once the workers have stopped (it comes before them in the group).
struct MeteringService: Service {
    let pool: MeteringPool

    func run() async throws {
        try? await gracefulShutdown()
        await pool.shutdown(grace: .seconds(2))
    }
}
