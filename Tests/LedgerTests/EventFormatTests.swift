import Foundation
import Testing

@testable import Ledger

@Suite struct TimestampTests {
    @Test func formatsUTCWithMicroseconds() {
        #expect(LedgerTimestamp(microseconds: 1_793_491_200_000_001).rfc3339 == "2026-11-01T00:00:00.000001Z")
        #expect(LedgerTimestamp(microseconds: 0).rfc3339 == "1970-01-01T00:00:00.000000Z")
        #expect(LedgerTimestamp(microseconds: -1).rfc3339 == "1969-12-31T23:59:59.999999Z")
    }

    @Test(arguments: [
        ("2026-11-01T00:00:00Z", Int64(1_793_491_200_000_000)),
        ("2026-11-01T01:00:00+01:00", 1_793_491_200_000_000),
        ("2026-10-31T19:00:00.5-05:00", 1_793_491_200_500_000),
        ("2026-11-01T00:00:00.1234567Z", 1_793_491_200_123_456),
        ("2026-11-01", 1_793_491_200_000_000),
        ("2024-02-29T12:00:00Z", 1_709_208_000_000_000),
    ])
    func parsesRFC3339(text: String, micros: Int64) {
        #expect(LedgerTimestamp(rfc3339: text)?.microseconds == micros)
    }

    @Test(arguments: ["2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-01T00:00:00", "yesterday",
                      "2026-11-01T24:00:00Z", "2026-11-01T00:00:00.Z", "2026-11-01T00:00:00+0100"])
    func rejectsMalformed(text: String) {
        #expect(LedgerTimestamp(rfc3339: text) == nil)
    }
}

@Suite struct EventJSONTests {
    let valid = #"{"event_id":"6f1c2a4e-2b9d-4c1e-9a57-1f0e5b7d9c11","timestamp":"2026-11-01T00:00:00.250Z","component":"transcribe-worker","operation":"subtitle-download","video_id":"dQw4w9WgXcQ","success":true,"http_status":200,"request_bytes":900,"response_bytes":250000,"estimated_bytes":250900,"bytes_measured":true,"duration_ms":1234,"proxied":true,"attempt":1,"shard":"eu-1"}"#

