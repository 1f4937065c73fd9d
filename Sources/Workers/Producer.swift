import Foundation
import Ledger
import Logging
import ProxyGateway

/// Where yt-dlp reads a video from: a YouTube URL, or (in the lab) an INFO.json file.
public enum VideoSource: Sendable, Hashable {
    /// A video page URL, passed to yt-dlp as is.
    case url(String)
    /// An info JSON file, passed as `--load-info-json PATH` (no extraction; see LAB.md).
    case infoJSON(path: String)

    /// The yt-dlp arguments that name this source.
    var ytDlpArguments: [String] {
        switch self {
        case .url(let url): [url]
        case .infoJSON(let path): ["--load-info-json", path]
        }
    }
}

/// The ledger identifiers of one operation.
public struct OperationContext: Sendable, Hashable {
    /// The job id (`job_id`), if the operation belongs to a job.
    public var jobID: String?
    /// The correlation id (`correlation_id`) tying related operations together.
    public var correlationID: String?
    /// The attempt number, from 1.
    public var attempt: Int

    /// Creates a context.
    public init(jobID: String? = nil, correlationID: String? = nil, attempt: Int = 1) {
        self.jobID = jobID
        self.correlationID = correlationID
        self.attempt = max(attempt, 1)
    }
}

/// What every yt-dlp producer needs: the executable, the proxy route, the event sink, the shared
/// rate-limit counters and a logger.
public struct ProducerConfiguration: Sendable {
    /// The yt-dlp executable (see `ProxyLab.YtDlp.locate()` or the Makefile's venv).
    public var ytDlpPath: String
    /// The proxy route for this producer's component; when enabled, yt-dlp gets
    /// ``ProxyService/ytDlpArguments()``.
    public var proxyService: ProxyService
    /// Receives exactly one ``ProxyRequestEvent`` per operation.
    public var sink: any EventAppending
    /// Shared failure counters (pass the same actor to every producer of a process).
    public var counters: RateLimitCounters
    /// A deadline per yt-dlp process; on expiry it gets SIGTERM and the operation is a `timeout`.
    public var timeout: Duration?
    /// Logs outcomes; never receives credentials.
    public var logger: Logger

    /// Creates a configuration.
    public init(
        ytDlpPath: String, proxyService: ProxyService, sink: any EventAppending,
        counters: RateLimitCounters = RateLimitCounters(), timeout: Duration? = .seconds(600),
        logger: Logger = Logger(label: "proxy-ledger.workers")
    ) {
        self.ytDlpPath = ytDlpPath
        self.proxyService = proxyService
        self.sink = sink
        self.counters = counters
        self.timeout = timeout
        self.logger = logger
    }

    var runner: YtDlpRunner { YtDlpRunner(executable: ytDlpPath, timeout: timeout) }

    /// The proxy arguments, or `[]` when the route is disabled.
    var proxyArguments: [String] { proxyService.isEnabled ? proxyService.ytDlpArguments() : [] }

    /// Builds the operation's event, appends it, and counts the outcome.
    /// - Throws: ``WorkerError`` with code `.ledgerAppendFailed` when the sink throws.
    func record(
        component: ProxyComponent, operation: String, startedAt: LedgerTimestamp, durationMS: Int64,
        failure: YtDlpFailure?, estimatedBytes: Int64?, videoID: String?, channelName: String?,
        context: OperationContext
    ) async throws -> ProxyRequestEvent {
        let event = ProxyRequestEvent(
            timestamp: startedAt, component: component.rawValue, operation: operation, videoID: videoID,
            channelName: channelName, jobID: context.jobID, correlationID: context.correlationID,
            success: failure == nil, errorType: failure?.errorType, httpStatus: failure?.httpStatus,
            requestBytes: nil, responseBytes: nil, estimatedBytes: estimatedBytes, bytesMeasured: false,
            durationMS: durationMS, proxied: proxyService.isEnabled, attempt: context.attempt)
        await counters.record(failure?.errorType)
        var metadata: Logger.Metadata = [
            "ledger.operation": "\(operation)", "ledger.success": "\(failure == nil)",
            "ledger.duration_ms": "\(durationMS)",
        ]
        if let videoID { metadata["ledger.video_id"] = "\(videoID)" }
        if let failure { metadata["ledger.error_type"] = "\(failure.errorType.rawValue)" }
        logger.info("operation finished", metadata: metadata)
        do {
            _ = try await sink.append([event])
        } catch {
            throw WorkerError(.ledgerAppendFailed, "cannot append \(operation) event: \(error)", event: event)
        }
        return event
    }
}
