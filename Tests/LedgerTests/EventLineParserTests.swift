import Foundation
import Testing

@testable import Ledger

/// The fast path (``EventLineParser``) against the general parser: the same event for every line
/// it reads, `nil` (so the general parser decides) for everything else.
@Suite struct EventLineParserTests {
    static let plain = #"{"event_id":"6f1c2a4e-2b9d-4c1e-9a57-1f0e5b7d9c11","timestamp":"2026-11-01T00:00:00.250Z","component":"transcribe-worker","operation":"subtitle-download","video_id":"dQw4w9WgXcQ","channel_name":"some-channel","job_id":"job-1","correlation_id":null,"success":false,"error_type":"rate_limited","http_status":429,"request_bytes":900,"response_bytes":0,"estimated_bytes":900,"bytes_measured":true,"duration_ms":1234,"proxied":true,"attempt":2}"#

    static func edit(_ old: String, _ new: String) -> String { plain.replacingOccurrences(of: old, with: new) }

    static let longLabel = String(repeating: "x", count: 51)

    static func general(_ line: String) -> ProxyRequestEvent? {
        try? ProxyRequestEvent(jsonLine: Array(line.utf8))
    }

    static func fast(_ line: String) -> ProxyRequestEvent? {
        var parser = EventLineParser()
        return parser.parse(Array(line.utf8))
    }

    static let plainLines: [String] = [
        plain,
        #"  { "event_id" : "6F1C2A4E-2B9D-4C1E-9A57-1F0E5B7D9C11" , "timestamp":"2026-11-01T01:00:00+01:00","component":"c","operation":"o","success":true,"duration_ms":0,"proxied":false }  "#,
        #"{"attempt":1,"proxied":true,"duration_ms":5,"success":true,"operation":"o","component":"c","timestamp":"2026-11-01T00:00:00Z","event_id":"6f1c2a4e-2b9d-4c1e-9a57-1f0e5b7d9c11","bytes_measured":null,"error_type":null,"http_status":null}"#,
        #"{"event_id":"6f1c2a4e-2b9d-4c1e-9a57-1f0e5b7d9c11","timestamp":"2026-11-01T00:00:00.1234567Z","component":"c","operation":"o","success":true,"duration_ms":2592000000,"proxied":true,"attempt":null,"estimated_bytes":2000000000000}"#,
    ]

    /// Lines the fast path reads itself: white space, field order, nulls, defaults, upper-case ids.
    @Test(arguments: plainLines)
    func readsPlainLinesAsTheGeneralParserDoes(line: String) throws {
        let fast = try #require(Self.fast(line))
        #expect(fast == Self.general(line))
    }

