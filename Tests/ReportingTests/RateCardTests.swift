import Foundation
import Reporting
import Testing

@Suite struct RateCardTests {
    @Test func theExampleFixtureLoadsWithTwoVersions() throws {
        let schedule = try RateCardSchedule.load(path: repositoryRoot + "/Fixtures/rate-card.example.json")
        #expect(schedule.cards.count == 2)
        #expect(schedule.currency == "USD")
        #expect(schedule.unit == .gb)
        #expect(schedule.billingPeriod.anchorDay == 1)
        #expect(schedule.billingPeriod.timeZone.identifier == "America/New_York")
        #expect(schedule.cards[0].tiers.map { $0.upToUnits.map(exact) } == ["250", "1000", nil])
        #expect(exact(schedule.cards[1].tiers[0].unitPrice) == "3.25")
        #expect(schedule.cards[0].planFee.map(money) == "175.00")
        #expect(schedule.card(at: instant("2026-11-15T04:59:59Z"))?.effectiveFrom == schedule.cards[0].effectiveFrom)
        #expect(schedule.card(at: instant("2026-11-15T05:00:00Z"))?.effectiveFrom == schedule.cards[1].effectiveFrom)
    }

    @Test(arguments: [
        (#"{"plan": "p"}"#, "provider"),
        (card().replacingOccurrences(of: #""included_units": "0","#, with: ""), "included_units"),
        (card().replacingOccurrences(of: #""included_units": "0""#, with: #""included_units": 5"#), "included_units"),
        (
            card().replacingOccurrences(of: #""included_units": "0""#, with: #""included_units": "1e3""#),
            "included_units"
        ),
        (card(unit: "MB"), "unit"),
        (card(tiers: #"[{"up_to_units": null, "unit_price": "-1"}]"#), "tiers[0].unit_price"),
        (card(tiers: #"[{"up_to_units": null}]"#), "tiers[0].unit_price"),
        (card(tiers: #"[{"up_to_units": "5", "unit_price": "1"}]"#), "tiers[0].up_to_units"),
        (
            card(tiers: #"[{"up_to_units": "5", "unit_price": "1"}, {"up_to_units": "4", "unit_price": "1"}]"#),
            "tiers[1].up_to_units"
        ),
        (card(tiers: "[]"), "tiers"),
        (card(model: "flat"), "model"),
        (card(anchor: 29), "billing_period.anchor_day"),
        (card(zone: "Mars/Olympus"), "billing_period.time_zone"),
        (card(effective: "yesterday"), "effective_from"),
        (
            card().replacingOccurrences(of: #""plan": "test""#, with: #""plan": "test", "unit_prize": "1""#),
            "unit_prize"
        ),
        ("[\(card()), \(card(unit: "GiB", effective: "2026-06-01T00:00:00Z"))]", "unit"),
        ("[\(card()), \(card())]", "effective_from"),
        ("[\(card()), 7]", "[1]"),
    ])
    func aMissingOrInvalidFieldIsNamed(json: String, field: String) throws {
        let error = try #require(throws: ReportError.self) { try schedule(json) }
        #expect(error.code == .invalidRateCard)
        let expected =
            json.hasPrefix("[") && !field.hasPrefix("[") && field != "unit" && field != "effective_from"
            ? "[1].\(field)" : field
        #expect(error.field == expected)
        #expect(error.description.contains(field))
    }

    @Test func notJSONIsAClearError() throws {
        let error = try #require(throws: ReportError.self) { try schedule("{ nope") }
        #expect(error.code == .invalidRateCard)
        let missing = try #require(throws: ReportError.self) {
            try RateCardSchedule.load(path: "/nonexistent/card.json")
        }
        #expect(missing.code == .rateCardUnreadable)
    }

    @Test func decimalStringsAreParsedStrictly() {
        #expect(DecimalText.parse("3.50").map(exact) == "3.5")
        #expect(DecimalText.parse("0.000000001").map(exact) == "0.000000001")
        for bad in ["", "1.", ".5", "-1", "1e3", " 1", "1,5", "12abc", "١"] {
            #expect(DecimalText.parse(bad) == nil, "\(bad)")
        }
    }
}
