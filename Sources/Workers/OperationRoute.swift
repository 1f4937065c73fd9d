import Ledger
import ProxyGateway

/// Who one operation's event is attributed to (see ``OperationRoute``).
struct OperationLabel: Sendable {
    var component: ProxyComponent
    var operation: String
    var videoID: String?
    var channelName: String?
    var context: OperationContext
}

/// The proxy route of one operation (see
/// ``ProducerConfiguration/route(component:operation:videoID:channelName:context:)``): the
/// options file that gives yt-dlp its `--proxy`, and the metering lease when there is a meter.
struct OperationRoute: Sendable {
    /// Who the operation's event is attributed to.
    let label: OperationLabel
    /// The options file holding the proxy URL; `nil` when the route is disabled.
    let options: YtDlpOptionsFile?
    let lease: MeteringLease?
    /// When the route was opened.
    let startedAt = LedgerTimestamp.now

    /// Arguments for yt-dlp: `--config-locations PATH` or nothing. Never a proxy URL: argv is
    /// readable by every local user.
    var proxyArguments: [String] { options?.arguments ?? [] }

    /// Removes the options file, ends the lease and returns the bytes metered for the
    /// operation, or `nil` when unmetered. Calling it again returns the same usage.
    ///
    /// The lease is drained in a task of its own: a cancelled caller (a worker being stopped)
    /// still waits for the last connections to close, so their bytes are counted.
    func finish() async -> MeteredUsage? {
        options?.remove()
        guard let lease else { return nil }
        return await Task { await lease.finish() }.value
    }
}