    static let unusualLines: [String] = [
        edit(#""job-1""#, #""job\u002d1""#),  // escape
        edit(#""some-channel""#, #""chaîne ✓""#),  // unicode
        edit(#""duration_ms":1234"#, #""duration_ms":1.234e3"#),  // exponent
        edit(#""request_bytes":900"#, #""request_bytes":9E2"#),
        edit(#""attempt":2"#, #""attempt":2,"shard":"eu-1""#),  // extra field
        edit(#""attempt":2"#, #""attempt":2,"tags":{"a":[1,null]}"#),
        edit(#""event_id""#, #""event\u005fid""#),  // escaped key
        edit(#""timestamp":"2026-11-01T00:00:00.250Z""#, #""timestamp":"2026-11-01""#),
    ]

    /// Lines off the plain shape go to the general parser, which reads them (or rejects them).
    @Test(arguments: unusualLines)
    func leavesUnusualLinesToTheGeneralParser(line: String) {
        #expect(Self.fast(line) == nil)
        #expect(Self.general(line) != nil)
    }

    static let badLines: [String] = [
        edit(#""attempt":2"#, #""attempt":2,"attempt":3"#),  // duplicate key
        edit(#""http_status":429"#, #""http_status":1000"#),
        edit(#""request_bytes":900"#, #""request_bytes":1000000000001"#),
        edit(#""duration_ms":1234"#, #""duration_ms":01234"#),
        edit(#""duration_ms":1234"#, #""duration_ms":null"#),
        edit(#""attempt":2"#, #""attempt":0"#),
        edit(#""success":false"#, #""success":null"#),
        edit(#""proxied":true"#, #""proxied":"true""#),
        edit(#""error_type":"rate_limited""#, #""error_type":"rate-limited""#),
        edit(#""component":"transcribe-worker""#, #""component":"""#),
        edit("transcribe-worker", Self.longLabel),
        edit(#""6f1c2a4e-2b9d-4c1e-9a57-1f0e5b7d9c11""#, #""6f1c2a4e-2b9d-4c1e-9a57-1f0e5b7d9c1""#),
        edit(#""2026-11-01T00:00:00.250Z""#, #""2026-02-30T00:00:00Z""#),
        plain + "x",
        String(plain.dropLast()),
        edit(#""job-1""#, "\"job\t1\""),
        "{}",
    ]

    /// Bad lines are never read by the fast path; the general parser gives their error.
    @Test(arguments: badLines)
    func neverReadsABadLine(line: String) {
        #expect(Self.fast(line) == nil)
        #expect(Self.general(line) == nil)
    }

    @Test func sharesRepeatedLabels() throws {
        var parser = EventLineParser()
        let parsedFirst = parser.parse(Array(Self.plain.utf8))
        let parsedSecond = parser.parse(Array(Self.plain.utf8))
        let first = try #require(parsedFirst)
        let second = try #require(parsedSecond)
        #expect(first == second)
        var a = first.component, b = second.component
        let same = a.withUTF8 { x in b.withUTF8 { y in x.baseAddress == y.baseAddress } }
        #expect(same)
    }

    /// JSON Lines input mixing plain and unusual lines gives the events of the general parser, and
    /// a bad line still names its number.
    @Test func jsonLinesMixesBothPaths() throws {
        let unusual = Self.plain.replacingOccurrences(of: #""attempt":2"#, with: #""attempt":2,"shard":"eu-1""#)
            .replacingOccurrences(of: "9c11", with: "9c12")
        let text = [Self.plain, unusual, ""].joined(separator: "\n")
        let events = try JSONLines.parse(Array(text.utf8))
        let expected = [try #require(Self.general(Self.plain)), try #require(Self.general(unusual))]
        #expect(events == expected)
        let bad = [Self.plain, unusual, Self.plain.replacingOccurrences(of: "\"attempt\":2", with: "\"attempt\":-1")]
        #expect(throws: EventDecodingError.self) { try JSONLines.parse(Array(bad.joined(separator: "\n").utf8)) }
        do {
            _ = try JSONLines.parse(Array(bad.joined(separator: "\r\n").utf8))
            Issue.record("a bad line was accepted")
        } catch {
            #expect(error.line == 3)
            #expect(error.field == "attempt")
        }
    }

    /// Chunks large enough for both lanes: the events come in input order, and a bad line in the
    /// second half of a chunk still names its own line number.
    @Test func bothLanesKeepOrderAndLineNumbers() throws {
        let lines = (0..<3_000).map { index in
            Self.plain.replacingOccurrences(of: "9c11", with: String(format: "%04x", index))
                .replacingOccurrences(of: #""attempt":2"#, with: "\"attempt\":\(index % 7 + 1)")
        }
        let text = Array(lines.joined(separator: "\n").utf8)
        var reader = JSONLinesReader()
        try text.withUnsafeBytes { buffer in
            for start in stride(from: 0, to: buffer.count, by: 1 << 20) {
                try reader.consume(UnsafeRawBufferPointer(rebasing: buffer[start..<min(start + (1 << 20), buffer.count)]))
            }
        }
        let events = try reader.finish()
        #expect(events == lines.map { Self.general($0) })
        var bad = lines
        bad[2_990] = bad[2_990].replacingOccurrences(of: "\"proxied\":true", with: "\"proxied\":1")
        do {
            _ = try JSONLines.parse(Array(bad.joined(separator: "\n").utf8))
            Issue.record("a bad line was accepted")
        } catch {
            #expect(error.line == 2_991)
            #expect(error.field == "proxied")
        }
    }

    /// The string scan tests eight bytes at a time: a quote, a backslash, a control byte or a
    /// non-ASCII byte at any position of a string of any length still takes the line off the
    /// fast path.
    @Test func everyStopByteAtEveryPositionOfAStringIsSeen() {
        for length in 1...20 {
            let name = String(repeating: "c", count: length)
            let line = Self.edit(#""some-channel""#, "\"\(name)\"")
            #expect(Self.fast(line)?.channelName == name)
            for position in 0..<length {
                for stop in ["\"", #"\""#, "\\n", "\t", "é"] {
                    var characters = Array(name)
                    characters.replaceSubrange(position...position, with: stop)
                    let edited = Self.edit(#""some-channel""#, "\"\(String(characters))\"")
                    #expect(Self.fast(edited) == nil, "a string off the plain shape goes to the general parser: \(edited)")
                }
            }
        }
    }
}
