public import Foundation

/// One lab video: its caption file on the origin and the INFO.json that points yt-dlp at it.
public struct LabVideoFixture: Sendable, Hashable {
    /// The 11-character video id, e.g. `lab00000001`.
    public var id: String
    /// The video title.
    public var title: String
    /// The channel the video belongs to.
    public var channelName: String
    /// The INFO.json for `yt-dlp --load-info-json`.
    public var infoJSONPath: String
    /// The caption URL on the origin (`http://127.0.0.1:PORT/captions/<id>.en.json3`).
    public var captionURL: String
    /// The caption file the origin serves.
    public var captionPath: String
    /// The caption file's size in bytes.
    public var captionBytes: Int64
}

/// One lab channel: an RSS 2.0 feed on the origin that yt-dlp's generic extractor lists.
public struct LabChannelFixture: Sendable, Hashable {
    /// The channel name, e.g. `lab-channel-1`.
    public var name: String
    /// The feed URL on the origin (`http://127.0.0.1:PORT/channels/<name>.rss`).
    public var feedURL: String
    /// The feed file the origin serves.
    public var feedPath: String
    /// The ids of the channel's videos, in feed order.
    public var videoIDs: [String]
}

/// Everything ``LabFixtures/write(into:originPort:videoCount:channelCount:realInputs:)`` wrote.
public struct LabFixtureSet: Sendable, Hashable {
    /// The directory the ``OriginServer`` must serve.
    public var originRoot: String
    /// The directory holding the INFO.json files.
    public var infoDirectory: String
    /// The videos, in id order.
    public var videos: [LabVideoFixture]
    /// The channels; videos are spread over them round-robin.
    public var channels: [LabChannelFixture]
    /// `true` when the captions came from captured files (``CaptionSource``), `false` when synthetic.
    public var usesRealCaptions: Bool
}

