import Foundation

/// The Markdown rendering: a heading, a status line and GitHub-flavoured tables, short enough to
/// paste into a pull request or a chat message.
enum MarkdownReportRenderer {
    static func render(_ report: FinanceReport) -> String {
        let totals = report.totals
        let currency = report.currency
        let unit = report.unit.rawValue
        var out: [String] = []
        out.append("# Proxy cost \(report.period.label) — \(report.provider) \(report.plan)")
        out.append("")
        out.append(
            "**Period** \(ReportText.instant(report.period.start, report)) → \(ReportText.instant(report.period.end, report)) "
                + "(\(report.period.timeZone.identifier), end exclusive) · **\(report.status.rawValue)** · as of "
                + "\(ReportText.instant(report.asOf, report)) · data through "
                + "\(report.dataThrough.map { ReportText.instant($0, report) } ?? "no events") · \(report.unit.definition)"
        )
        out.append("")
        out.append("| Total | Value |")
        out.append("|---|---:|")
        let rows: [(String, String)] = [
            ("Requests", DecimalText.grouped(totals.requests)),
            ("Success rate", ReportText.successRate(totals)),
            ("Bytes up", DecimalText.grouped(totals.bytesUp)),
            ("Bytes down", DecimalText.grouped(totals.bytesDown)),
            ("Bytes total", DecimalText.grouped(totals.bytesTotal)),
            ("Billed \(unit)", ReportText.units(totals.billedUnits)),
            ("Usage cost (\(currency))", ReportText.money(totals.usageCost)),
            ("Plan fee (\(currency))", ReportText.money(totals.planFee)),
            ("**Cost (\(currency))**", "**\(ReportText.money(totals.cost))**"),
            ("Wasted on failures (\(currency))", ReportText.money(totals.wastedCost)),
        ]
        out += rows.map { "| \($0.0) | \($0.1) |" }
        let budget = report.budget
        out.append("")
        var alerts: [String] = []
        if budget.alert100 {
            alerts.append("⚠ quota used up (≥ 100 %)")
        } else if budget.alert80 {
            alerts.append("⚠ ≥ 80 % of quota used")
        }
        if budget.forecastAlert100 && !budget.alert100 { alerts.append("forecast exceeds the quota") }
        out.append(
            "**Budget:** \(ReportText.units(budget.usedUnits)) of \(DecimalText.exact(budget.includedUnits)) \(unit) included "
                + "(\(ReportText.percent(budget.usedPercent))); forecast "
                + "\(budget.forecastUnits.map(ReportText.units) ?? "n/a") \(unit), "
                + "\(budget.forecastCost.map(ReportText.money) ?? "n/a") \(currency)"
                + (alerts.isEmpty ? "" : " — " + alerts.joined(separator: ", ")))
        out.append("")
        out.append("## Daily (\(report.period.timeZone.identifier))")
        out.append("")
        out.append("| Date | Hours | Requests | Bytes total | Cost (\(currency)) |")
        out.append("|---|---:|---:|---:|---:|")
        for line in report.daily {
            out.append(
                "| \(line.day.date)\(line.future ? " (future)" : "") | \(DecimalText.fixed(line.day.hours, places: 2)) | "
                    + "\(DecimalText.grouped(line.requests)) | \(DecimalText.grouped(line.bytesTotal)) | \(ReportText.money(line.cost)) |"
            )
        }
        out.append(
            "| **Usage total** | | \(DecimalText.grouped(totals.requests)) | \(DecimalText.grouped(totals.bytesTotal)) | **\(ReportText.money(totals.usageCost))** |"
        )
        for (title, lines) in [
            ("By component", report.byComponent), ("By operation", report.byOperation),
            ("By error type", report.byErrorType),
        ] {
            out.append("")
            out.append("## \(title)")
            out.append("")
            out.append("| Name | Requests | Bytes total | Cost (\(currency)) | Wasted (\(currency)) |")
            out.append("|---|---:|---:|---:|---:|")
            for line in lines {
                out.append(
                    "| \(escape(line.name)) | \(DecimalText.grouped(line.requests)) | \(DecimalText.grouped(line.bytesTotal)) | "
                        + "\(ReportText.money(line.cost)) | \(ReportText.money(line.wastedCost)) |")
            }
            out.append(
                "| **Total** | \(DecimalText.grouped(totals.requests)) | \(DecimalText.grouped(totals.bytesTotal)) | **\(ReportText.money(totals.cost))** | \(ReportText.money(totals.wastedCost)) |"
            )
        }
        for (title, lines) in [
            ("Top jobs", report.topJobs), ("Top channels", report.topChannels), ("Top videos", report.topVideos),
        ] {
            out.append("")
            out.append("## \(title) by bytes")
            out.append("")
            out.append("| Name | Requests | Bytes total |")
            out.append("|---|---:|---:|")
            for line in lines {
                out.append(
                    "| \(escape(line.name)) | \(DecimalText.grouped(line.requests)) | \(DecimalText.grouped(line.bytesTotal)) |"
                )
            }
        }
        if let section = report.reconciliation {
            out.append("")
            out.append("## Reconciliation (tolerance ±\(DecimalText.exact(section.tolerancePercent)) %)")
            out.append("")
            out.append("| Vendor day | Ours (bytes) | Theirs (bytes) | Difference | OK |")
            out.append("|---|---:|---:|---:|---|")
            for day in section.days {
                out.append(
                    "| \(day.date) \(day.timeZone) \(escape(day.source)) | \(DecimalText.grouped(day.oursBytes)) | \(DecimalText.grouped(day.theirsBytes)) | "
                        + "\(ReportText.percent(day.differencePercent)) | \(day.withinTolerance ? "yes" : "**no**") |")
            }
        }
        out.append("")
        out.append("## Notes")
        out.append("")
        out += report.notes.map { "- \(escape($0))" }
        return out.joined(separator: "\n") + "\n"
    }

    /// Escapes `|` so a value cannot break a table row.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
