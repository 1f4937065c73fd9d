import Foundation
public import Ledger
public import ProxyGateway

/// One entry of a channel listing (`--flat-playlist`).
public struct ChannelEntry: Sendable, Hashable {
    /// The video id.
    public var id: String
    /// The entry URL, if yt-dlp gave one.
    public var url: String?
    /// The entry title, if any.
    public var title: String?
}

/// A channel listing and the event appended for it.
public struct ChannelListing: Sendable {
    /// The playlist title yt-dlp reported.
    public var title: String?
    /// The channel's videos, in playlist order.
    public var entries: [ChannelEntry]
    /// The `channel-listing` event.
    public var event: ProxyRequestEvent
}

/// The metadata fields the service uses from `yt-dlp -J`.
public struct VideoMetadata: Sendable, Hashable {
    /// The video id.
    public var id: String
    /// The title.
    public var title: String?
    /// The channel name (`channel`, else `uploader`).
    public var channel: String?
    /// Duration in seconds.
    public var durationSeconds: Double?
    /// The page URL.
    public var webpageURL: String?
    /// Size of the JSON yt-dlp printed for this video, bytes.
    public var jsonBytes: Int64
}

/// Metadata for several videos and the single `batch-metadata` event.
public struct BatchMetadata: Sendable {
    /// The videos whose metadata was read, in input order.
    public var videos: [VideoMetadata]
    /// The failure, when some video failed (the event is then unsuccessful).
    public var failure: YtDlpFailure?
    /// The `batch-metadata` event.
    public var event: ProxyRequestEvent
}

/// The API service's yt-dlp calls: channel listings and video metadata, each appending one event
/// with component `api-youtube-service` and `estimated_bytes` = size of yt-dlp's JSON output.
///
/// Give it a ``ProxyService`` for ``ProxyComponent/api``.
public struct ChannelBrowser: Sendable {
    /// The event `component`.
    public static let component = ProxyComponent.api
    /// yt-dlp, proxy route, sink and counters.
    public let configuration: ProducerConfiguration

    /// Creates a browser.
    public init(configuration: ProducerConfiguration) {
        self.configuration = configuration
    }

    /// Lists a channel (or playlist, or RSS feed) with `yt-dlp --flat-playlist -J URL`.
    /// - Returns: the entries and the `channel-listing` event.
    /// - Throws: ``WorkerError`` `.operationFailed` (with the event) when yt-dlp fails or the
    ///   task was cancelled before or while it ran (failure `interrupted`), `.launchFailed`,
    ///   `.ledgerAppendFailed`.
    public func listChannel(
        url: String, channelName: String, context: OperationContext = OperationContext()
    ) async throws -> ChannelListing {
        let route = try await configuration.route(
            component: Self.component, operation: "channel-listing", videoID: nil, channelName: channelName,
            context: context)
        let (run, usage) = try await configuration.run(["--flat-playlist", "-J", url], on: route)
        var failure = run.failure
        let playlist =
            failure == nil ? try? JSONDecoder().decode(RawPlaylist.self, from: Data(run.standardOutput)) : nil
        if failure == nil && playlist?._type != "playlist" {
            failure = YtDlpFailure(errorType: .unknown, httpStatus: nil, message: "yt-dlp printed no playlist JSON")
        }
        failure = configuration.decisiveFailure(failure, usage: usage)
        let outcome = OperationOutcome(run, failure: failure, estimatedBytes: Int64(run.standardOutput.count))
        let event = try await configuration.record(outcome, for: route.attribution, usage: usage)
        guard let playlist, failure == nil else {
            throw WorkerError(
                .operationFailed, "channel listing for \(channelName) failed", failure: failure, event: event)
        }
        let entries = (playlist.entries ?? []).compactMap { entry -> ChannelEntry? in
            guard let entry else { return nil }
            let (url, forcedID) = Self.unsmuggle(entry.url)
            guard let id = entry.id ?? forcedID ?? url.flatMap(Self.youtubeID(in:)) else { return nil }
            return ChannelEntry(id: id, url: url, title: entry.title)
        }
        return ChannelListing(title: playlist.title, entries: entries, event: event)
    }

    /// Reads one video's metadata with `yt-dlp -J --skip-download SOURCE`.
    /// - Parameter videoID: the id for the event; `nil` takes it from the metadata.
    /// - Throws: as ``listChannel(url:channelName:context:)``.
    public func videoMetadata(
        _ source: VideoSource, videoID: String? = nil, context: OperationContext = OperationContext()
    ) async throws -> VideoMetadata {
        let route = try await configuration.route(
            component: Self.component, operation: "video-metadata", videoID: videoID, channelName: nil,
            context: context)
        let (run, usage) = try await configuration.run(["-J", "--skip-download"] + source.ytDlpArguments, on: route)
        var failure = run.failure
        let metadata = failure == nil ? Self.parseMetadata(run.standardOutput).first : nil
        if failure == nil && metadata == nil {
            failure = YtDlpFailure(errorType: .unknown, httpStatus: nil, message: "yt-dlp printed no video JSON")
        }
        failure = configuration.decisiveFailure(failure, usage: usage)
        var attribution = route.attribution
        attribution.videoID = attribution.videoID ?? metadata?.id
        attribution.channelName = metadata?.channel
        let outcome = OperationOutcome(run, failure: failure, estimatedBytes: Int64(run.standardOutput.count))
        let event = try await configuration.record(outcome, for: attribution, usage: usage)
        guard let metadata, failure == nil else {
            throw WorkerError(.operationFailed, "video metadata failed", failure: failure, event: event)
        }
        return metadata
    }

