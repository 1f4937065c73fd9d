import NIOCore
/// One operation's access to the metering proxy: a one-time local credential and the usage
/// counted under it.
///
/// ```swift
/// let lease = proxy.register(OperationAttribution(component: "transcribe-worker",
///                                                 operation: "subtitle-download", jobID: job, videoID: id))
/// try await runYtDlp(optionsFile: "--proxy '\(lease.proxyURL)'")   // never on argv: see proxyURL
/// let usage = await lease.finish()
/// try await ledger.append([usage.makeEvent(for: lease.attribution, timestamp: started, success: ok)])
/// ```
///
/// The token only authorises traffic through this proxy on 127.0.0.1 while the lease is open; it
/// is not the gateway password. It still must not be logged: ``description`` hides it.
public struct MeteringLease: Sendable, CustomStringConvertible {
    private let state: LeaseState
    private let registry: LeaseRegistry
    private let tracker: ChannelTracker

    /// The proxy's port on 127.0.0.1.
    public let port: Int

    init(state: LeaseState, registry: LeaseRegistry, tracker: ChannelTracker, port: Int) {
        self.state = state
        self.registry = registry
        self.tracker = tracker
        self.port = port
    }

    /// A process-unique lease number, safe to log.
    public var id: UInt64 { state.id }

    /// Who the traffic is attributed to.
    public var attribution: OperationAttribution { state.attribution }

    /// The one-time credential: 32 lowercase hex digits (128 random bits). Do not log it.
    public var token: String { state.token }

    /// The value for yt-dlp's `--proxy`: `http://<token>:lease@127.0.0.1:<port>`. It holds no
    /// gateway password; yt-dlp sends `Proxy-Authorization: Basic base64("<token>:lease")`
    /// (RFC 7617). The constant password is there because Python's proxy handlers send no
    /// `Proxy-Authorization` at all for a URL with a user but no password. The token is a
    /// credential while the lease is open: give it to yt-dlp in an options file only its user
    /// can read (`--config-locations FILE`), not on its command line, which every local user
    /// can read.
    public var proxyURL: String { "http://\(state.token):lease@127.0.0.1:\(port)" }

    /// The usage counted so far, without ending the lease.
    public func currentUsage() -> MeteredUsage { state.snapshot() }

    /// Ends the lease and returns its usage.
    ///
    /// The token stops working at once (new connections get 407). Exchanges still open (the
    /// client's last connections closing) get `grace` to end on their own; after that they are
    /// closed and marked ``MeteredExchange/cutShort``, keeping the bytes counted so far. Calling
    /// it again returns the final usage again.
    ///
    /// - Parameter grace: How long to wait for open exchanges to end. Default 2 s.
    /// - Returns: The final usage (bytes on the wire to and from the gateway).
    public func finish(grace: Duration = .seconds(2)) async -> MeteredUsage {
        state.end()
        await Self.drain(state, grace: grace)
        registry.remove(state)
        return state.snapshot()
    }

    /// Waits until `lease` has no open exchange, forcing them closed after `grace`.
    static func drain(_ lease: LeaseState, grace: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while lease.openExchangeCount > 0, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        guard lease.openExchangeCount > 0 else { return }
        for channel in lease.forceChannels() { channel.close(promise: nil) }
        let hardDeadline = clock.now + .seconds(2)
        while lease.openExchangeCount > 0, clock.now < hardDeadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// `MeteringLease(#id, component/operation, port)`; no token.
    public var description: String {
        "MeteringLease(#\(state.id), \(state.attribution.component)/\(state.attribution.operation), port \(port))"
    }
}