    @Test func roundTripsEveryFieldAndKeepsUnknownOnes() throws {
        let event = try ProxyRequestEvent(jsonLine: Array(valid.utf8))
        #expect(event.videoID == "dQw4w9WgXcQ")
        #expect(event.timestamp.microseconds == 1_793_491_200_250_000)
        #expect(event.extra == ["shard": .string("eu-1")])
        #expect(event.channelName == nil)
        let again = try ProxyRequestEvent(jsonLine: event.jsonLine())
        #expect(again == event)
        let text = String(decoding: event.jsonLine(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"event_id":"6f1c2a4e-2b9d-4c1e-9a57-1f0e5b7d9c11","timestamp":"2026-11-01T00:00:00.250000Z""#))
        #expect(text.hasSuffix(#""attempt":1,"shard":"eu-1"}"#))
    }

    @Test(arguments: [
        ("event_id", #""event_id":"not-a-uuid""#),
        ("timestamp", #""timestamp":"2026-11-01 noon""#),
        ("success", #""success":"yes""#),
        ("error_type", #""error_type":"exploded""#),
        ("request_bytes", #""request_bytes":-5"#),
        ("duration_ms", #""duration_ms":1.5"#),
        ("component", #""component":"""#),
        ("attempt", #""attempt":0"#),
    ])
    func namesTheFieldAtFault(field: String, replacement: String) throws {
        let key = "\"\(field)\":"
        var text = valid
        if let range = text.range(of: key) {
            let end = text[range.upperBound...].firstIndex(where: { $0 == "," || $0 == "}" }) ?? text.endIndex
            text.replaceSubrange(range.lowerBound..<end, with: replacement)
        } else {
            text = text.replacingOccurrences(of: "{", with: "{" + replacement + ",", options: [], range: text.startIndex..<text.index(after: text.startIndex))
        }
        let error = #expect(throws: EventDecodingError.self) { try ProxyRequestEvent(jsonLine: Array(text.utf8)) }
        #expect(error?.field == field)
    }

    @Test func jsonLinesReportsTheLineNumberAndReturnsNothing() throws {
        let input = valid + "\n\n" + valid.replacingOccurrences(of: "6f1c", with: "7f1c") + "\n{\"event_id\": 5}\n"
        let error = #expect(throws: EventDecodingError.self) { try JSONLines.parse(Array(input.utf8)) }
        #expect(error?.line == 4)
        #expect(error?.field == "event_id")
        #expect(try JSONLines.parse(Array((valid + "\r\n   \n").utf8)).count == 1)
    }

    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func interruptedIsAnErrorTypeWithTheNextOnDiskCode() throws {
        let line = valid.replacingOccurrences(of: #""success":true"#, with: #""success":false,"error_type":"interrupted""#)
        let event = try ProxyRequestEvent(jsonLine: Array(line.utf8))
        #expect(event.errorType == .interrupted && !event.success)
        #expect(String(decoding: event.jsonLine(), as: UTF8.self).contains(#""error_type":"interrupted""#))
        #expect(try BatchCodec.decode(BatchCodec.encode([event])).events == [event])
        // Codes are append-only: the ten older types keep 1...10, `interrupted` is 11.
        #expect(BatchCodec.errorTypeCodes.firstIndex(of: .interrupted) == 10)
        #expect(BatchCodec.errorTypeCodes.firstIndex(of: .unknown) == 9)
        #expect(Set(BatchCodec.errorTypeCodes) == Set(ProxyErrorType.allCases))
    }

    @Test func batchCodecRoundTripsAllShapes() throws {
        var events = (0..<50).map { index in
            ProxyRequestEvent(
                timestamp: LedgerTimestamp(microseconds: 1_000_000 * Int64(50 - index)),  // decreasing times
                component: "c\(index % 3)", operation: "op", videoID: index % 2 == 0 ? nil : "v\(index)",
                channelName: index % 4 == 0 ? "@ch\(index)" : nil,
                jobID: index % 3 == 0 ? UUID().uuidString.lowercased() : (index % 3 == 1 ? "JOB-\(index)" : nil),
                correlationID: UUID().uuidString,  // upper case: kept verbatim as text
                success: index % 2 == 0, errorType: index % 2 == 0 ? nil : ProxyErrorType.allCases[index % 10],
                httpStatus: index % 5 == 0 ? nil : 200 + index, requestBytes: index % 6 == 0 ? nil : Int64(index),
                responseBytes: Int64(index * 1000), estimatedBytes: index % 7 == 0 ? 12345 : Int64(index * 1001),
                bytesMeasured: index % 2 == 1, durationMS: Int64(index), proxied: index % 3 != 0, attempt: 1 + index % 3,
                extra: index % 8 == 0 ? ["nested": .object(["a": .array([.integer(1), .number(2.5), .null, .bool(false)])])] : [:])
        }
        events[1].extra = ["emoji": .string("🎬 \"quoted\"\n")]
        let decoded = try BatchCodec.decode(BatchCodec.encode(events))
        #expect(decoded.schemaVersion == 1)
        #expect(decoded.events == events)
    }
}

/// Every error type has its on-disk code: a type without one would be dropped from the frame.
@Suite struct ErrorTypeCodeTests {
    @Test func everyErrorTypeRoundTripsThroughAFrame() throws {
        #expect(Set(BatchCodec.errorTypeCodes) == Set(ProxyErrorType.allCases))
        #expect(BatchCodec.errorTypeCodes.count == ProxyErrorType.allCases.count, "no code is used twice")
        let events = ProxyErrorType.allCases.map { type in
            ProxyRequestEvent(
                timestamp: LedgerTimestamp(microseconds: 1_793_491_200_000_000), component: "c", operation: "o", success: false,
                errorType: type, durationMS: 1, proxied: true)
        }
        let decoded = try BatchCodec.decode(BatchCodec.encode(events)).events
        #expect(decoded.map(\.errorType) == events.map(\.errorType))
    }
}

/// The append path's UUID parser and per-column label tables (BatchEncoder).
@Suite struct FrameEncodingTests {
    @Test func uuidTextParsesEitherCaseAndRejectsEveryBadDigit() throws {
        let uuid = UUID()
        let lower = UUIDText.lowercase(uuid)
        #expect(UUIDText.parse(lower, lowercaseOnly: true) == uuid)
        #expect(UUIDText.parse(lower.uppercased()) == uuid)
        #expect(UUIDText.parse(lower.uppercased(), lowercaseOnly: true) == nil, "upper case is kept verbatim as text")
        for position in 0..<36 where ![8, 13, 18, 23].contains(position) {
            for bad in ["g", "-", " ", "G", "\u{7F}"] {
                var bytes = Array(lower.utf8)
                bytes[position] = Array(bad.utf8)[0]
                #expect(UUIDText.parse(String(decoding: bytes, as: UTF8.self)) == nil, "\(bad) at \(position)")
            }
        }
        #expect(UUIDText.parse(lower.replacingOccurrences(of: "-", with: "x")) == nil)
        #expect(UUIDText.parse(String(lower.dropLast())) == nil)
    }

    @Test func manyChannelsAndALabelSharedByColumnsRoundTrip() throws {
        let events = (0..<200).map { (index: Int) -> ProxyRequestEvent in
            let component: String = index % 2 == 0 ? "shared" : "worker"
            let operation: String = index % 3 == 0 ? "shared" : "op\(index % 20)"
            let channel: String = index % 5 == 0 ? "shared" : "@channel-\(index % 40)"
            return ProxyRequestEvent(
                timestamp: LedgerTimestamp(microseconds: 1_793_491_200_000_000 + Int64(index)), component: component,
                operation: operation, channelName: channel, success: true, durationMS: 1, proxied: true)
        }
        #expect(try BatchCodec.decode(BatchCodec.encode(events)).events == events)
    }
}