    /// Reads several videos' metadata as one `batch-metadata` operation: all URLs in one yt-dlp
    /// run (one JSON line each), info JSON files one run each (yt-dlp loads one per run).
    /// - Returns: what was read; ``BatchMetadata/failure`` is set when some video failed.
    /// - Throws: ``WorkerError`` `.invalidArgument` for an empty batch, `.operationFailed` (with the
    ///   event) when no video could be read or the task was cancelled (failure `interrupted`; no
    ///   further run is started), `.launchFailed` (with a `connection_error` event when an earlier
    ///   run of the batch had metered bytes), `.ledgerAppendFailed`.
    public func batchMetadata(
        _ sources: [VideoSource], context: OperationContext = OperationContext()
    ) async throws -> BatchMetadata {
        guard !sources.isEmpty else { throw WorkerError(.invalidArgument, "batchMetadata needs at least one video") }
        let urls = sources.compactMap { if case .url(let url) = $0 { url } else { nil } }
        var argumentSets: [[String]] = urls.isEmpty ? [] : [urls]
        for case .infoJSON(let path) in sources { argumentSets.append(["--load-info-json", path]) }
        var videos: [VideoMetadata] = []
        var failure: YtDlpFailure?
        var bytes: Int64 = 0
        var duration: Int64 = 0
        var startedAt: LedgerTimestamp?
        let route = try await configuration.route(
            component: Self.component, operation: "batch-metadata", videoID: nil, channelName: nil, context: context)
        for arguments in argumentSets {
            let run = try await configuration.launch(["-J", "--skip-download"] + arguments, on: route)
            startedAt = startedAt ?? run.startedAt
            duration += run.durationMS
            bytes += Int64(run.standardOutput.count)
            videos += Self.parseMetadata(run.standardOutput)
            if failure == nil || run.interrupted { failure = run.failure }
            if run.interrupted { break }
        }
        if failure == nil && videos.count < sources.count {
            failure = YtDlpFailure(errorType: .unknown, httpStatus: nil, message: "yt-dlp printed too few video JSONs")
        }
        let usage = await route.finish()
        failure = configuration.decisiveFailure(failure, usage: usage)
        let outcome = OperationOutcome(
            startedAt: startedAt ?? route.startedAt, durationMS: duration, failure: failure, estimatedBytes: bytes)
        let event = try await configuration.record(outcome, for: route.attribution, usage: usage)
        guard !videos.isEmpty else {
            throw WorkerError(.operationFailed, "batch metadata failed for all videos", failure: failure, event: event)
        }
        if let failure, failure.errorType == .interrupted {
            throw WorkerError(.operationFailed, "batch metadata was interrupted", failure: failure, event: event)
        }
        return BatchMetadata(videos: videos, failure: failure, event: event)
    }

    /// Splits yt-dlp's smuggled data off an entry URL (`URL#__youtubedl_smuggle={"force_videoid": …}`,
    /// `yt_dlp/utils/_utils.py` `smuggle_url`), returning the plain URL and the forced video id.
    static func unsmuggle(_ url: String?) -> (url: String?, forcedID: String?) {
        guard let url, let marker = url.range(of: "#__youtubedl_smuggle=") else { return (url, nil) }
        let payload = String(url[marker.upperBound...]).replacingOccurrences(of: "+", with: " ")
        let plain = String(url[..<marker.lowerBound])
        guard let json = payload.removingPercentEncoding, let data = json.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return (plain, nil) }
        return (plain, object["force_videoid"] as? String)
    }

    /// The `v=` query parameter of a YouTube watch URL.
    static func youtubeID(in url: String) -> String? {
        URLComponents(string: url)?.queryItems?.first { $0.name == "v" }?.value
    }

    /// Parses yt-dlp `-J` output: one JSON object per line.
    static func parseMetadata(_ output: [UInt8]) -> [VideoMetadata] {
        output.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let raw = try? JSONDecoder().decode(RawVideo.self, from: Data(line)), let id = raw.id else {
                return nil
            }
            return VideoMetadata(
                id: id, title: raw.title, channel: raw.channel ?? raw.uploader, durationSeconds: raw.duration,
                webpageURL: raw.webpageURL, jsonBytes: Int64(line.count))
        }
    }

    private struct RawPlaylist: Decodable {
        var _type: String?
        var title: String?
        var entries: [RawEntry?]?
    }

    private struct RawEntry: Decodable {
        var id: String?
        var url: String?
        var title: String?
    }

    private struct RawVideo: Decodable {
        var id: String?
        var title: String?
        var channel: String?
        var uploader: String?
        var duration: Double?
        var webpageURL: String?

        enum CodingKeys: String, CodingKey {
            case id, title, channel, uploader, duration
            case webpageURL = "webpage_url"
        }
    }
}
