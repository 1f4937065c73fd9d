import Foundation
import Ledger
import Reporting
import Testing

@Suite struct CostMathTests {
    let november: (RateCardSchedule) throws -> ReportPeriod = { schedule in
        try ReportPeriod.billingPeriod(month: "2026-11", rule: schedule.billingPeriod)
    }

    @Test func gbAndGiBPriceTheSameBytesDifferently() throws {
        var fixture = try ReportFixture("gb-gib")
        defer { fixture.close() }
        try fixture.add([event("2026-11-10T12:00:00Z", bytes: 5_368_709_120)])  // exactly 5 GiB
        let tiers = #"[{"up_to_units": null, "unit_price": "2.00"}]"#
        let gb = try schedule(card(unit: "GB", tiers: tiers))
        let gib = try schedule(card(unit: "GiB", tiers: tiers))
        let gbReport = try fixture.report(gb, november(gb), asOf: "2026-12-01T05:00:00Z")
        let gibReport = try fixture.report(gib, november(gib), asOf: "2026-12-01T05:00:00Z")
        #expect(exact(gbReport.totals.billedUnits) == "5.36870912")
        #expect(exact(gbReport.totals.cost) == "10.73741824")
        #expect(money(gbReport.totals.cost) == "10.74")
        #expect(exact(gibReport.totals.billedUnits) == "5")
        #expect(money(gibReport.totals.cost) == "10.00")
        #expect(gbReport.method.contains { $0.contains("1 GB = 10^9 = 1,000,000,000 bytes") })
        #expect(gibReport.method.contains { $0.contains("1 GiB = 2^30 = 1,073,741,824 bytes") })
        // One byte in GiB is exact, not a float approximation.
        #expect(exact(BillingUnit.gib.units(bytes: 1)) == "0.000000000931322574615478515625")
    }

    @Test func aGraduatedTierBoundaryIsCrossedInMidPeriod() throws {
        var fixture = try ReportFixture("graduated")
        defer { fixture.close() }
        try fixture.add([
            event("2026-11-03T15:00:00Z", bytes: 2_000_000_000),
            event("2026-11-04T15:00:00Z", bytes: 2_500_000_000),
        ])
        let tiers = #"[{"up_to_units": "3", "unit_price": "2.00"}, {"up_to_units": null, "unit_price": "1.00"}]"#
        let graduated = try schedule(card(included: "1", tiers: tiers))
        let report = try fixture.report(graduated, november(graduated), asOf: "2026-12-01T05:00:00Z")
        // Day 1: 1 GB included + 1 GB at 2.00. Day 2: 1 GB at 2.00 (to 3 GB), then 1.5 GB at 1.00.
        #expect(report.daily.map { money($0.cost) }.prefix(4) == ["0.00", "0.00", "2.00", "3.50"])
        #expect(money(report.totals.cost) == "5.50")

        let volume = try schedule(card(included: "1", tiers: tiers, model: "volume"))
        let volumeReport = try fixture.report(volume, november(volume), asOf: "2026-12-01T05:00:00Z")
        // The total, 4.5 GB, reaches the second tier: 3.5 billable GB at 1.00.
        #expect(volumeReport.daily.map { money($0.cost) }.prefix(4) == ["0.00", "0.00", "1.00", "2.50"])
        #expect(money(volumeReport.totals.cost) == "3.50")
    }

