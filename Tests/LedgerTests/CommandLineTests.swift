import Foundation
import Testing
import TestSupport

@testable import Ledger

/// `proxy-ledger append`, `cat` and `verify` as a user runs them.
@Suite struct CommandLineTests {
    func lines(_ events: [ProxyRequestEvent]) -> [UInt8] {
        events.flatMap { $0.jsonLine() + [0x0A] }
    }

    @Test func appendCatRoundTripAndDuplicates() throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let scratch = try TemporaryDirectory("cli")
        let events = EventFactory.events(30)
        let appended = try BuiltExecutable.run(["append", "--ledger", scratch.path, "--format", "json"], stdin: lines(events))
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(appended.stdout.contains("\"appended\" : 30"))
        let again = try BuiltExecutable.run(["append", "--ledger", scratch.path], stdin: lines(Array(events[..<5])))
        #expect(again.stdout.contains("appended 0 events (5 duplicates)"))

        let catted = try BuiltExecutable.run(["cat", "--ledger", scratch.path])
        #expect(catted.status == 0)
        #expect(catted.stdout == String(decoding: lines(events), as: UTF8.self))

        let window = try BuiltExecutable.run([
            "cat", "--ledger", scratch.path, "--since", events[10].timestamp.rfc3339, "--until", events[20].timestamp.rfc3339,
        ])
        #expect(window.stdout.split(separator: "\n").count == 10)

        let verified = try BuiltExecutable.run(["verify", "--ledger", scratch.path])
        #expect(verified.status == 0)
        #expect(verified.stdout.hasPrefix("ok: 1 partitions, 1 segments"))
    }

    @Test func catWritesOneJSONArrayWithFormatJSON() throws {
        let scratch = try TemporaryDirectory("cli-json")
        let events = EventFactory.events(3)
        _ = try BuiltExecutable.run(["append", "--ledger", scratch.path], stdin: lines(events))
        let catted = try BuiltExecutable.run(["cat", "--ledger", scratch.path, "--format", "json"])
        #expect(catted.status == 0, "\(catted.stderr)")
        let array = try JSONSerialization.jsonObject(with: Data(catted.stdout.utf8)) as? [[String: Any]]
        #expect(array?.count == 3)
        #expect(array?.first?["event_id"] as? String == events[0].eventID.uuidString.lowercased())
        let empty = try TemporaryDirectory("cli-json-empty")
        _ = try BuiltExecutable.run(["append", "--ledger", empty.path], stdin: [])
        let none = try BuiltExecutable.run(["cat", "--ledger", empty.path, "--format", "json", "--until", "2000-01-02"])
        #expect(none.stdout == "[]\n", "\(none.stderr)")
    }

    @Test func versionIsPrinted() throws {
        let version = try BuiltExecutable.run(["--version"])
        #expect(version.status == 0 && version.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, "\(version.stdout)")
    }

    @Test func badLineRejectsTheWholeBatchWithLineAndField() throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let scratch = try TemporaryDirectory("cli-bad")
        var input = lines(EventFactory.events(2))
        input += Array(#"{"event_id":"0b6c3f0e-7a52-4a8e-9d0e-4f4f7f1c2d3e","timestamp":"last tuesday"}"#.utf8) + [0x0A]
        input += lines(EventFactory.events(1))
        let result = try BuiltExecutable.run(["append", "--ledger", scratch.path], stdin: input)
        #expect(result.status == 65)
        #expect(result.stderr.contains("line 3"))
        #expect(result.stderr.contains("\"timestamp\""))
        #expect(result.stderr.contains("nothing was appended"))
        let catted = try BuiltExecutable.run(["cat", "--ledger", scratch.path])
        #expect(catted.stdout.isEmpty)
    }

    @Test func verifyExitsNonZeroWithSegmentAndOffset() throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let scratch = try TemporaryDirectory("cli-verify")
        _ = try BuiltExecutable.run(["append", "--ledger", scratch.path], stdin: lines(EventFactory.events(10)))
        let segment = scratch.path + "/partition-0/00000000000000000000.seg"
        var bytes = try POSIXFile.readAll(segment)
        bytes[60] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: segment))
        let result = try BuiltExecutable.run(["verify", "--ledger", scratch.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains(segment))
        #expect(result.stderr.contains("byte offset 0"))
    }

    @Test func badTimeOptionsAreUsageErrorsOfTheirCommand() throws {
        let scratch = try TemporaryDirectory("cli-times")
        let reversed = try BuiltExecutable.run(["cat", "--ledger", scratch.path, "--since", "2026-12-01", "--until", "2026-11-01"])
        #expect(reversed.status == 64)
        #expect(reversed.stderr.contains("--since must be before --until"))
        #expect(reversed.stderr.contains("Usage: proxy-ledger cat"))
        let garbled = try BuiltExecutable.run(["summary", "--db", scratch.file("p.sqlite"), "--since", "bad"])
        #expect(garbled.status == 64)
        #expect(garbled.stderr.contains("Usage: proxy-ledger summary"))
    }

    @Test func aNegativeValueAfterASpaceGetsAHint() throws {
        let spaced = try BuiltExecutable.run(["reconcile", "--squid-log", "/dev/null", "--utc-offset", "-05:00"])
        #expect(spaced.status == 64)
        #expect(spaced.stderr.contains("Missing value for '--utc-offset <offset>'"))
        #expect(spaced.stderr.contains("hint: a value that starts with '-' must be attached with '=': --utc-offset=-05:00"))
        let attached = try BuiltExecutable.run(["reconcile", "--squid-log", "/dev/null", "--utc-offset=-05:00"])
        #expect(!attached.stderr.contains("Missing value"), "\(attached.stderr)")
    }
}