/// Writes lab fixtures.
///
/// Layout under the lab directory: `origin/captions/<id>.en.json3`, `origin/channels/<name>.rss`,
/// `info/<id>.info.json`. Start the ``OriginServer`` on `origin/` first: the files embed its port.
public enum LabFixtures {
    /// Writes caption files, INFO.json files and RSS feeds for `videoCount` videos.
    ///
    /// - Parameters:
    ///   - directory: the lab directory (created if missing).
    ///   - originPort: the ``OriginServer`` port that URLs in the fixtures point at.
    ///   - originBaseURL: the origin's base URL when it is not `http://127.0.0.1:<originPort>`
    ///     (for example a ``TLSOrigin``'s `https://` URL).
    ///   - videoCount: the number of videos, ≥ 1.
    ///   - channelCount: the number of channels, ≥ 1.
    ///   - realInputs: a folder of captured captions; default
    ///     ``CaptionSource/locateRealInputs(environment:)``. Synthetic captions are generated when it is `nil` or holds no captions.
    /// - Returns: what was written.
    /// - Throws: ``ProxyLabError`` with code `.invalidArgument` for counts below 1, `.fileSystem`
    ///   when a file cannot be written.
    public static func write(
        into directory: String,
        originPort: Int,
        originBaseURL: String? = nil,
        videoCount: Int,
        channelCount: Int = 1,
        realInputs: String? = CaptionSource.locateRealInputs()
    ) throws -> LabFixtureSet {
        guard videoCount >= 1, channelCount >= 1 else {
            throw ProxyLabError(.invalidArgument, "videoCount and channelCount must be at least 1")
        }
        let root = URL(fileURLWithPath: directory)
        let origin = root.appendingPathComponent("origin")
        let info = root.appendingPathComponent("info")
        let base = originBaseURL ?? "http://\(LoopbackPort.host):\(originPort)"
        let realSets = realInputs.map(CaptionSource.realCaptionSets(in:)) ?? []
        let channelNames = (1...channelCount).map { "lab-channel-\($0)" }
        var videos: [LabVideoFixture] = []
        do {
            for sub in ["captions", "channels", "media"] {
                try FileManager.default.createDirectory(
                    at: origin.appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            try FileManager.default.createDirectory(at: info, withIntermediateDirectories: true)
            for index in 0..<videoCount {
                let id = "lab" + String(format: "%08d", index + 1)
                let channel = channelNames[index % channelCount]
                let cues =
                    realSets.isEmpty ? CaptionSource.syntheticCues(videoID: id) : realSets[index % realSets.count]
                let captionFile = origin.appendingPathComponent("captions/\(id).en.json3")
                let captionData = try json3(cues)
                try captionData.write(to: captionFile)
                let captionURL = "\(base)/captions/\(id).en.json3"
                let title = "Lab video \(index + 1)"
                let infoFile = info.appendingPathComponent("\(id).info.json")
                try infoJSON(id: id, title: title, channel: channel, base: base, captionURL: captionURL)
                    .write(to: infoFile)
                videos.append(
                    LabVideoFixture(
                        id: id, title: title, channelName: channel, infoJSONPath: infoFile.path,
                        captionURL: captionURL, captionPath: captionFile.path, captionBytes: Int64(captionData.count)))
            }
            var channels: [LabChannelFixture] = []
            for name in channelNames {
                let members = videos.filter { $0.channelName == name }
                let feedFile = origin.appendingPathComponent("channels/\(name).rss")
                try Data(rss(channel: name, videos: members, base: base).utf8).write(to: feedFile)
                channels.append(
                    LabChannelFixture(
                        name: name, feedURL: "\(base)/channels/\(name).rss", feedPath: feedFile.path,
                        videoIDs: members.map(\.id)))
            }
            return LabFixtureSet(
                originRoot: origin.path, infoDirectory: info.path, videos: videos, channels: channels,
                usesRealCaptions: !realSets.isEmpty)
        } catch let error as ProxyLabError {
            throw error
        } catch {
            throw ProxyLabError(.fileSystem, "cannot write fixtures in \(directory): \(error)")
        }
    }

    /// Encodes cues as YouTube json3: `{"events":[{"tStartMs":…,"dDurationMs":…,"segs":[{"utf8":…}]}]}`.
    public static func json3(_ cues: [CaptionCue]) throws -> Data {
        struct Segment: Encodable { var utf8: String }
        struct Event: Encodable {
            var tStartMs: Int64
            var dDurationMs: Int64
            var segs: [Segment]
        }
        struct Document: Encodable {
            var wireMagic = "pb3"
            var events: [Event]
        }
        let document = Document(
            events: cues.map { Event(tStartMs: $0.startMS, dDurationMs: $0.durationMS, segs: [Segment(utf8: $0.text)]) }
        )
        return try encoder.encode(document)
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A minimal INFO.json, with the subtitle URL on the origin.
    static func infoJSON(id: String, title: String, channel: String, base: String, captionURL: String) throws -> Data {
        struct Subtitle: Encodable {
            var ext: String
            var url: String
        }
        struct Format: Encodable {
            var formatID: String
            var url: String
            var ext: String
        }
        struct Info: Encodable {
            var id, title, extractor, extractorKey, webpageURL, ext, channel, uploader: String
            var duration: Int
            var formats: [Format]
            var subtitles: [String: [Subtitle]]
        }
        let info = Info(
            id: id, title: title, extractor: "youtube", extractorKey: "Youtube",
            webpageURL: "\(base)/watch?v=\(id)", ext: "mp4", channel: channel, uploader: channel, duration: 60,
            formats: [Format(formatID: "18", url: "\(base)/media/\(id).mp4", ext: "mp4")],
            subtitles: ["en": [Subtitle(ext: "json3", url: captionURL)]])
        let snakeCase = encoder
        snakeCase.keyEncodingStrategy = .convertToSnakeCase
        return try snakeCase.encode(info)
    }

    /// An RSS 2.0 feed whose items carry `<guid>` = video id and an `<enclosure url=…>`.
    static func rss(channel: String, videos: [LabVideoFixture], base: String) -> String {
        let items = videos.map { video in
            """
                <item>
                  <title>\(escape(video.title))</title>
                  <link>\(base)/watch?v=\(video.id)</link>
                  <guid isPermaLink="false">\(video.id)</guid>
                  <enclosure url="\(base)/media/\(video.id).mp4" type="video/mp4" length="0"/>
                  <pubDate>Sun, 01 Nov 2026 00:00:00 +0000</pubDate>
                </item>
            """
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <rss version="2.0">
              <channel>
                <title>\(escape(channel))</title>
                <link>\(base)/channels/\(channel)</link>
                <description>proxy-ledger lab channel \(escape(channel))</description>
            \(items.joined(separator: "\n"))
              </channel>
            </rss>

            """
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
