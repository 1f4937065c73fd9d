import Foundation
import Ledger

/// The rows of the human formats (HTML and Markdown), written once so both show the same.
enum ReportSections {
    /// One row of the totals table: an HTML id, a label and the value as text.
    struct Row {
        var id: String
        var label: String
        var value: String
    }

    /// The totals table: requests, bytes, billed units, costs, waste and cost per transcript.
    static func totals(_ report: FinanceReport) -> [Row] {
        let totals = report.totals
        let currency = report.currency
        return [
            Row(id: "requests", label: "Requests", value: DecimalText.grouped(totals.requests)),
            Row(id: "success-rate", label: "Success rate", value: ReportText.successRate(totals)),
            Row(id: "bytes-up", label: "Bytes up", value: DecimalText.grouped(totals.bytesUp)),
            Row(id: "bytes-down", label: "Bytes down", value: DecimalText.grouped(totals.bytesDown)),
            Row(id: "bytes-total", label: "Bytes total", value: DecimalText.grouped(totals.bytesTotal)),
            Row(id: "billed-units", label: "Billed \(report.unit.rawValue)", value: ReportText.units(totals.billedUnits)),
            Row(id: "usage-cost", label: "Usage cost (\(currency))", value: ReportText.money(totals.usageCost)),
            Row(id: "plan-fee", label: "Plan fee (\(currency))", value: ReportText.money(totals.planFee)),
            Row(id: "cost", label: "Cost (\(currency))", value: ReportText.money(totals.cost)),
            Row(id: "wasted-cost", label: "Wasted on failed requests (\(currency))", value: ReportText.money(totals.wastedCost)),
            Row(
                id: "cost-per-transcript",
                label: "Cost per successful transcript (\(currency)), \(DecimalText.grouped(totals.successfulTranscripts)) transcripts",
                value: totals.costPerTranscript.map { DecimalText.fixed($0, places: 4) } ?? "n/a"),
        ]
    }

    /// Whether the daily table needs an hours column: only when a day is not 24 hours long (a
    /// daylight-saving change, or a custom range that clips a day).
    static func showsHours(_ report: FinanceReport) -> Bool {
        report.daily.contains { $0.day.hours != 24 }
    }

    /// One rate card version for the rate card section.
    struct Card {
        /// `From 2026-11-15T00:00:00-05:00` and, for a later version, `(price change)`.
        var title: String
        /// `plan fee 175.00 USD, 50 GB included, graduated pricing`.
        var terms: String
        /// Tier bounds (`up to 250 GB`, `above 1000 GB`) and unit prices (`3.50 USD per GB`).
        var tiers: [(bound: String, price: String)]
    }

    /// The rate card versions in effect during the period, in order.
    static func rateCards(_ report: FinanceReport) -> [Card] {
        let unit = report.unit.rawValue
        return report.rateCards.enumerated().map { index, card in
            var lower = Decimal(0)
            let tiers = card.tiers.map { tier -> (bound: String, price: String) in
                defer { lower = tier.upToUnits ?? lower }
                let bound = tier.upToUnits.map { "\(DecimalText.exact(lower)) to \(DecimalText.exact($0)) \(unit)" }
                    ?? "above \(DecimalText.exact(lower)) \(unit)"
                return (bound, "\(price(tier.unitPrice)) \(card.currency) per \(unit)")
            }
            let fee = card.planFee.map { "plan fee \(ReportText.money($0)) \(card.currency)" } ?? "no plan fee"
            return Card(
                title: "From \(ReportText.instant(card.effectiveFrom, report))" + (index > 0 ? " (price change)" : ""),
                terms: "\(fee), \(DecimalText.exact(card.includedUnits)) \(unit) included, \(card.model.rawValue) pricing",
                tiers: tiers)
        }
    }

    /// A unit price exactly, with at least two fraction digits: `3.50`, `0.0035`.
    static func price(_ value: Decimal) -> String {
        let text = DecimalText.exact(value)
        let fraction = text.split(separator: ".", maxSplits: 1).dropFirst().first?.count ?? 0
        return fraction >= 2 ? text : (fraction == 0 ? text + ".00" : text + "0")
    }

    /// A top list's first column: the name, and for a job what it was for.
    static func topName(_ line: TopLine) -> String {
        line.subject.map { "\(line.name) (\($0))" } ?? line.name
    }
}
