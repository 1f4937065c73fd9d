import Foundation

// A flat JSON form, stored in `jobs.payload` and printed by `jobs show --format json`:
// {"kind":"transcribe","video_id":"…"}, {"kind":"transcribe","info_json":"/…"},
// {"kind":"channel-listing","channel":"@…","limit":10}, {"kind":"video-metadata","video_id":"…"},
// {"kind":"batch-metadata","video_ids":["…"]}.
extension JobPayload {
    private enum CodingKeys: String, CodingKey {
        case kind, channel, limit
        case videoID = "video_id", infoJSON = "info_json", videoIDs = "video_ids"
    }

    /// Decodes the flat form.
    ///
    /// - Throws: `DecodingError` for an unknown kind or a missing field.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(JobKind.self, forKey: .kind) {
        case .transcribe:
            if let path = try container.decodeIfPresent(String.self, forKey: .infoJSON) {
                self = .transcribe(.infoJSON(path: path))
            } else {
                self = .transcribe(.video(id: try container.decode(String.self, forKey: .videoID)))
            }
        case .channelListing:
            self = .channelListing(
                channel: try container.decode(String.self, forKey: .channel),
                limit: try container.decodeIfPresent(Int.self, forKey: .limit))
        case .videoMetadata:
            self = .videoMetadata(videoID: try container.decode(String.self, forKey: .videoID))
        case .batchMetadata:
            self = .batchMetadata(videoIDs: try container.decode([String].self, forKey: .videoIDs))
        }
    }

    /// Encodes the flat form.
    ///
    /// - Throws: `EncodingError` from the encoder.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        switch self {
        case .transcribe(.video(let id)), .videoMetadata(let id):
            try container.encode(id, forKey: .videoID)
        case .transcribe(.infoJSON(let path)):
            try container.encode(path, forKey: .infoJSON)
        case .channelListing(let channel, let limit):
            try container.encode(channel, forKey: .channel)
            try container.encodeIfPresent(limit, forKey: .limit)
        case .batchMetadata(let ids):
            try container.encode(ids, forKey: .videoIDs)
        }
    }
}
