import Foundation

/// The Markdown rendering: a heading, a status line and GitHub-flavoured tables, short enough to
/// paste into a pull request or a chat message. The method (units, rounding, sources) is a
/// footnote at the end.
enum MarkdownReportRenderer {
    static func render(_ report: FinanceReport) -> String {
        var out = header(report) + totals(report) + rateCards(report) + daily(report)
        out += breakdowns(report) + topLists(report) + reconciliation(report)
        out += ["", "## Notes", ""] + report.notes.map { "- \(escape($0))" }
        out += ["", "---", "", "**Method.**"] + report.method.map { "- \(escape($0))" }
        return out.joined(separator: "\n") + "\n"
    }

    private static func header(_ report: FinanceReport) -> [String] {
        [
            "# Proxy cost \(report.period.label) — \(report.provider) \(report.plan)", "",
            "**Period** \(ReportText.instant(report.period.start, report)) → \(ReportText.instant(report.period.end, report)) "
                + "(\(report.period.timeZone.identifier), end exclusive) · **\(report.status.rawValue)** · as of "
                + "\(ReportText.instant(report.asOf, report)) · data through "
                + "\(report.dataThrough.map { ReportText.instant($0, report) } ?? "no events") · \(report.unit.definition)",
        ]
    }

    private static func totals(_ report: FinanceReport) -> [String] {
        var out = ["", "| Total | Value |", "|---|---:|"]
        out += ReportSections.totals(report).map { row in
            row.id == "cost" ? "| **\(row.label)** | **\(row.value)** |" : "| \(row.label) | \(row.value) |"
        }
        let budget = report.budget
        let unit = report.unit.rawValue
        var alerts: [String] = []
        if budget.alert100 {
            alerts.append("⚠ quota used up (≥ 100 %)")
        } else if budget.alert80 {
            alerts.append("⚠ ≥ 80 % of quota used")
        }
        if budget.forecastAlert100 && !budget.alert100 { alerts.append("forecast exceeds the quota") }
        out += [
            "",
            "**Budget:** \(ReportText.units(budget.usedUnits)) of \(DecimalText.exact(budget.includedUnits)) \(unit) included "
                + "(\(ReportText.percent(budget.usedPercent))); forecast "
                + "\(budget.forecastUnits.map(ReportText.units) ?? "n/a") \(unit), "
                + "\(budget.forecastCost.map(ReportText.money) ?? "n/a") \(report.currency)"
                + (alerts.isEmpty ? "" : " — " + alerts.joined(separator: ", ")),
        ]
        return out
    }

    private static func rateCards(_ report: FinanceReport) -> [String] {
        var out = ["", "## Rate card"]
        for card in ReportSections.rateCards(report) {
            out += ["", "**\(card.title):** \(card.terms).", "", "| Tier | Price |", "|---|---:|"]
            out += card.tiers.map { "| \($0.bound) | \($0.price) |" }
        }
        return out
    }

    private static func daily(_ report: FinanceReport) -> [String] {
        let hours = ReportSections.showsHours(report)
        let totals = report.totals
        var out = [
            "", "## Daily (\(report.period.timeZone.identifier))", "",
            "| Date |\(hours ? " Hours |" : "") Requests | Bytes total | Cost (\(report.currency)) |",
            "|---|\(hours ? "---:|" : "")---:|---:|---:|",
        ]
        for line in report.daily {
            out.append(
                "| \(line.day.date)\(line.future ? " (future)" : "") |"
                    + (hours ? " \(DecimalText.fixed(line.day.hours, places: 2)) |" : "")
                    + " \(DecimalText.grouped(line.requests)) | \(DecimalText.grouped(line.bytesTotal)) | \(ReportText.money(line.cost)) |"
            )
        }
        out.append(
            "| **Usage total** |\(hours ? " |" : "") \(DecimalText.grouped(totals.requests)) | "
                + "\(DecimalText.grouped(totals.bytesTotal)) | **\(ReportText.money(totals.usageCost))** |")
        return out
    }

    private static func breakdowns(_ report: FinanceReport) -> [String] {
        let totals = report.totals
        let currency = report.currency
        var out: [String] = []
        for (title, lines) in [
            ("By component", report.byComponent), ("By operation", report.byOperation),
            ("By error type", report.byErrorType),
        ] {
            out += [
                "", "## \(title)", "", "| Name | Requests | Bytes total | Cost (\(currency)) | Wasted (\(currency)) |",
                "|---|---:|---:|---:|---:|",
            ]
            out += lines.map { line in
                "| \(escape(line.name)) | \(DecimalText.grouped(line.requests)) | \(DecimalText.grouped(line.bytesTotal)) | "
                    + "\(ReportText.money(line.cost)) | \(ReportText.money(line.wastedCost)) |"
            }
            out.append(
                "| **Total** | \(DecimalText.grouped(totals.requests)) | \(DecimalText.grouped(totals.bytesTotal)) | "
                    + "**\(ReportText.money(totals.cost))** | \(ReportText.money(totals.wastedCost)) |")
        }
        return out
    }

    private static func topLists(_ report: FinanceReport) -> [String] {
        var out: [String] = []
        for (title, lines) in [
            ("Top jobs", report.topJobs), ("Top channels", report.topChannels), ("Top videos", report.topVideos),
        ] {
            out += ["", "## \(title) by bytes", "", "| Name | Requests | Bytes total |", "|---|---:|---:|"]
            out += lines.map { line in
                "| \(escape(ReportSections.topName(line))) | \(DecimalText.grouped(line.requests)) | "
                    + "\(DecimalText.grouped(line.bytesTotal)) |"
            }
        }
        return out
    }

    private static func reconciliation(_ report: FinanceReport) -> [String] {
        guard let section = report.reconciliation else { return [] }
        var out = [
            "", "## Reconciliation (tolerance ±\(DecimalText.exact(section.tolerancePercent)) %)", "",
            "| Vendor day | Ours (bytes) | Theirs (bytes) | Difference | OK |", "|---|---:|---:|---:|---|",
        ]
        out += section.days.map { day in
            "| \(day.date) \(day.timeZone) \(escape(day.source)) | \(DecimalText.grouped(day.oursBytes)) | "
                + "\(DecimalText.grouped(day.theirsBytes)) | \(ReportText.percent(day.differencePercent)) | "
                + "\(day.withinTolerance ? "yes" : "**no**") |"
        }
        return out
    }

    /// Escapes `|` so a value cannot break a table row.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
