import Foundation
import Testing
import TestSupport

@testable import Ledger

/// The strict event-line parser (RFC 8259).
@Suite struct JSONParserTests {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func valuesEscapesAndNumbers() throws {
        #expect(try parse(#"{"a":[1,-0,1e3,1.5,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"]}"#)
            == .object(["a": .array([.integer(1), .integer(0), .integer(1_000), .number(1.5), .bool(true), .bool(false), .null,
                .string("x\"\\/\u{8}\u{C}\n\r\té😀")])]))
        #expect(try parse(" \t\r\n 9223372036854775807 \n") == .integer(Int64.max))
        #expect(try parse("9223372036854775808") == .number(9_223_372_036_854_775_808))
        #expect(try parse(#""plain é""#) == .string("plain é"))
    }

    @Test(arguments: [
        #"{"a":1,"a":2}"#, "{", #"{"a"}"#, #"{"a":1,}"#, "[1,]", "01", "1.", "1e", "-", "+1", ".5", "tru", "nul",
        #""\x""#, #""\u12""#, #""\ud800""#, #""\udc00x""#, "\"a\u{1}\"", #"{"a":1} x"#, "", "[" + String(repeating: "[", count: 70) + "]",
    ])
    func malformedTextIsRejected(text: String) {
        #expect(throws: (any Error).self) { try parse(text) }
    }

    @Test func invalidUTF8IsRejected() {
        #expect(throws: (any Error).self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func aDuplicateKeyInAnEventNamesItAndTheLine() throws {
        let line = #"{"event_id":"0b6c3f0e-7a52-4a8e-9d0e-4f4f7f1c2d3e","timestamp":"2026-11-01T00:00:00Z","component":"c","#
            + #""operation":"o","success":true,"duration_ms":1,"proxied":true,"request_bytes":100,"request_bytes":-7}"#
        let error = #expect(throws: EventDecodingError.self) { try JSONLines.parse(Array((line + "\n").utf8)) }
        #expect(error?.line == 1)
        #expect(error?.description.contains("field \"request_bytes\": is given twice") == true)
    }

    @Test func eventsRoundTripThroughTheParser() throws {
        var events = EventFactory.events(50)
        events[3].extra = ["note": .string("ü \"quoted\""), "nested": .object(["n": .integer(-4), "list": .array([.null, .bool(true)])])]
        let lines: [UInt8] = events.flatMap { $0.jsonLine() + [UInt8(0x0A)] }
        #expect(try JSONLines.parse(lines) == events)
    }

    @Test(arguments: [1, 7, 333, 1 << 20])
    func chunkedInputGivesTheSameEventsAndLineNumbers(chunkSize: Int) throws {
        let events = EventFactory.events(40)
        var input: [UInt8] = events.flatMap { $0.jsonLine() + Array("\r\n".utf8) }
        input += Array("\n  \n".utf8) + events[0].jsonLine()  // blank lines, then a last line without a newline
        func feed(_ bytes: [UInt8]) throws -> [ProxyRequestEvent] {
            var reader = JSONLinesReader()
            for start in stride(from: 0, to: bytes.count, by: chunkSize) {
                try Array(bytes[start..<min(start + chunkSize, bytes.count)]).withUnsafeBytes { try reader.consume($0) }
            }
            return try reader.finish()
        }
        #expect(try feed(input) == events + [events[0]])
        var bad = input
        bad.replaceSubrange(0..<0, with: Array("\n{\"event_id\": 1}\n".utf8))
        let error = #expect(throws: EventDecodingError.self) { try feed(bad) }
        #expect(error?.line == 2)
    }

    /// The size hint only reserves room: any hint, right or wrong, gives the same events.
    @Test(arguments: [nil, 0, 1, 5_000, 35_000, 1 << 40])
    func theExpectedSizeIsOnlyAHint(expectedBytes: Int?) throws {
        let events = EventFactory.events(300)
        let input: [UInt8] = events.flatMap { $0.jsonLine() + [UInt8(0x0A)] }
        var reader = JSONLinesReader(rules: AppendRules(), expectedBytes: expectedBytes)
        for start in stride(from: 0, to: input.count, by: 4_096) {
            try Array(input[start..<min(start + 4_096, input.count)]).withUnsafeBytes { try reader.consume($0) }
        }
        #expect(try reader.finish() == events)
    }
}
