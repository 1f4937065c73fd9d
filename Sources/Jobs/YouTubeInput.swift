import Foundation

/// Recognises YouTube video ids, video URLs and channel references given by users.
public enum YouTubeInput {
    private static let hosts: Set<String> = ["youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"]

    /// `true` for exactly 11 characters of `[A-Za-z0-9_-]`.
    public static func isVideoID(_ text: String) -> Bool {
        text.utf8.count == 11 && text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F
        }
    }

    /// The video id of an id, a `watch?v=` URL, a `youtu.be/` URL or a `/shorts/` (or `/live/`,
    /// `/embed/`) URL; `nil` when `text` is none of these.
    public static func videoID(from text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if isVideoID(trimmed) { return trimmed }
        guard let components = urlComponents(trimmed), let host = components.host?.lowercased() else { return nil }
        let segments = components.path.split(separator: "/").map(String.init)
        let candidate: String?
        if host == "youtu.be" {
            candidate = segments.first
        } else if hosts.contains(host), segments.first == "watch" {
            candidate = components.queryItems?.first { $0.name == "v" }?.value
        } else if hosts.contains(host), segments.count >= 2, ["shorts", "live", "embed"].contains(segments[0]) {
            candidate = segments[1]
        } else {
            candidate = nil
        }
        return candidate.flatMap { isVideoID($0) ? $0 : nil }
    }

    /// `true` for an `@handle` or a YouTube channel URL (`/@handle`, `/channel/UC…`, `/c/…`, `/user/…`).
    public static func isChannel(_ text: String) -> Bool {
        if text.hasPrefix("@") {
            let handle = text.dropFirst()
            return !handle.isEmpty && handle.count <= 100 && !handle.contains { $0 == "/" || $0.isWhitespace }
        }
        guard let components = urlComponents(text), let host = components.host?.lowercased(), hosts.contains(host) else {
            return false
        }
        let segments = components.path.split(separator: "/").map(String.init)
        guard let first = segments.first else { return false }
        if first.hasPrefix("@") { return first.count > 1 }
        return ["channel", "c", "user"].contains(first) && segments.count >= 2
    }

    /// Parses `text` as a URL, adding `https://` when the scheme is missing.
    private static func urlComponents(_ text: String) -> URLComponents? {
        let withScheme = text.contains("://") ? text : "https://" + text
        guard let components = URLComponents(string: withScheme),
            let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http"
        else { return nil }
        return components
    }
}
