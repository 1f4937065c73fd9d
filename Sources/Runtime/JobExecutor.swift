import Foundation
import Jobs
import Ledger
import Logging
import ProxyGateway
import Workers

/// What one attempt of a job came to, for the job store.
enum AttemptOutcome: Sendable, Equatable {
    /// The operation succeeded; `result` is recorded on the job (a path or JSON text).
    case completed(result: String?)
    /// The operation failed with this class; the retry policy decides what follows, waiting at
    /// least `retryAfter` (the `Retry-After` the gateway or the origin sent) when one was given.
    case failed(errorType: ProxyErrorType, httpStatus: Int?, retryAfter: Duration?, message: String)
    /// The operation was stopped (shutdown or a lost lease); its event says `interrupted`.
    case interrupted
}

/// Runs one attempt of a job with the producers of the `Workers` module, on the proxy settings
/// current when the attempt starts, so a settings reload applies from the next job.
struct JobExecutor: Sendable {
    let settings: @Sendable () -> ProxySettings
    let meters: MeteringPool
    let sink: any EventAppending
    let counters: RateLimitCounters
    let ytDlpPath: String
    let outputDirectory: String
    let extraArguments: [String]
    /// Maps a channel-listing job's channel (an `@handle` or a URL) to the URL yt-dlp lists.
    let channelURL: @Sendable (String) -> String
    let operationTimeout: Duration
    /// One pacer per component, shared by its jobs: with the proxy off, its yt-dlp runs keep the
    /// minimum interval between them (`RequestPacer`).
    let pacers: [ProxyComponent: RequestPacer] = [.transcribe: RequestPacer(), .api: RequestPacer()]
    let logger: Logger

    /// Runs `job`'s operation once; the events it appends carry the job's id and attempt.
    func run(_ job: Job) async -> AttemptOutcome {
        let context = OperationContext(jobID: job.id, correlationID: job.id, attempt: job.attempt)
        do {
            return .completed(result: try await perform(job.payload, context: context))
        } catch let error as WorkerError {
            // Cancelled means stopped by this process (shutdown or a lost lease), whatever
            // yt-dlp printed as it was stopped.
            if error.failure?.errorType == .interrupted || Task.isCancelled { return .interrupted }
            let errorType = error.failure?.errorType ?? .unknown
            return .failed(
                errorType: errorType, httpStatus: error.failure?.httpStatus, retryAfter: error.failure?.retryAfter,
                message: error.message)
        } catch {
            return Task.isCancelled
                ? .interrupted : .failed(errorType: .unknown, httpStatus: nil, retryAfter: nil, message: "\(error)")
        }
    }

    func perform(_ payload: JobPayload, context: OperationContext) async throws -> String? {
        switch payload {
        case .transcribe(let source):
            let job = try transcriptionJob(source, context: context)
            let worker = TranscribeWorker(configuration: try await producer(.transcribe), outputDirectory: outputDirectory)
            return try await worker.transcribe(job).subtitleFiles.first
        case .channelListing(let channel, let limit):
            let browser = ChannelBrowser(
                configuration: try await producer(.api, extra: limit.map { ["--playlist-end", "\($0)"] } ?? []))
            let listing = try await browser.listChannel(url: channelURL(channel), channelName: channel, context: context)
            let ids = listing.entries.prefix(limit ?? Int.max).map(\.id)
            return JobResultText.json(["title": listing.title as Any? ?? NSNull(), "video_ids": Array(ids)])
        case .videoMetadata(let id):
            let browser = ChannelBrowser(configuration: try await producer(.api))
            let metadata = try await browser.videoMetadata(.url(Self.watchURL(id)), videoID: id, context: context)
            return JobResultText.json(JobResultText.fields(of: metadata))
        case .batchMetadata(let ids):
            let browser = ChannelBrowser(configuration: try await producer(.api))
            let batch = try await browser.batchMetadata(ids.map { .url(Self.watchURL($0)) }, context: context)
            if let failure = batch.failure {
                throw WorkerError(.operationFailed, "metadata batch failed", failure: failure, event: batch.event)
            }
            return JobResultText.json(["videos": batch.videos.map(JobResultText.fields(of:))])
        }
    }