    @Test func aPriceChangeSplitsThePeriodAtEffectiveFrom() throws {
        var fixture = try ReportFixture("price-change")
        defer { fixture.close() }
        try fixture.add([
            event("2026-11-10T12:00:00Z", bytes: 1_000_000_000),
            event("2026-11-15T12:10:00Z", bytes: 1_000_000_000),  // before 12:30 in the same UTC hour
            event("2026-11-15T12:50:00Z", bytes: 1_000_000_000),
            event("2026-11-20T12:00:00Z", bytes: 1_000_000_000),
        ])
        let old = card(
            tiers: #"[{"up_to_units": null, "unit_price": "2.00"}]"#, planFee: "10", effective: "2026-01-01T00:00:00Z")
        let new = card(
            tiers: #"[{"up_to_units": null, "unit_price": "1.25"}]"#, planFee: "99", effective: "2026-11-15T12:30:00Z")
        let cards = try schedule("[\(new), \(old)]")
        let report = try fixture.report(cards, november(cards), asOf: "2026-12-01T05:00:00Z")
        #expect(report.priceSegments.count == 2)
        #expect(report.priceSegments.map { money($0.cost) } == ["4.00", "2.50"])
        #expect(report.priceSegments.map(\.bytesTotal) == [2_000_000_000, 2_000_000_000])
        #expect(ReportRenderer.render(report, as: .json).contains(#""end": "2026-11-15T07:30:00-05:00""#))
        // The plan fee is that of the version in effect at the period start.
        #expect(money(report.totals.cost) == "16.50")
    }

    @Test func roundingHappensOnceWithDecimalsWhereDoublesAreOffByACent() throws {
        var fixture = try ReportFixture("rounding")
        defer { fixture.close() }
        try fixture.add([event("2026-11-10T12:00:00Z", bytes: 1_000_000_000)])
        for (price, expected, doubleGives) in [
            ("1.005", "1.01", 1.005), ("2.675", "2.68", 2.675), ("1.015", "1.02", 1.015),
        ] {
            let cards = try schedule(card(tiers: #"[{"up_to_units": null, "unit_price": "\#(price)"}]"#))
            let report = try fixture.report(cards, november(cards), asOf: "2026-12-01T05:00:00Z")
            #expect(money(report.totals.cost) == expected)
            // Binary floating point holds these prices slightly below the half cent: a Double is off by one.
            #expect(String(format: "%.2f", doubleGives) != expected)
        }
        #expect(0.1 + 0.2 != 0.3)  // why only Decimal is used
        #expect(
            DecimalText.parse("0.1").flatMap { a in DecimalText.parse("0.2").map { a + $0 } }
                == DecimalText.parse("0.3"))
    }

    @Test func roundedLineItemsThatDoNotAddUpAreReported() throws {
        var fixture = try ReportFixture("line-items")
        defer { fixture.close() }
        try fixture.add([
            event("2026-11-02T12:00:00Z", bytes: 1_000_000_000),
            event("2026-11-03T12:00:00Z", bytes: 1_000_000_000),
            event("2026-11-04T12:00:00Z", bytes: 1_000_000_000),
        ])
        let cards = try schedule(card(tiers: #"[{"up_to_units": null, "unit_price": "0.005"}]"#))
        let report = try fixture.report(cards, november(cards), asOf: "2026-12-01T05:00:00Z")
        #expect(report.daily.filter { $0.bytesTotal > 0 }.map { money($0.cost) } == ["0.01", "0.01", "0.01"])
        #expect(exact(report.totals.cost) == "0.015")
        #expect(money(report.totals.cost) == "0.02")
        let check = try #require(report.roundingChecks.first { $0.column == "daily" })
        #expect(!check.addsUp)
        #expect(money(check.sumOfRoundedItems) == "0.03")
        #expect(report.notes.contains { $0.contains("rounded daily costs add up to 0.03, not the rounded total 0.02") })
        #expect(ReportRenderer.render(report, as: .md).contains("add up to 0.03"))
    }

    @Test func failedRequestsAreWastedAndEveryBreakdownAddsUp() throws {
        var fixture = try ReportFixture("wasted")
        defer { fixture.close() }
        try fixture.add([
            event("2026-11-05T10:00:00Z", bytes: 3_000_000_000, component: "transcribe-worker"),
            event(
                "2026-11-05T10:05:00Z", bytes: 1_000_000_000, component: "api-youtube-service",
                operation: "channel-listing",
                success: false, error: .botCheck),
            event("2026-11-05T10:06:00Z", bytes: 500_000_000, success: false, error: .rateLimited),
            event("2026-11-05T10:07:00Z", bytes: 9_000_000_000, proxied: false),  // not billed
        ])
        let cards = try schedule(card(tiers: #"[{"up_to_units": null, "unit_price": "1.00"}]"#, planFee: "20"))
        let report = try fixture.report(cards, november(cards), asOf: "2026-12-01T05:00:00Z")
        #expect(report.totals.requests == 3)
        #expect(report.totals.unproxiedRequests == 1)
        #expect(report.totals.bytesTotal == 4_500_000_000)
        #expect(money(report.totals.wastedCost) == "1.50")
        #expect(money(report.totals.cost) == "24.50")
        for lines in [report.byComponent, report.byOperation, report.byErrorType] {
            #expect(lines.reduce(Decimal(0)) { $0 + $1.cost } == report.totals.cost)
            #expect(lines.last?.name == "unallocated")
            #expect(money(lines.last?.cost ?? 0) == "20.00")
        }
        #expect(report.byErrorType.map(\.name) == ["(success)", "bot_check", "rate_limited", "unallocated"])
        #expect(report.byErrorType.map { money($0.wastedCost) } == ["0.00", "1.00", "0.50", "0.00"])
    }
}
