import Ledger
import ProxyGateway

/// The proxy route of one operation (see
/// ``ProducerConfiguration/route(component:operation:videoID:channelName:context:)``): who the
/// operation is attributed to, the options file that gives yt-dlp its `--proxy`, and the
/// metering lease when there is a meter.
struct OperationRoute: Sendable {
    /// Who the operation's event is attributed to: the same value the metering lease holds.
    let attribution: OperationAttribution
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

/// What one operation's runs came to, before the metered bytes are added: the part of its
/// event that the producer, not the attribution or the meter, knows.
struct OperationOutcome: Sendable {
    /// When the first run started.
    var startedAt: LedgerTimestamp
    /// The runs' wall-clock time, milliseconds.
    var durationMS: Int64
    /// The failure to record (pass it through ``ProducerConfiguration/decisiveFailure(_:usage:)``),
    /// `nil` for a success.
    var failure: YtDlpFailure?
    /// The producer's own size estimate (bytes of output), replaced by the metered total when
    /// the operation was metered.
    var estimatedBytes: Int64?

    /// The outcome of a single run.
    init(_ run: YtDlpRun, failure: YtDlpFailure?, estimatedBytes: Int64?) {
        self.init(startedAt: run.startedAt, durationMS: run.durationMS, failure: failure, estimatedBytes: estimatedBytes)
    }

    init(startedAt: LedgerTimestamp, durationMS: Int64, failure: YtDlpFailure?, estimatedBytes: Int64?) {
        self.startedAt = startedAt
        self.durationMS = durationMS
        self.failure = failure
        self.estimatedBytes = estimatedBytes
    }
}