    private func producer(_ component: ProxyComponent, extra: [String] = []) async throws -> ProducerConfiguration {
        let service = try ProxyService(settings: settings(), component: component)
        var configuration = ProducerConfiguration(
            ytDlpPath: ytDlpPath, proxyService: service, sink: sink, counters: counters, timeout: operationTimeout,
            logger: logger, meter: try await meters.meter(for: service), pacer: pacers[component] ?? RequestPacer())
        configuration.extraArguments = extraArguments + extra
        return configuration
    }

    private func transcriptionJob(_ source: TranscribeSource, context: OperationContext) throws -> TranscriptionJob {
        let (id, videoSource): (String, VideoSource)
        switch source {
        case .video(let videoID): (id, videoSource) = (videoID, .url(Self.watchURL(videoID)))
        case .infoJSON(let path): (id, videoSource) = (try Self.videoID(inInfoJSON: path), .infoJSON(path: path))
        }
        return TranscriptionJob(
            videoID: id, source: videoSource, jobID: context.jobID ?? UUID().uuidString.lowercased(),
            correlationID: context.correlationID, attempt: context.attempt)
    }

    static func watchURL(_ id: String) -> String { "https://www.youtube.com/watch?v=\(id)" }

    /// The `id` field of a yt-dlp info JSON file.
    static func videoID(inInfoJSON path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let id = object["id"] as? String, YouTubeInput.isVideoID(id)
        else {
            throw WorkerError(
                .operationFailed, "\(path) is not a readable yt-dlp info JSON file with a video id",
                failure: YtDlpFailure(errorType: .notFound, httpStatus: nil, message: "no info JSON at \(path)"))
        }
        return id
    }
}

/// The job results the store records: compact JSON text with sorted keys.
enum JobResultText {
    static func json(_ object: [String: Any]) -> String? {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func fields(of metadata: VideoMetadata) -> [String: Any] {
        var fields: [String: Any] = ["id": metadata.id]
        if let title = metadata.title { fields["title"] = title }
        if let channel = metadata.channel { fields["channel"] = channel }
        if let duration = metadata.durationSeconds { fields["duration_seconds"] = duration }
        if let url = metadata.webpageURL { fields["webpage_url"] = url }
        return fields
    }
}

extension JobExecutor {
    /// The event of an attempt whose worker died (its lease expired and this claim took the job
    /// over): `error_type` `interrupted`, no measured bytes (the meter died with the worker; the
    /// gateway's own log has them for `reconcile`), so that every operation the gateway carried
    /// has an event.
    ///
    /// - Throws: The sink's error.
    func recordLostAttempt(_ lost: JobAttempt, of job: Job) async throws {
        let videoID: String? =
            switch job.payload {
            case .transcribe(.video(let id)), .videoMetadata(let id): id
            case .transcribe(.infoJSON(let path)): try? Self.videoID(inInfoJSON: path)
            case .channelListing, .batchMetadata: nil
            }
        var channel: String?
        if case .channelListing(let name, _) = job.payload { channel = name }
        let duration = lost.endedAt.map { max(0, ($0 - lost.startedAt) / 1_000) } ?? 0
        let event = ProxyRequestEvent(
            timestamp: LedgerTimestamp(microseconds: lost.startedAt), component: job.component,
            operation: Self.operation(of: job.kind), videoID: videoID, channelName: channel, jobID: job.id,
            correlationID: job.id, success: false, errorType: .interrupted, httpStatus: nil, requestBytes: nil,
            responseBytes: nil, estimatedBytes: nil, bytesMeasured: false, durationMS: duration,
            proxied: (try? ProxyService(settings: settings(), component: ProxyComponent(rawValue: job.component) ?? .transcribe))?.isEnabled ?? false,
            attempt: lost.attempt)
        _ = try await sink.append([event])
    }

    /// The `operation` of a job kind's events.
    static func operation(of kind: JobKind) -> String {
        switch kind {
        case .transcribe: TranscribeWorker.operation
        case .channelListing: "channel-listing"
        case .videoMetadata: "video-metadata"
        case .batchMetadata: "batch-metadata"
        }
    }
}
