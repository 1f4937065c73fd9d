import Foundation
import Ledger
import Reporting
import Testing

/// The report as a finance reader reads it: tiers, cost per transcript, what jobs were for, how
/// to reconcile, and the method kept to a footnote.
@Suite struct FinanceReadingTests {
    /// The November 2026 report, closed, of `events` priced at 1.00 USD per GB in UTC.
    private func novemberReport(_ label: String, _ events: [ProxyRequestEvent]) throws -> FinanceReport {
        var fixture = try ReportFixture(label)
        defer { fixture.close() }
        try fixture.add(events)
        let cards = try schedule(card(zone: "UTC"))
        return try fixture.report(
            cards, try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod), asOf: "2026-12-01T00:00:00Z")
    }

    private func exampleSchedule() throws -> RateCardSchedule {
        try RateCardSchedule.load(path: repositoryRoot + "/Fixtures/rate-card.example.json")
    }

    @Test func theRateCardsTiersAndAPriceChangeInsideThePeriodAreShown() throws {
        var fixture = try ReportFixture("rate-card-section")
        defer { fixture.close() }
        try fixture.add([event("2026-11-02T12:00:00Z", bytes: 1_000_000)])
        let schedule = try exampleSchedule()
        let november = try fixture.report(
            schedule, try ReportPeriod.billingPeriod(month: "2026-11", rule: schedule.billingPeriod), asOf: "2026-12-01T05:00:00Z")
        #expect(november.rateCards.map(\.effectiveFrom) == schedule.cards.map(\.effectiveFrom))
        let markdown = ReportRenderer.render(november, as: .md)
        #expect(markdown.contains("## Rate card"))
        #expect(markdown.contains("**From 2026-11-15T00:00:00-05:00 (price change):** plan fee 175.00 USD, 50 GB included"))
        #expect(markdown.contains("| 0 to 250 GB | 3.25 USD per GB |"))
        #expect(markdown.contains("| above 1000 GB | 2.50 USD per GB |"))
        let html = ReportRenderer.render(november, as: .html)
        #expect(html.contains("<section id=\"rate-card\">") && html.contains("3.50 USD per GB"))

        let october = try fixture.report(
            schedule, try ReportPeriod.billingPeriod(month: "2026-10", rule: schedule.billingPeriod), asOf: "2026-12-01T05:00:00Z")
        #expect(october.rateCards.count == 1)
        #expect(!ReportRenderer.render(october, as: .md).contains("price change"))
    }

    @Test func costPerSuccessfulTranscriptSitsBesideTheWaste() throws {
        let report = try novemberReport("per-transcript", [
            event("2026-11-02T12:00:00Z", bytes: 1_000_000_000), event("2026-11-02T12:01:00Z", bytes: 1_000_000_000),
            event("2026-11-02T12:02:00Z", bytes: 1_000_000_000, success: false),
            event("2026-11-02T12:03:00Z", bytes: 1_000_000_000, operation: "channel-listing"),
        ])
        #expect(report.totals.successfulTranscripts == 2)
        #expect(report.totals.costPerTranscript.map(exact) == "2")  // 4 GB at 1.00 ÷ 2 transcripts
        #expect(money(report.totals.wastedCost) == "1.00")
        let markdown = ReportRenderer.render(report, as: .md)
        #expect(markdown.contains("| Wasted on failed requests (USD) | 1.00 |\n| Cost per successful transcript (USD), 2 transcripts | 2.0000 |"))
        #expect(ReportRenderer.render(report, as: .json).contains(#""cost_per_transcript": "2.000000""#))
    }

    @Test func topJobsSayWhatTheyWereFor() throws {
        let report = try novemberReport("job-subjects", [
            event("2026-11-02T12:00:00Z", bytes: 5_000, job: "j-video", video: "dQw4w9WgXcQ"),
            event("2026-11-02T12:10:00Z", bytes: 4_000, operation: "channel-listing", job: "j-channel", channel: "@lab"),
            event("2026-11-02T12:20:00Z", bytes: 3_000, job: "j-nothing"),
        ])
        #expect(report.topJobs.map(\.subject) == ["video dQw4w9WgXcQ", "channel @lab", nil, nil])
        #expect(ReportRenderer.render(report, as: .md).contains("| j-video (video dQw4w9WgXcQ) | 1 | 5,000 |"))
        #expect(ReportRenderer.render(report, as: .json).contains(#""subject": "channel @lab""#))
    }

    @Test func withoutVendorFiguresTheReportSaysHowToImportThem() throws {
        let report = try novemberReport("no-vendor", [event("2026-11-02T12:00:00Z", bytes: 5_000)])
        #expect(report.reconciliation == nil)
        #expect(report.notes.contains { $0.contains("No vendor figures were imported") && $0.contains("proxy-ledger reconcile --db") })
    }

    @Test func theHoursColumnAppearsOnlyWhenADayIsNot24HoursLong() throws {
        var fixture = try ReportFixture("hours-column")
        defer { fixture.close() }
        try fixture.add([event("2026-11-02T12:00:00Z", bytes: 5_000)])
        let utc = try schedule(card(zone: "UTC"))
        let plain = try fixture.report(
            utc, try ReportPeriod.billingPeriod(month: "2026-11", rule: utc.billingPeriod), asOf: "2026-12-01T00:00:00Z")
        let plainText = ReportRenderer.render(plain, as: .md)
        #expect(plainText.contains("| Date | Requests | Bytes total | Cost (USD) |"))
        #expect(!ReportRenderer.render(plain, as: .html).contains("<th>Hours</th>"))
        // America/New_York leaves daylight saving on 1 November 2026: that day has 25 hours.
        let newYork = try schedule(card(zone: "America/New_York"))
        let dst = try fixture.report(
            newYork, try ReportPeriod.billingPeriod(month: "2026-11", rule: newYork.billingPeriod), asOf: "2026-12-01T05:00:00Z")
        let dstText = ReportRenderer.render(dst, as: .md)
        #expect(dstText.contains("| Date | Hours | Requests |"))
        #expect(dstText.contains("| 2026-11-01 | 25.00 |"))
        #expect(ReportRenderer.render(dst, as: .html).contains("<th>Hours</th>"))
    }

    @Test func theMethodIsAFootnote() throws {
        let report = try novemberReport("method", [event("2026-11-02T12:00:00Z", bytes: 5_000)])
        #expect(!report.notes.contains { $0.hasPrefix("Rounding:") || $0.hasPrefix("Source:") || $0.hasPrefix("Units:") })
        #expect(report.method.contains { $0.hasPrefix("Rounding:") } && report.method.contains { $0.hasPrefix("Source:") })
        let markdown = ReportRenderer.render(report, as: .md)
        let footnote = try #require(markdown.range(of: "---\n\n**Method.**"))
        #expect(markdown[footnote.upperBound...].contains("- Rounding:"))
        #expect(ReportRenderer.render(report, as: .html).contains("<footer id=\"method\">"))
    }
}
