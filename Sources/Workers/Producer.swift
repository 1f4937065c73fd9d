import Foundation
public import Ledger
public import Logging
public import ProxyGateway

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
    /// The proxy route for this producer's component. When enabled, yt-dlp reads its `--proxy`
    /// from a private options file (never from its argv; see ``optionsFolder``).
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
    /// upstream and counts the bytes on the wire (`bytes_measured=true`). Without a meter (the
    /// original design's way) yt-dlp gets the gateway URL itself, password included, and the bytes are not
    /// measured: production workers must set a meter. Either URL reaches yt-dlp only through the
    /// options file.
    public var meter: MeteringProxy?
    /// Where the per-operation yt-dlp options files are made, each in a private directory of its
    /// own (mode 0700; the file 0600) that is removed when the operation ends. `nil` (the
    /// default) is the system temporary folder (`$TMPDIR`, else `/tmp`).
    public var optionsFolder: String?
    /// Arguments added to every yt-dlp run (the lab passes `--no-check-certificates` for its
    /// self-signed HTTPS origin).
    public var extraArguments: [String] = []
    /// With the proxy off, the least time between this producer's yt-dlp runs (from the end of
    /// one to the start of the next), doubled per recent `rate_limited`/`bot_check` failure in
    /// ``counters`` up to the ``pacer``'s cap (see ``RequestPacer``). Default 2 s when the
    /// route was disabled at creation, zero when enabled; never applied with the proxy on.
    public var minimumInterval: Duration
    /// Paces runs with the proxy off; copies of this configuration share it (one per worker).
    public var pacer: RequestPacer

    /// Creates a configuration.
    public init(
        ytDlpPath: String, proxyService: ProxyService, sink: any EventAppending,
        counters: RateLimitCounters = RateLimitCounters(), timeout: Duration? = .seconds(600),
        logger: Logger = Logger(label: "proxy-ledger.workers"), meter: MeteringProxy? = nil,
        optionsFolder: String? = nil, minimumInterval: Duration? = nil, pacer: RequestPacer = RequestPacer()
    ) {
        self.ytDlpPath = ytDlpPath
        self.proxyService = proxyService
        self.sink = sink
        self.counters = counters
        self.timeout = timeout
        self.logger = logger
        self.meter = meter
        self.optionsFolder = optionsFolder
        self.minimumInterval = minimumInterval ?? (proxyService.isEnabled ? .zero : Self.unproxiedInterval)
        self.pacer = pacer
    }

    /// The default ``minimumInterval`` with the proxy off: 2 s.
    public static let unproxiedInterval = Duration.seconds(2)

    var runner: YtDlpRunner { YtDlpRunner(executable: ytDlpPath, timeout: timeout) }

    /// Opens the proxy route of one operation: its attribution (the event's identifiers, given
    /// to the metering lease too), and with the route enabled an options file holding a
    /// metering lease's URL (or, without a meter, the gateway URL); nothing more when disabled.
    /// - Throws: ``WorkerError`` `.launchFailed` when the options file cannot be written (the
    ///   lease is ended again; nothing crossed the gateway).
    func route(
        component: ProxyComponent, operation: String, videoID: String?, channelName: String?,
        context: OperationContext
    ) async throws -> OperationRoute {
        let attribution = OperationAttribution(
            component: component.rawValue, operation: operation, jobID: context.jobID, videoID: videoID,
            channelName: channelName, correlationID: context.correlationID, attempt: context.attempt)
        guard proxyService.isEnabled else { return OperationRoute(attribution: attribution, options: nil, lease: nil) }
        let folder = optionsFolder ?? FileManager.default.temporaryDirectory.path
        guard let meter else {
            let url = proxyService.proxyURL ?? ""
            let options = try YtDlpOptionsFile.create(proxyURL: url, under: folder)
            return OperationRoute(attribution: attribution, options: options, lease: nil)
        }
        let lease = meter.register(attribution)
        do {
            let options = try YtDlpOptionsFile.create(proxyURL: lease.proxyURL, under: folder)
            return OperationRoute(attribution: attribution, options: options, lease: lease)
        } catch {
            _ = await OperationRoute(attribution: attribution, options: nil, lease: lease).finish()
            throw error
        }
    }

    /// Runs one yt-dlp process on `route`, then ends the route (its lease and options file).
    /// - Returns: the run (``YtDlpRun/interrupted`` when the task was cancelled) and the bytes
    ///   metered for it (`nil` when unmetered).
    /// - Throws: what ``launch(_:on:)`` throws.
    func run(_ arguments: [String], on route: OperationRoute) async throws -> (YtDlpRun, MeteredUsage?) {
        let run = try await launch(arguments, on: route)
        return (run, await route.finish())
    }

    /// Runs one yt-dlp process on `route` and leaves the route open (a batch runs several).
    /// With the proxy off it first waits its turn (``minimumInterval``, ``pacer``); a
    /// cancellation while waiting makes the run `interrupted` without starting yt-dlp.
    /// - Throws: ``WorkerError`` `.launchFailed` when yt-dlp cannot be started; the route is
    ///   ended first, and when its lease had already metered bytes (an earlier run of a batch)
    ///   a `connection_error` event with them is appended and carried by the error.
    func launch(_ arguments: [String], on route: OperationRoute) async throws -> YtDlpRun {
        let paced = !proxyService.isEnabled && minimumInterval > .zero
        if paced { await waitForTurn() }
        do {
            let run = try await runner.run(arguments + extraArguments + route.proxyArguments)
            if paced { await pacer.requestFinished() }
            return run
        } catch {
            if paced { await pacer.requestFinished() }
            let launchError = error as? WorkerError ?? WorkerError(.launchFailed, "cannot run yt-dlp: \(type(of: error))")
            throw try await launchFailure(launchError, on: route)
        }
    }

    /// Waits for the pacer; a cancelled wait returns at once (the runner then reports `interrupted`).
    private func waitForTurn() async {
        guard let waited = try? await pacer.waitForTurn(minimumInterval: minimumInterval, counters: counters),
            waited > .zero
        else { return }
        logger.debug("paced yt-dlp (proxy off)", metadata: ["workers.waited_ms": "\(waited.wholeMilliseconds)"])
    }

    /// Ends `route` after a failed launch; the error to throw, with an event when bytes were metered.
    private func launchFailure(_ error: WorkerError, on route: OperationRoute) async throws -> WorkerError {
        guard let usage = await route.finish(), usage.totalBytes > 0 else { return error }
        let failure = YtDlpFailure(errorType: .connectionError, httpStatus: nil, message: error.message)
        let outcome = OperationOutcome(
            startedAt: route.startedAt, durationMS: usage.durationMS, failure: failure, estimatedBytes: nil)
        let event = try await record(outcome, for: route.attribution, usage: usage)
        return WorkerError(error.code, error.message, failure: failure, event: event)
    }

    /// The failure to record and report for a run: an `interrupted` run stays interrupted (the
    /// caller gives such an attempt back rather than charging it); otherwise a failure the
    /// gateway itself reported (its class, raw status and `X-Webshare-Error-Reason`) takes
    /// precedence over what yt-dlp printed, so it is never blamed on YouTube. Either way the
    /// failure carries the `Retry-After` the meter saw (``MeteredUsage/retryAfter``).
    func decisiveFailure(_ failure: YtDlpFailure?, usage: MeteredUsage?) -> YtDlpFailure? {
        guard var failure else { return nil }
        guard failure.errorType != .interrupted else { return failure }
        failure.retryAfter = usage?.retryAfter
        guard let gateway = usage?.gatewayFailure else { return failure }
        if let rule = gateway.rule {
            return YtDlpFailure(
                errorType: .blockedByRule, httpStatus: 403,
                message: "the metering proxy refused a request: listener rule \(rule) (nothing was billed)")
        }
        let detail =
            gateway.reason.map { "X-Webshare-Error-Reason \($0)" } ?? gateway.status.map { "HTTP \($0)" }
            ?? "no reply (refused, reset or unreachable)"
        return YtDlpFailure(
            errorType: gateway.errorType, httpStatus: gateway.status, message: "gateway: \(detail)",
            retryAfter: failure.retryAfter)
    }

    /// Builds the operation's event once, from its attribution, its outcome and the metered
    /// usage; appends it, and counts the outcome. Pass the failure through
    /// ``decisiveFailure(_:usage:)`` first.
    ///
    /// The append runs in a task of its own, so that it also happens when the calling task has
    /// been cancelled (a worker stopped by SIGTERM still records what its operation cost).
    /// - Parameters:
    ///   - outcome: the runs' start, duration, failure and estimate.
    ///   - attribution: the route's attribution (``OperationRoute/attribution``), with any video
    ///     id or channel the operation only learnt from yt-dlp's output filled in.
    ///   - usage: what the meter counted, `nil` when unmetered.
    /// - Throws: ``WorkerError`` with code `.ledgerAppendFailed` when the sink throws.
    func record(
        _ outcome: OperationOutcome, for attribution: OperationAttribution, usage: MeteredUsage?
    ) async throws -> ProxyRequestEvent {
        let failure = outcome.failure
        var event = attribution.event(
            timestamp: outcome.startedAt, durationMS: outcome.durationMS, success: failure == nil,
            proxied: proxyService.isEnabled)
        event.errorType = failure?.errorType
        event.httpStatus = failure?.httpStatus
        event.estimatedBytes = outcome.estimatedBytes
        usage?.apply(to: &event)
        await counters.record(failure?.errorType)
        logOutcome(event)
        let sink = sink
        let recorded = event
        do {
            _ = try await Task { try await sink.append([recorded]) }.value
        } catch {
            throw WorkerError(.ledgerAppendFailed, "cannot append \(event.operation) event: \(error)", event: event)
        }
        return event
    }

    private func logOutcome(_ event: ProxyRequestEvent) {
        var metadata: Logger.Metadata = [
            "ledger.operation": "\(event.operation)", "ledger.success": "\(event.success)",
            "ledger.duration_ms": "\(event.durationMS)",
        ]
        if let videoID = event.videoID { metadata["ledger.video_id"] = "\(videoID)" }
        if let errorType = event.errorType { metadata["ledger.error_type"] = "\(errorType.rawValue)" }
        logger.info("operation finished", metadata: metadata)
    }
}
