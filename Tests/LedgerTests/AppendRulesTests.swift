import Foundation
import Testing
import TestSupport

@testable import Ledger

/// The rules of `append` beyond the schema's types (docs/events.md, "Rules at append"), on the
/// fast line parser's path and on the general parser's alike.
@Suite struct AppendRulesTests {
    static let base = #""event_id":"0b6c3f0e-7a52-4a8e-9d0e-4f4f7f1c2d3e","timestamp":"2026-11-30T10:00:00Z","component":"c","operation":"o","success":true,"duration_ms":5,"proxied":true"#

    static func parse(_ fields: String, rules: AppendRules = AppendRules()) throws(EventDecodingError) -> ProxyRequestEvent? {
        let good = "{" + base.replacingOccurrences(of: "0b6c3f0e-7a52", with: "1b6c3f0e-7a52") + "}\n"
        return try JSONLines.parse(Array((good + "{" + base + fields + "}\n").utf8), rules: rules).last
    }

    static func error(_ fields: String, rules: AppendRules = AppendRules()) -> EventDecodingError? {
        do throws(EventDecodingError) {
            _ = try parse(fields, rules: rules)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [",\"reqest_bytes\":100", ",\"Request_Bytes\":100", ",\"sucess\":false", ",\"estimated_byte\":3"])
    func aNearMissFieldNameIsRefusedWithItsLine(fields: String) throws {
        let refused = try #require(Self.error(fields))
        #expect(refused.line == 2 && refused.reason.contains("--allow-unknown-fields"), "\(refused)")
        let kept = try Self.parse(fields, rules: AppendRules(allowUnknownFields: true))
        #expect(kept?.extra.count == 1)
    }

    /// A misspelt `request_bytes` also breaks the measured sum; the error names the misspelling,
    /// which explains both.
    @Test func aNearMissIsReportedBeforeTheSumItBreaks() throws {
        let refused = try #require(Self.error(#","reqest_bytes":100,"response_bytes":50,"estimated_bytes":150,"bytes_measured":true"#))
        #expect(refused.field == "reqest_bytes" && refused.reason.contains("close to \"request_bytes\""), "\(refused)")
    }

    @Test func aFieldFarFromEverySchemaNameIsKept() throws {
        let event = try Self.parse(#","target_host":"www.youtube.com:443","rule":"x""#)
        #expect(event?.extra["target_host"] == .string("www.youtube.com:443") && event?.extra["rule"] == .string("x"))
    }

    @Test(arguments: [("video_id", 64), ("job_id", 128), ("correlation_id", 128), ("channel_name", 256)])
    func aTextOverItsLimitIsRefused(field: String, limit: Int) throws {
        #expect(Self.error(",\"\(field)\":\"\(String(repeating: "é", count: limit))\"") == nil, "\(limit) characters are fine")
        let refused = try #require(Self.error(",\"\(field)\":\"\(String(repeating: "v", count: limit + 1))\""))
        #expect(refused.field == field && refused.line == 2 && refused.reason.contains("at most \(limit) characters"))
    }

    @Test func measuredBytesAreTheBilledBytes() throws {
        let filled = try Self.parse(#","bytes_measured":true,"request_bytes":964,"response_bytes":1000"#)
        #expect(filled?.estimatedBytes == 1_964, "a null estimated_bytes with measured bytes bills their sum")
        let equal = try Self.parse(#","bytes_measured":true,"request_bytes":964,"response_bytes":1000,"estimated_bytes":1964"#)
        #expect(equal?.estimatedBytes == 1_964)
        let refused = try #require(Self.error(#","bytes_measured":true,"request_bytes":964,"response_bytes":1000,"estimated_bytes":0"#))
        #expect(refused.field == "estimated_bytes" && refused.reason.contains("(1964)"))
        let estimate = try Self.parse(#","bytes_measured":false,"estimated_bytes":5000"#)
        #expect(estimate?.estimatedBytes == 5_000, "an unmeasured estimate is the producer's")
    }

    @Test func aDuplicateKeyIsRefused() throws {
        let refused = try #require(Self.error(#","request_bytes":100,"request_bytes":-7"#))
        #expect(refused.line == 2, "\(refused)")
    }

    @Test func theCommandTakesAllowUnknownFields() throws {
        let scratch = try TemporaryDirectory("cli-unknown")
        let line = Array(("{" + Self.base + #","reqest_bytes":100}"# + "\n").utf8)
        let refused = try BuiltExecutable.run(["append", "--ledger", scratch.path], stdin: line)
        #expect(refused.status == 65 && refused.stderr.contains("line 1") && refused.stderr.contains("reqest_bytes"), "\(refused.stderr)")
        let kept = try BuiltExecutable.run(["append", "--ledger", scratch.path, "--allow-unknown-fields"], stdin: line)
        #expect(kept.status == 0, "\(kept.stderr)")
    }
}
