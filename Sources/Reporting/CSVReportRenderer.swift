import Foundation
import Ledger

/// The CSV rendering: RFC 4180 (CRLF line ends, fields with `,` `"` CR or LF quoted, `"`
/// doubled), one header row, then one long table whose `section` column says what a row is.
///
/// Timestamps are ISO 8601 with the offset of the report's zone; column names carry units
/// (`bytes_total`, `billed_units_gb`, `cost_usd`). Money columns are rounded to cents, and
/// `cost_<currency>_exact` holds the unrounded amount. Source: RFC 4180 §2.
enum CSVReportRenderer {
    static func render(_ report: FinanceReport) -> String {
        let cost = ReportText.costColumn(report)
        let header = [
            "section", "name", "date", "start", "end", "requests", "bytes_up", "bytes_down", "bytes_total",
            ReportText.unitsColumn(report), cost, "\(cost)_exact", "wasted_\(cost)", "vendor_bytes_total",
            "difference_percent", "value",
        ]
        var rows: [[String]] = [header]
        func row(_ fields: [String: String]) {
            rows.append(header.map { fields[$0] ?? "" })
        }
        func instant(_ value: LedgerTimestamp) -> String { ReportText.instant(value, report) }
        let meta: [(String, String)] = [
            ("provider", report.provider), ("plan", report.plan), ("currency", report.currency),
            ("unit", report.unit.rawValue), ("unit_bytes", String(report.unit.bytesPerUnit)),
            ("pricing_model", report.model.rawValue), ("period_label", report.period.label),
            ("time_zone", report.period.timeZone.identifier), ("status", report.status.rawValue),
            ("as_of", instant(report.asOf)), ("data_through", report.dataThrough.map(instant) ?? ""),
            ("rounding", DecimalText.roundingRule),
        ]
        for (name, value) in meta { row(["section": "meta", "name": name, "value": value]) }
        let totals = report.totals
        row([
            "section": "totals", "name": "period", "start": instant(report.period.start),
            "end": instant(report.period.end), "requests": String(totals.requests),
            "bytes_up": String(totals.bytesUp), "bytes_down": String(totals.bytesDown),
            "bytes_total": String(totals.bytesTotal),
            ReportText.unitsColumn(report): DecimalText.exact(totals.billedUnits),
            cost: ReportText.money(totals.cost), "\(cost)_exact": DecimalText.exact(totals.cost),
            "wasted_\(cost)": ReportText.money(totals.wastedCost),
        ])
        let totalValues: [(String, String)] = [
            ("successful_requests", String(totals.successfulRequests)),
            ("failed_requests", String(totals.failedRequests)),
            ("unproxied_requests", String(totals.unproxiedRequests)),
            ("success_rate", totals.successRate.map { DecimalText.fixed($0, places: 4) } ?? ""),
            ("usage_\(cost)", ReportText.money(totals.usageCost)),
            ("plan_fee_\(cost)", ReportText.money(totals.planFee)),
            ("successful_transcripts", String(totals.successfulTranscripts)),
            ("\(cost)_per_transcript", totals.costPerTranscript.map { DecimalText.fixed($0, places: 6) } ?? ""),
        ]
        for (name, value) in totalValues { row(["section": "totals", "name": name, "value": value]) }
        for line in report.daily {
            row([
                "section": "daily", "date": line.day.date, "start": instant(line.day.start),
                "end": instant(line.day.end),
                "requests": String(line.requests), "bytes_total": String(line.bytesTotal),
                ReportText.unitsColumn(report): DecimalText.exact(line.billedUnits), cost: ReportText.money(line.cost),
                "\(cost)_exact": DecimalText.exact(line.cost), "value": line.future ? "future" : "",
            ])
        }
        for (section, lines) in [
            ("by_component", report.byComponent), ("by_operation", report.byOperation),
            ("by_error_type", report.byErrorType),
        ] {
            for line in lines {
                row([
                    "section": section, "name": line.name, "requests": String(line.requests),
                    "bytes_total": String(line.bytesTotal), cost: ReportText.money(line.cost),
                    "\(cost)_exact": DecimalText.exact(line.cost), "wasted_\(cost)": ReportText.money(line.wastedCost),
                ])
            }
        }
        for (section, lines) in [
            ("top_jobs", report.topJobs), ("top_channels", report.topChannels), ("top_videos", report.topVideos),
        ] {
            for line in lines {
                row([
                    "section": section, "name": line.name, "requests": String(line.requests),
                    "bytes_total": String(line.bytesTotal), "value": line.subject ?? "",
                ])
            }
        }
        for segment in report.priceSegments {
            row([
                "section": "price_segment", "name": "effective_from " + instant(segment.effectiveFrom),
                "start": instant(segment.start), "end": instant(segment.end), "bytes_total": String(segment.bytesTotal),
                ReportText.unitsColumn(report): DecimalText.exact(segment.billedUnits),
                cost: ReportText.money(segment.cost),
                "\(cost)_exact": DecimalText.exact(segment.cost),
            ])
        }
        let budget = report.budget
        let budgetValues: [(String, String)] = [
            ("included_units", DecimalText.exact(budget.includedUnits)),
            ("used_units", DecimalText.exact(budget.usedUnits)),
            ("used_percent", budget.usedPercent.map { DecimalText.fixed($0) } ?? ""),
            ("forecast_units", budget.forecastUnits.map { DecimalText.fixed($0, places: 6) } ?? ""),
            ("forecast_\(cost)", budget.forecastCost.map(ReportText.money) ?? ""),
            ("forecast_percent", budget.forecastPercent.map { DecimalText.fixed($0) } ?? ""),
            ("alert_80", String(budget.alert80)), ("alert_100", String(budget.alert100)),
            ("forecast_alert_80", String(budget.forecastAlert80)),
            ("forecast_alert_100", String(budget.forecastAlert100)),
        ]
        for (name, value) in budgetValues { row(["section": "budget", "name": name, "value": value]) }
        if let section = report.reconciliation {
            row([
                "section": "reconciliation", "name": "tolerance_percent",
                "value": DecimalText.exact(section.tolerancePercent),
            ])
            for day in section.days {
                row([
                    "section": "reconciliation",
                    "name": [day.timeZone, day.source].filter { !$0.isEmpty }.joined(separator: " "), "date": day.date,
                    "bytes_total": String(day.oursBytes),
                    "vendor_bytes_total": String(day.theirsBytes),
                    "difference_percent": day.differencePercent.map { DecimalText.fixed($0) } ?? "",
                    "value": day.withinTolerance ? "within_tolerance" : "outside_tolerance",
                ])
            }
        }
        for check in report.roundingChecks {
            row([
                "section": "rounding_check", "name": check.column, cost: ReportText.money(check.roundedTotal),
                "value": "sum_of_rounded_items=\(ReportText.money(check.sumOfRoundedItems)) adds_up=\(check.addsUp)",
            ])
        }
        for note in report.notes { row(["section": "note", "value": note]) }
        for line in report.method { row(["section": "method", "value": line]) }
        return rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// One RFC 4180 field: quoted when it holds `,`, `"`, CR or LF.
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
