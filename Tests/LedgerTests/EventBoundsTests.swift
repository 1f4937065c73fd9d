import Foundation
import TestSupport
import Testing

@testable import Ledger

/// Absurd numbers are refused before they reach the immutable ledger, and the codec never traps.
@Suite struct EventBoundsTests {
    /// A valid line with `field` set to the JSON text `value`.
    static func line(_ field: String, _ value: String, id: String = "6f1c2a4e-2b9d-4c1e-9a57-1f0e5b7d9c11") -> String {
        var fields = [
            "event_id": "\"\(id)\"", "timestamp": "\"2026-11-01T10:00:00Z\"", "component": "\"c\"",
            "operation": "\"o\"", "success": "true", "request_bytes": "900", "response_bytes": "10",
            "estimated_bytes": "910", "bytes_measured": "true", "duration_ms": "5", "proxied": "true",
            "attempt": "1", "http_status": "200",
        ]
        fields[field] = value
        return "{" + fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
    }

    @Test(arguments: [
        ("request_bytes", "1000000000001"),
        ("request_bytes", "9223372036854775807"),
        ("response_bytes", "9223372036854775000"),
        ("response_bytes", "-1"),
        ("estimated_bytes", "2000000000001"),
        ("duration_ms", "2592000001"),
        ("duration_ms", "9223372036854775807"),
        ("attempt", "1000001"),
        ("attempt", "0"),
        ("http_status", "1000"),
    ])
    func rejectsOutOfRangeWithLineAndField(field: String, value: String) throws {
        let input =
            Self.line("component", "\"c\"") + "\n" + Self.line(field, value, id: "7f1c2a4e-2b9d-4c1e-9a57-1f0e5b7d9c11")
        let error = try #require(throws: EventDecodingError.self) { try JSONLines.parse(Array(input.utf8)) }
        #expect(error.line == 2)
        #expect(error.field == field)
        #expect(error.description.hasPrefix("line 2: field \"\(field)\": must be an integer in "))
    }

    @Test func acceptsTheLargestAllowedValues() throws {
        let estimated = try ProxyRequestEvent(jsonLine: Array(Self.line("estimated_bytes", "2000000000000").utf8))
        #expect(estimated.estimatedBytes == 2_000_000_000_000, "both directions at their maximum")
        let bytes = try ProxyRequestEvent(jsonLine: Array(Self.line("request_bytes", "1000000000000").utf8))
        #expect(bytes.requestBytes == 1_000_000_000_000)
        let duration = try ProxyRequestEvent(jsonLine: Array(Self.line("duration_ms", "2592000000").utf8))
        #expect(duration.durationMS == 2_592_000_000)
        let attempt = try ProxyRequestEvent(jsonLine: Array(Self.line("attempt", "1000000").utf8))
        #expect(attempt.attempt == 1_000_000)
        #expect(try ProxyRequestEvent(jsonLine: Array(Self.line("response_bytes", "1e3").utf8)).responseBytes == 1_000)
    }

    @Test func aBatchWithOneBadLineAppendsNothing() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let scratch = try TemporaryDirectory("bounds-cli")
        let good: [UInt8] = EventFactory.events(2).flatMap { $0.jsonLine() + [0x0A] }
        // The tester's poison: twice a byte count near Int64.max (each passed `≥ 0` before).
        let poison = Self.line("request_bytes", "9223372036854775000", id: "41111111-1111-4111-8111-111111111111")
        let input: [UInt8] = good + Array((poison + "\n").utf8)
        let result = try BuiltExecutable.run(["append", "--ledger", scratch.path], stdin: input)
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("line 3: field \"request_bytes\": must be an integer in 0...1000000000000 (bytes, at most 1 TB)"))
        #expect(result.stderr.contains("nothing was appended"))
        let catted = try BuiltExecutable.run(["cat", "--ledger", scratch.path])
        #expect(catted.status != 0 && catted.stdout.isEmpty, "nothing was created: the folder is still not a ledger")
        #expect(catted.stderr.contains("is not a ledger"))
    }

    @Test func theWriterRefusesAnOutOfRangeEventBuiltInCode() async throws {
        let scratch = try TemporaryDirectory("bounds-writer")
        let writer = try LedgerWriter.open(LedgerConfiguration(directory: scratch.path))
        var events = EventFactory.events(3)
        events[1].requestBytes = Int64.max
        let error = await #expect(throws: LedgerError.self) { try await writer.append(events) }
        #expect(error?.code == .invalidEvent)
        #expect(error?.message.contains(events[1].eventID.uuidString.lowercased()) == true)
        #expect(error?.message.contains("request_bytes") == true)
        #expect(writer.nextSequence == 0)
        // The writer is still usable, and the valid events go in once the bad one is fixed.
        events[1].requestBytes = 1
        #expect(try await writer.append(events).map(\.position.sequence) == [0, 1, 2])
        try await writer.close()
        var stored: [ProxyRequestEvent] = []
        try LedgerReader(directory: scratch.path).scanAll { stored += $0.map(\.event) }
        #expect(stored == events)
    }

    @Test func encodingInt64MaxBytesRoundTripsWithoutTrapping() throws {
        var event = EventFactory.events(1)[0]
        event.requestBytes = Int64.max
        event.responseBytes = Int64.max
        event.estimatedBytes = Int64.max  // the request + response check must not overflow
        let decoded = try BatchCodec.decode(try BatchCodec.encode([event]))
        #expect(decoded.events == [event])
    }

    @Test(arguments: ["request_bytes", "duration_ms", "attempt", "http_status", "estimated_bytes"])
    func encodingANegativeCountThrowsNamingTheEvent(field: String) throws {
        var event = EventFactory.events(1)[0]
        switch field {
        case "request_bytes": event.requestBytes = -1
        case "duration_ms": event.durationMS = Int64.min
        case "attempt": event.attempt = -3
        case "http_status": event.httpStatus = -200
        default: event.estimatedBytes = -5
        }
        let error = try #require(throws: LedgerError.self) { try BatchCodec.encode([event]) }
        #expect(error.code == .invalidEvent)
        #expect(error.message.contains(event.eventID.uuidString.lowercased()))
        #expect(error.message.contains("\"\(field)\""))
    }

    @Test func decodingACorruptCountAboveInt64MaxThrows() throws {
        var event = EventFactory.events(1)[0]
        event.requestBytes = Int64.max
        event.estimatedBytes = 7
        var payload = try BatchCodec.encode([event])
        // request_bytes is stored as Int64.max + 1 = 2^63: nine 0x80 bytes then 0x01. Make it 2^64 - 1.
        let varint: [UInt8] = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]
        let start = try #require(payload.indices.first { Array(payload[$0..<min($0 + 10, payload.count)]) == varint })
        payload.replaceSubrange(
            start..<(start + 10), with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: (any Error).self) { try BatchCodec.decode(payload) }
    }
}
