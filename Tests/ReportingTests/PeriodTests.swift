import Foundation
import GRDB
import Ledger
import Reporting
import Testing

@testable import Projections

@Suite struct PeriodTests {
    @Test func aPeriodAcrossTheAutumnDaylightSavingChangeHasA25HourDay() throws {
        var fixture = try ReportFixture("dst-autumn")
        defer { fixture.close() }
        try fixture.add([
            event("2026-11-01T04:00:00Z", bytes: 100),  // 00:00 EDT, the first instant of the period
            event("2026-11-01T03:59:59Z", bytes: 7),  // 23:59:59 EDT on 31 October: outside
            event("2026-11-02T04:30:00Z", bytes: 200),  // 23:30 EST on 1 November (hour 25 of the day)
            event("2026-11-02T05:00:00Z", bytes: 400),  // 00:00 EST on 2 November
            event("2026-12-01T04:59:59Z", bytes: 800),  // 23:59:59 EST on 30 November: the last second
            event("2026-12-01T05:00:00Z", bytes: 1_600),  // the first instant after the period
        ])
        let cards = try schedule(card(tiers: #"[{"up_to_units": null, "unit_price": "1000000"}]"#))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod)
        #expect(period.start == instant("2026-11-01T04:00:00Z"))
        #expect(period.end == instant("2026-12-01T05:00:00Z"))
        let report = try fixture.report(cards, period, asOf: "2026-12-02T00:00:00Z")
        #expect(report.status == .closed)
        #expect(report.daily.count == 30)
        #expect(report.daily.first?.day.date == "2026-11-01")
        #expect(report.daily.first.map { exact($0.day.hours) } == "25")
        #expect(report.daily.dropFirst().allSatisfy { exact($0.day.hours) == "24" })
        #expect(report.daily.map(\.bytesTotal).prefix(2) == [300, 400])
        #expect(report.daily.last?.bytesTotal == 800)
        #expect(report.totals.bytesTotal == 1_500)
        // 1,500 bytes at 1,000,000 USD per GB = 1.5 USD exactly.
        #expect(exact(report.totals.cost) == "1.5")
        let json = ReportRenderer.render(report, as: .json)
        #expect(json.contains(#""start": "2026-11-01T00:00:00-04:00""#))
        #expect(json.contains(#""end": "2026-12-01T00:00:00-05:00""#))
        #expect(json.contains(#""date": "2026-11-01""#))
        #expect(json.contains(#""hours": "25""#))
    }

    @Test func aSpringDaylightSavingChangeGivesA23HourDayAndTheTzOptionMovesTheBoundaries() throws {
        let cards = try schedule(card(zone: "Europe/Berlin"))
        let march = try ReportPeriod.billingPeriod(month: "2026-03", rule: cards.billingPeriod)
        #expect(march.start == instant("2026-02-28T23:00:00Z"))
        #expect(march.end == instant("2026-03-31T22:00:00Z"))
        let days = march.localDays()
        #expect(days.count == 31)
        #expect(days.filter { exact($0.hours) == "23" }.map(\.date) == ["2026-03-29"])
        let newYork = try ReportPeriod.billingPeriod(
            month: "2026-03", rule: cards.billingPeriod, timeZone: TimeZone(identifier: "America/New_York"))
        #expect(newYork.localDays().filter { exact($0.hours) == "23" }.map(\.date) == ["2026-03-08"])
        let anchored = try ReportPeriod.billingPeriod(
            containing: instant("2026-03-10T00:00:00Z"),
            rule: BillingPeriodRule(anchorDay: 15, timeZone: try #require(TimeZone(identifier: "UTC"))))
        #expect(anchored.label == "2026-02")
        #expect(anchored.start == instant("2026-02-15T00:00:00Z"))
        #expect(anchored.end == instant("2026-03-15T00:00:00Z"))
    }

    @Test func aHalfHourZoneSplitsHoursFromTheBaseTable() throws {
        var fixture = try ReportFixture("kolkata")
        defer { fixture.close() }
        try fixture.add([
            event("2026-11-01T18:15:00Z", bytes: 10),  // 23:45 IST on 1 November
            event("2026-11-01T18:45:00Z", bytes: 20),  // 00:15 IST on 2 November, same UTC hour
        ])
        let cards = try schedule(card(zone: "Asia/Kolkata"))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod)
        #expect(period.start == instant("2026-10-31T18:30:00Z"))
        let report = try fixture.report(cards, period, asOf: "2026-12-01T00:00:00Z")
        #expect(report.daily.map(\.bytesTotal).prefix(2) == [10, 20])
        #expect(report.method.contains { $0.contains("not a whole number of hours from UTC") })
    }

    @Test func anEmptyPeriodReportsZerosAndThePlanFee() throws {
        let fixture = try ReportFixture("empty")
        defer { fixture.close() }
        let cards = try schedule(card(included: "50", planFee: "175.00"))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod)
        let report = try fixture.report(cards, period)
        #expect(report.dataThrough == nil)
        #expect(report.asOf == period.start)
        #expect(report.status == .provisional)
        #expect(report.totals.requests == 0)
        #expect(report.totals.bytesTotal == 0)
        #expect(exact(report.totals.billedUnits) == "0")
        #expect(money(report.totals.cost) == "175.00")
        #expect(report.totals.successRate == nil)
        #expect(report.daily.count == 30)
        #expect(report.daily.allSatisfy { $0.bytesTotal == 0 && $0.future })
        #expect(report.budget.forecastUnits == nil)
        #expect(!report.budget.alert80 && !report.budget.alert100)
        #expect(report.topJobs.map(\.name) == ["(all others)"])
        #expect(report.reconciliation == nil)
        let json = ReportRenderer.render(report, as: .json)
        #expect(json.contains(#""data_through": null"#))
        #expect(json.contains(#""success_rate": null"#))
        #expect(json.contains(#""cost": "175.00""#))
        for format in ReportFormat.allCases { #expect(!ReportRenderer.render(report, as: format).isEmpty) }
    }

    @Test func budgetAlertsAndForecastFollowTheAsOfInstant() throws {
        var fixture = try ReportFixture("budget")
        defer { fixture.close() }
        try fixture.add([
            event("2026-11-01T12:00:00Z", bytes: 20_000_000_000), event("2026-11-10T12:00:00Z", bytes: 20_000_000_000),
        ])
        let cards = try schedule(
            card(included: "50", tiers: #"[{"up_to_units": null, "unit_price": "2.00"}]"#, zone: "UTC"))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod)
        // As of 16 November 00:00 UTC: 40 GB used in 15 of 30 days.
        let report = try fixture.report(cards, period, asOf: "2026-11-16T00:00:00Z")
        #expect(report.status == .provisional)
        #expect(money(report.budget.usedPercent ?? -1) == "80.00")
        #expect(report.budget.alert80 && !report.budget.alert100)
        #expect(report.budget.forecastUnits.map(exact) == "80")
        #expect(report.budget.forecastAlert100)
        #expect(report.budget.forecastCost.map(money) == "60.00")  // 30 GB over the quota at 2.00
        #expect(report.daily.filter(\.future).count == 15)
        // As of 5 November, the second event is not counted yet.
        let early = try fixture.report(cards, period, asOf: "2026-11-05T00:00:00Z")
        #expect(early.totals.bytesTotal == 20_000_000_000)
        #expect(!early.budget.alert80)
        let closed = try fixture.report(cards, period, asOf: "2026-12-01T00:00:00Z")
        #expect(closed.status == .closed)
        #expect(closed.budget.forecastUnits.map(exact) == "40")
    }

    @Test func vendorDailyUsageIsReconciledWithTheTolerance() throws {
        var fixture = try ReportFixture("vendor")
        defer { fixture.close() }
        try fixture.add([
            event("2026-11-02T12:00:00Z", bytes: 1_000_000), event("2026-11-03T12:00:00Z", bytes: 1_000_000),
        ])
        try fixture.store.databasePool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO vendor_usage_daily VALUES
                        ('2026-11-02', 'Z', 1793577600000000, 'webshare_csv', 1004000, NULL, NULL, 1, 'x'),
                        ('2026-11-03', 'Z', 1793664000000000, 'webshare_csv', 1010000, NULL, NULL, 1, 'x')
                    """)
        }
        let cards = try schedule(card(zone: "UTC"))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod)
        let report = try fixture.report(cards, period, asOf: "2026-12-01T00:00:00Z")
        let section = try #require(report.reconciliation)
        #expect(section.days.map(\.oursBytes) == [1_000_000, 1_000_000])
        #expect(section.days.map(\.withinTolerance) == [true, false])
        #expect(
            section.days.map { $0.differencePercent.map { DecimalText.fixed($0, places: 4) } } == [
                "-0.3984", "-0.9901",
            ])
    }

    @Test func aCustomRangeSplitsPartialHoursAndHasNoPlanFee() throws {
        var fixture = try ReportFixture("custom-range")
        defer { fixture.close() }
        try fixture.add([
            event("2026-11-03T10:10:00Z", bytes: 1), event("2026-11-03T10:20:00Z", bytes: 2),
            event("2026-11-03T11:40:00Z", bytes: 4), event("2026-11-03T11:50:00Z", bytes: 8),
        ])
        let cards = try schedule(card(planFee: "175", zone: "UTC"))
        let zone = try #require(TimeZone(identifier: "UTC"))
        let start = try #require(ReportPeriod.parseInstant("2026-11-03T10:15:00Z", in: zone))
        let end = try #require(ReportPeriod.parseInstant("2026-11-03T11:45:00Z", in: zone))
        #expect(ReportPeriod.parseInstant("2026-11-03", in: zone) == instant("2026-11-03T00:00:00Z"))
        let period = try ReportPeriod(start: start, end: end, timeZone: zone)
        #expect(period.label == "2026-11-03_2026-11-03")
        let report = try fixture.report(cards, period, asOf: "2026-12-01T00:00:00Z")
        #expect(report.totals.bytesTotal == 6)
        #expect(report.totals.requests == 2)
        #expect(money(report.totals.planFee) == "0.00")
        #expect(report.notes.contains { $0.contains("Custom range") })
        #expect(throws: ReportError.self) { try ReportPeriod(start: end, end: start, timeZone: zone) }
    }
}
