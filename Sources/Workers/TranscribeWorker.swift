public import Foundation
public import Ledger
public import ProxyGateway

/// One subtitle download job (the original design's transcription job).
public struct TranscriptionJob: Sendable, Hashable {
    /// The YouTube video id; also the output file stem (`DIR/<id>.en.json3`).
    public var videoID: String
    /// Where yt-dlp reads the video from.
    public var source: VideoSource
    /// The ledger identifiers (`job_id`, `correlation_id`, `attempt`).
    public var context: OperationContext

    /// Creates a job; the job id defaults to a new UUID, the correlation id to the job id.
    public init(
        videoID: String, source: VideoSource, jobID: String = UUID().uuidString.lowercased(), correlationID: String? = nil,
        attempt: Int = 1
    ) {
        self.videoID = videoID
        self.source = source
        self.context = OperationContext(jobID: jobID, correlationID: correlationID ?? jobID, attempt: attempt)
    }
}

/// A finished subtitle download.
public struct TranscriptionResult: Sendable {
    /// The job.
    public var job: TranscriptionJob
    /// The event appended for the operation.
    public var event: ProxyRequestEvent
    /// The subtitle files for the video in the output directory (absolute paths, sorted).
    public var subtitleFiles: [String]
}

/// Downloads English subtitles with yt-dlp and appends one `subtitle-download` event per job.
///
/// Runs `yt-dlp --skip-download --write-subs --write-auto-subs --sub-format json3 --sub-langs en
/// -o DIR/%(id)s.%(ext)s SOURCE [--config-locations FILE]`; with the route enabled, FILE is a
/// private options file holding `--proxy URL` (see ``ProducerConfiguration/optionsFolder``).
/// yt-dlp's sleep options stay at their defaults (with the proxy off, ``RequestPacer`` spaces the
/// runs). Without a metering proxy the event's `estimated_bytes` is the original design's estimate: the
/// size of the subtitle file(s) this run wrote (not wire bytes; `bytes_measured` is `false`).
public struct TranscribeWorker: Sendable {
    /// The event `component`.
    public static let component = ProxyComponent.transcribe
    /// The event `operation`.
    public static let operation = "subtitle-download"
    /// Subtitle file extensions yt-dlp may write.
    static let subtitleExtensions: Set<String> = ["json3", "vtt", "srv1", "srv2", "srv3", "ttml", "srt", "ass", "lrc"]

    /// yt-dlp, proxy route (use a ``ProxyService`` for ``ProxyComponent/transcribe``), sink, counters.
    public let configuration: ProducerConfiguration
    /// Where subtitle files are written.
    public let outputDirectory: String

    /// Creates a worker writing subtitles into `outputDirectory` (created on first use).
    public init(configuration: ProducerConfiguration, outputDirectory: String) {
        self.configuration = configuration
        self.outputDirectory = outputDirectory
    }

    /// The yt-dlp arguments for `job`, before the proxy route's `--config-locations FILE`.
    public func arguments(for job: TranscriptionJob) -> [String] {
        let template = URL(fileURLWithPath: outputDirectory).appendingPathComponent("%(id)s.%(ext)s").path
        return [
            "--skip-download", "--write-subs", "--write-auto-subs", "--sub-format", "json3", "--sub-langs", "en",
            "-o", template,
        ] + job.source.ytDlpArguments
    }

    /// Downloads the subtitles of `job` and appends its event.
    ///
    /// Success means yt-dlp exited 0 and a subtitle file for the video exists; exit 0 without a
    /// subtitle file is recorded as `not_found`.
    /// - Returns: the event and the subtitle files.
    /// - Throws: ``WorkerError`` with code `.operationFailed` (carrying the classified
    ///   ``YtDlpFailure`` and the appended event) when the download failed, also when the task
    ///   was cancelled before or while yt-dlp ran (failure `interrupted`, the event holding the
    ///   bytes metered so far); `.launchFailed` when yt-dlp could not start (no event is
    ///   appended then); `.ledgerAppendFailed` when the sink refused the event.
    public func transcribe(_ job: TranscriptionJob) async throws -> TranscriptionResult {
        try? FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        let before = subtitleFiles(for: job.videoID)
        let route = try await configuration.route(
            component: Self.component, operation: Self.operation, videoID: job.videoID, channelName: nil,
            context: job.context)
        let (run, usage) = try await configuration.run(arguments(for: job), on: route)
        let after = subtitleFiles(for: job.videoID)
        var failure = run.failure
        if failure == nil && after.isEmpty {
            failure = YtDlpFailure(
                errorType: .notFound, httpStatus: nil, message: "yt-dlp wrote no subtitle file for \(job.videoID)")
        }
        let written = after.filter { before[$0.key] != $0.value }
        let estimated = failure == nil ? written.values.reduce(Int64(0)) { $0 + $1.size } : nil
        failure = configuration.decisiveFailure(failure, usage: usage)
        let event = try await configuration.record(
            OperationOutcome(run, failure: failure, estimatedBytes: estimated), for: route.attribution, usage: usage)
        if let failure {
            throw WorkerError(
                .operationFailed, "subtitle download for \(job.videoID) failed", failure: failure, event: event)
        }
        return TranscriptionResult(job: job, event: event, subtitleFiles: after.keys.sorted())
    }

    private struct FileStamp: Equatable {
        var size: Int64
        var modified: Date?
    }

    /// `<id>.<lang>.<subtitle ext>` files in the output directory, with size and modification time.
    private func subtitleFiles(for videoID: String) -> [String: FileStamp] {
        let files = FileManager.default
        let names = (try? files.contentsOfDirectory(atPath: outputDirectory)) ?? []
        var result: [String: FileStamp] = [:]
        for name in names where name.hasPrefix(videoID + ".") {
            let ext = URL(fileURLWithPath: name).pathExtension.lowercased()
            guard Self.subtitleExtensions.contains(ext) else { continue }
            let path = URL(fileURLWithPath: outputDirectory).appendingPathComponent(name).path
            let attributes = try? files.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            result[path] = FileStamp(size: size, modified: attributes?[.modificationDate] as? Date)
        }
        return result
    }
}
