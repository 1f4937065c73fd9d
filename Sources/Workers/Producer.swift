import Foundation
import Ledger
import Logging
import ProxyGateway

/// Where yt-dlp reads a video from: a YouTube URL, or (in the lab) an INFO.json file.
public enum VideoSource: Sendable, Hashable {
    /// A video page URL, passed to yt-dlp as is.
    case url(String)
    /// An info JSON file, passed as `--load-info-json PATH` (no extraction: yt-dlp takes the formats and subtitles from the file).
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
    /// The in-process metering proxy. When set and the route is enabled, every operation gets a
    /// one-time token and yt-dlp is pointed at the meter, which adds the real gateway credentials
    /// upstream and counts the bytes on the wire (`bytes_measured=true`). yt-dlp's argv and
    /// environment then hold no password. Without a meter (the seed's way) yt-dlp gets the
    /// gateway URL itself, so the password is in its argv and visible to `ps`: production
    /// workers must set a meter.
    public var meter: MeteringProxy?
    /// Arguments added to every yt-dlp run (the lab passes `--no-check-certificates` for its
    /// self-signed HTTPS origin).
    public var extraArguments: [String] = []

    /// Creates a configuration.
    public init(
        ytDlpPath: String, proxyService: ProxyService, sink: any EventAppending,
        counters: RateLimitCounters = RateLimitCounters(), timeout: Duration? = .seconds(600),
        logger: Logger = Logger(label: "proxy-ledger.workers"), meter: MeteringProxy? = nil
    ) {
        self.ytDlpPath = ytDlpPath
        self.proxyService = proxyService
        self.sink = sink
        self.counters = counters
        self.timeout = timeout
        self.logger = logger
        self.meter = meter
    }

    var runner: YtDlpRunner { YtDlpRunner(executable: ytDlpPath, timeout: timeout) }

    /// Opens the proxy route of one operation: a metering lease when a meter is configured, the
    /// gateway URL otherwise, nothing when the route is disabled.
    func route(
        component: ProxyComponent, operation: String, videoID: String?, channelName: String?,
        context: OperationContext
    ) -> OperationRoute {
        guard proxyService.isEnabled else { return OperationRoute(proxyArguments: [], lease: nil) }
        guard let meter else { return OperationRoute(proxyArguments: proxyService.ytDlpArguments(), lease: nil) }
        let lease = meter.register(
            OperationAttribution(
                component: component.rawValue, operation: operation, jobID: context.jobID, videoID: videoID,
                channelName: channelName, correlationID: context.correlationID, attempt: context.attempt))
        return OperationRoute(proxyArguments: ["--proxy", lease.proxyURL], lease: lease)
    }

    /// Runs one yt-dlp process on `route`, then ends the route's lease.
    /// - Returns: the run and the bytes metered for it (`nil` when unmetered).
    func run(_ arguments: [String], on route: OperationRoute) async throws -> (YtDlpRun, MeteredUsage?) {
        let run: YtDlpRun
        do {
            run = try await runner.run(arguments + extraArguments + route.proxyArguments)
        } catch {
            _ = await route.finish()
            throw error
        }
        return (run, await route.finish())
    }

    /// The failure to record and report for a run: a failure the gateway itself reported (its
    /// class, raw status and `X-Webshare-Error-Reason`) takes precedence over what yt-dlp printed,
    /// so it is never blamed on YouTube; a run killed because the worker was cancelled says so.
    func decisiveFailure(_ failure: YtDlpFailure?, usage: MeteredUsage?) -> YtDlpFailure? {
        guard var failure else { return nil }
        if let gateway = usage?.gatewayFailure {
            let detail =
                gateway.reason.map { "X-Webshare-Error-Reason \($0)" } ?? gateway.status.map { "HTTP \($0)" }
                ?? "no reply (refused, reset or unreachable)"
            failure = YtDlpFailure(errorType: gateway.errorType, httpStatus: gateway.status, message: "gateway: \(detail)")
        } else if Task.isCancelled {
            failure.message = "interrupted: the worker was stopped while yt-dlp ran"
        }
        return failure
    }

    /// Builds the operation's event, appends it, and counts the outcome. Pass the failure
    /// through ``decisiveFailure(_:usage:)`` first.
    /// - Throws: ``WorkerError`` with code `.ledgerAppendFailed` when the sink throws.
    func record(
        component: ProxyComponent, operation: String, startedAt: LedgerTimestamp, durationMS: Int64,
        failure: YtDlpFailure?, estimatedBytes: Int64?, videoID: String?, channelName: String?,
        context: OperationContext, usage: MeteredUsage? = nil
    ) async throws -> ProxyRequestEvent {
        var event = ProxyRequestEvent(
            timestamp: startedAt, component: component.rawValue, operation: operation, videoID: videoID,
            channelName: channelName, jobID: context.jobID, correlationID: context.correlationID,
            success: failure == nil, errorType: failure?.errorType, httpStatus: failure?.httpStatus,
            requestBytes: nil, responseBytes: nil, estimatedBytes: estimatedBytes, bytesMeasured: false,
            durationMS: durationMS, proxied: proxyService.isEnabled, attempt: context.attempt)
        usage?.apply(to: &event)
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

/// The proxy route of one operation (see ``ProducerConfiguration/route(component:operation:videoID:channelName:context:)``).
struct OperationRoute: Sendable {
    /// Arguments for yt-dlp: `--proxy URL` or nothing. With a lease the URL holds only its token.
    let proxyArguments: [String]
    let lease: MeteringLease?

    /// Ends the lease and returns the bytes metered for the operation, or `nil` when unmetered.
    func finish() async -> MeteredUsage? {
        guard let lease else { return nil }
        return await lease.finish()
    }
}
