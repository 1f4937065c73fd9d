import Foundation
import Ledger
import Testing
import TestSupport

@testable import Reporting

/// `proxy-ledger report` as finance runs it, without --period.
struct ReportCommandTests {
    /// One event stamped ten years ahead (a producer with a wrong clock) must not pick the period.
    @Test func aFutureEventDoesNotPickTheDefaultPeriod() throws {
        var fixture = try ReportFixture("future-event")
        let now = LedgerTimestamp.now
        let tenYears: Int64 = 10 * 365 * 86_400_000_000
        try fixture.add([
            event(now.rfc3339, bytes: 1_000),
            event(LedgerTimestamp(microseconds: now.microseconds + tenYears).rfc3339, bytes: 5),
        ])
        fixture.close()
        let result = try BuiltExecutable.run([
            "report", "--db", fixture.scratch.file("projections.sqlite"), "--rate-card",
            repositoryRoot + "/Fixtures/rate-card.example.json", "--format", "json", "--out", "-",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("lies in the future; reporting the period containing now"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let period = try #require(json["period"] as? [String: Any])
        let start = try #require((period["start"] as? String).flatMap(LedgerTimestamp.init(rfc3339:)))
        let end = try #require((period["end"] as? String).flatMap(LedgerTimestamp.init(rfc3339:)))
        #expect(start.microseconds <= now.microseconds && now.microseconds < end.microseconds)
        let totals = try #require(json["totals"] as? [String: Any])
        #expect((totals["requests"] as? NSNumber)?.intValue == 1, "the event of now is counted, the future one is not")
    }

    @Test func aBadPeriodIsAUsageError() throws {
        var fixture = try ReportFixture("bad-period")
        try fixture.add([event("2026-11-02T03:00:00Z", bytes: 1_000)])
        fixture.close()
        let result = try BuiltExecutable.run([
            "report", "--db", fixture.scratch.file("projections.sqlite"), "--rate-card",
            repositoryRoot + "/Fixtures/rate-card.example.json", "--period", "2026-13", "--out", "-",
        ])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--period must be a month YYYY-MM"))
    }

    @Test func theOutputFormatFollowsTheExtensionOfOut() throws {
        var fixture = try ReportFixture("out-extension")
        try fixture.add([event("2026-11-02T03:00:00Z", bytes: 1_000)])
        fixture.close()
        let card = repositoryRoot + "/Fixtures/rate-card.example.json"
        let db = fixture.scratch.file("projections.sqlite")
        for (name, start) in [("r.md", "# Proxy cost"), ("r.csv", "section,"), ("r.json", "{"), ("r.HTML", "<!DOCTYPE html>")] {
            let path = fixture.scratch.file(name)
            let result = try BuiltExecutable.run(["report", "--db", db, "--rate-card", card, "--period", "2026-11", "--out", path])
            #expect(result.status == 0, "\(name): \(result.stderr)")
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.hasPrefix(start), "\(name) starts with \(text.prefix(40))")
        }
        let clash = try BuiltExecutable.run([
            "report", "--db", db, "--rate-card", card, "--period", "2026-11", "--out", fixture.scratch.file("r.md"), "--format", "csv",
        ])
        #expect(clash.status == 64)
        #expect(clash.stderr.contains("names a .md file but --format is csv"))
    }

    @Test func aPeriodWithoutUsageSaysSo() throws {
        var fixture = try ReportFixture("empty-period")
        try fixture.add([event("2026-11-02T03:00:00Z", bytes: 1_000)])
        fixture.close()
        let result = try BuiltExecutable.run([
            "report", "--db", fixture.scratch.file("projections.sqlite"), "--rate-card",
            repositoryRoot + "/Fixtures/rate-card.example.json", "--period", "2026-08", "--format", "md", "--out", "-",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("note: no usage recorded in 2026-08"))
        #expect(result.stdout.contains("No usage recorded: the projection holds no events in this period"))
    }
}
