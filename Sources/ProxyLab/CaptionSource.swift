public import Foundation

/// One caption cue: start and duration in milliseconds, and its text.
public struct CaptionCue: Sendable, Hashable, Codable {
    /// Start time, milliseconds from the beginning of the video.
    public var startMS: Int64
    /// Duration in milliseconds.
    public var durationMS: Int64
    /// The caption text (may contain newlines).
    public var text: String

    /// Creates a cue.
    public init(startMS: Int64, durationMS: Int64, text: String) {
        self.startMS = startMS
        self.durationMS = durationMS
        self.text = text
    }
}

/// Caption text for lab fixtures: real captured captions from the folder that
/// `PROXY_LEDGER_CAPTIONS` names, when it is set and exists, synthetic ones otherwise. The
/// files are read in place, never copied.
public enum CaptionSource {
    /// The environment variable naming a folder of captured captions (`vtt-test-file/*.vtt`,
    /// `youtube-transcript-api/transcript.xml.static`).
    public static let captionsDirectoryKey = "PROXY_LEDGER_CAPTIONS"

    /// The folder `$PROXY_LEDGER_CAPTIONS` names, or `nil` when it is unset or absent.
    public static func locateRealInputs(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let folder = environment[captionsDirectoryKey], !folder.isEmpty else { return nil }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue ? folder : nil
    }

    /// The cue lists found under `realInputs` (the `.vtt` files in `vtt-test-file/` and
    /// `youtube-transcript-api/transcript.xml.static`), each non-empty; `[]` when none parse.
    public static func realCaptionSets(in realInputs: String) -> [[CaptionCue]] {
        var sets: [[CaptionCue]] = []
        let root = URL(fileURLWithPath: realInputs)
        let vttDirectory = root.appendingPathComponent("vtt-test-file")
        let vttFiles = (try? FileManager.default.contentsOfDirectory(atPath: vttDirectory.path)) ?? []
        for name in vttFiles.sorted() where name.hasSuffix(".vtt") {
            if let text = try? String(contentsOf: vttDirectory.appendingPathComponent(name), encoding: .utf8) {
                let cues = parseVTT(text)
                if !cues.isEmpty { sets.append(cues) }
            }
        }
        let xml = root.appendingPathComponent("youtube-transcript-api/transcript.xml.static")
        if let text = try? String(contentsOf: xml, encoding: .utf8) {
            let cues = parseTranscriptXML(text)
            if !cues.isEmpty { sets.append(cues) }
        }
        return sets
    }

    /// Synthetic cues for `videoID`: `count` cues of 3 s each.
    public static func syntheticCues(videoID: String, count: Int = 40) -> [CaptionCue] {
        (0..<max(count, 1)).map { index in
            CaptionCue(
                startMS: Int64(index) * 3000, durationMS: 3000,
                text: "Lab caption \(index + 1) for video \(videoID): the quick brown fox jumps over the lazy dog.")
        }
    }

    /// Parses WebVTT cues (`HH:MM:SS.mmm --> HH:MM:SS.mmm` then text lines; W3C WebVTT).
    public static func parseVTT(_ text: String) -> [CaptionCue] {
        var cues: [CaptionCue] = []
        let blocks = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
        for block in blocks {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: true)
            guard let timingIndex = lines.firstIndex(where: { $0.contains("-->") }) else { continue }
            let times = lines[timingIndex].components(separatedBy: "-->")
            guard times.count == 2, let start = vttMilliseconds(times[0]),
                let end = vttMilliseconds(String(times[1].split(separator: " ").first ?? ""))
            else { continue }
            let body = lines[(timingIndex + 1)...].joined(separator: "\n")
            guard !body.isEmpty else { continue }
            cues.append(CaptionCue(startMS: start, durationMS: max(end - start, 0), text: body))
        }
        return cues
    }

    /// Parses YouTube's timedtext XML (`<text start="1.54" dur="4.16">…</text>`), unescaping
    /// entities and dropping inline tags such as `<i>`.
    public static func parseTranscriptXML(_ text: String) -> [CaptionCue] {
        var cues: [CaptionCue] = []
        var rest = Substring(text)
        while let open = rest.range(of: "<text ") {
            guard let tagEnd = rest[open.upperBound...].firstIndex(of: ">"),
                let close = rest[tagEnd...].range(of: "</text>")
            else { break }
            let attributes = String(rest[open.upperBound..<tagEnd])
            let body = unescapeXML(String(rest[rest.index(after: tagEnd)..<close.lowerBound]))
            rest = rest[close.upperBound...]
            guard let start = attribute("start", in: attributes), let duration = attribute("dur", in: attributes)
            else { continue }
            let plain = stripTags(body).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !plain.isEmpty else { continue }
            cues.append(
                CaptionCue(
                    startMS: Int64((start * 1000).rounded()), durationMS: Int64((duration * 1000).rounded()),
                    text: plain))
        }
        return cues
    }

    private static func vttMilliseconds(_ raw: String) -> Int64? {
        let parts = raw.trimmingCharacters(in: .whitespaces).split(separator: ":")
        guard (2...3).contains(parts.count), let secondsPart = parts.last, let seconds = Double(secondsPart) else {
            return nil
        }
        var total = seconds
        for (position, part) in parts.dropLast().reversed().enumerated() {
            guard let value = Double(part) else { return nil }
            total += value * (position == 0 ? 60 : 3600)
        }
        return Int64((total * 1000).rounded())
    }

    private static func attribute(_ name: String, in attributes: String) -> Double? {
        guard let range = attributes.range(of: "\(name)=\"") else { return nil }
        let value = attributes[range.upperBound...].prefix { $0 != "\"" }
        return Double(value)
    }

    private static func unescapeXML(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    private static func stripTags(_ text: String) -> String {
        var result = ""
        var inTag = false
        for character in text {
            if character == "<" {
                inTag = true
            } else if character == ">" {
                inTag = false
            } else if !inTag {
                result.append(character)
            }
        }
        return result
    }
}
