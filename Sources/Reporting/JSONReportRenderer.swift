import Foundation
import Ledger

/// The JSON rendering (schema version 1, documented in `docs/reports.md`).
///
/// Money and units are decimal strings (`"12.35"`, exact values under `*_exact`), bytes and
/// counts are integers, instants are RFC 3339 with the offset of the report's zone, local dates
/// are `YYYY-MM-DD`. Keys keep a fixed order, so equal reports give equal bytes.
enum JSONReportRenderer {
    static func render(_ report: FinanceReport) -> String {
        func instant(_ value: LedgerTimestamp) -> JSONNode { .string(ReportText.instant(value, report)) }
        func money(_ value: Decimal) -> JSONNode { .string(ReportText.money(value)) }
        func exact(_ value: Decimal) -> JSONNode { .string(DecimalText.exact(value)) }
        func optionalPercent(_ value: Decimal?) -> JSONNode { .optional(value.map { DecimalText.fixed($0) }) }
        let totals = report.totals
        let period: JSONNode = .object([
            ("label", .string(report.period.label)),
            ("start", instant(report.period.start)),
            ("end", instant(report.period.end)),
            ("time_zone", .string(report.period.timeZone.identifier)),
            ("status", .string(report.status.rawValue)),
            ("as_of", instant(report.asOf)),
            ("data_through", report.dataThrough.map(instant) ?? .null),
        ])
        let totalsNode: JSONNode = .object([
            ("requests", .integer(totals.requests)),
            ("successful_requests", .integer(totals.successfulRequests)),
            ("failed_requests", .integer(totals.failedRequests)),
            ("unproxied_requests", .integer(totals.unproxiedRequests)),
            ("success_rate", .optional(totals.successRate.map { DecimalText.fixed($0, places: 4) })),
            ("bytes_up", .integer(totals.bytesUp)),
            ("bytes_down", .integer(totals.bytesDown)),
            ("bytes_total", .integer(totals.bytesTotal)),
            ("billed_units", exact(totals.billedUnits)),
            ("usage_cost", money(totals.usageCost)),
            ("plan_fee", money(totals.planFee)),
            ("cost", money(totals.cost)),
            ("cost_exact", exact(totals.cost)),
            ("wasted_cost", money(totals.wastedCost)),
            ("successful_transcripts", .integer(totals.successfulTranscripts)),
            ("cost_per_transcript", .optional(totals.costPerTranscript.map { DecimalText.fixed($0, places: 6) })),
        ])
        let daily: [JSONNode] = report.daily.map { line in
            .object([
                ("date", .string(line.day.date)),
                ("start", instant(line.day.start)),
                ("end", instant(line.day.end)),
                ("hours", exact(line.day.hours)),
                ("requests", .integer(line.requests)),
                ("bytes_total", .integer(line.bytesTotal)),
                ("billed_units", exact(line.billedUnits)),
                ("cost", money(line.cost)),
                ("cost_exact", exact(line.cost)),
                ("future", .bool(line.future)),
            ])
        }
        func breakdown(_ lines: [BreakdownLine], key: String) -> JSONNode {
            .array(
                lines.map { line in
                    .object([
                        (key, .string(line.name)), ("requests", .integer(line.requests)),
                        ("bytes_total", .integer(line.bytesTotal)), ("cost", money(line.cost)),
                        ("cost_exact", exact(line.cost)), ("wasted_cost", money(line.wastedCost)),
                    ])
                })
        }
        func top(_ lines: [TopLine], key: String) -> JSONNode {
            .array(
                lines.map { line in
                    .object(
                        [
                            (key, .string(line.name)), ("requests", .integer(line.requests)),
                            ("bytes_total", .integer(line.bytesTotal)),
                        ] + (key == "job_id" ? [("subject", .optional(line.subject))] : []))
                })
        }
        let segments: [JSONNode] = report.priceSegments.map { segment in
            .object([
                ("effective_from", instant(segment.effectiveFrom)), ("start", instant(segment.start)),
                ("end", instant(segment.end)), ("bytes_total", .integer(segment.bytesTotal)),
                ("billed_units", exact(segment.billedUnits)), ("cost", money(segment.cost)),
                ("cost_exact", exact(segment.cost)),
            ])
        }
        let rateCards: [JSONNode] = report.rateCards.map { card in
            .object([
                ("effective_from", instant(card.effectiveFrom)), ("plan_fee", .optional(card.planFee.map(ReportText.money))),
                ("included_units", exact(card.includedUnits)), ("pricing_model", .string(card.model.rawValue)),
                (
                    "tiers",
                    .array(
                        card.tiers.map { tier in
                            .object([
                                ("up_to_units", .optional(tier.upToUnits.map(DecimalText.exact))),
                                ("unit_price", exact(tier.unitPrice)),
                            ])
                        })
                ),
            ])
        }
        let budget = report.budget
        let budgetNode: JSONNode = .object([
            ("included_units", exact(budget.includedUnits)),
            ("used_units", exact(budget.usedUnits)),
            ("used_percent", optionalPercent(budget.usedPercent)),
            ("forecast_units", .optional(budget.forecastUnits.map { DecimalText.fixed($0, places: 6) })),
            ("forecast_cost", .optional(budget.forecastCost.map(ReportText.money))),
            ("forecast_percent", optionalPercent(budget.forecastPercent)),
            ("alert_80", .bool(budget.alert80)),
            ("alert_100", .bool(budget.alert100)),
            ("forecast_alert_80", .bool(budget.forecastAlert80)),
            ("forecast_alert_100", .bool(budget.forecastAlert100)),
        ])
        let reconciliation: JSONNode =
            report.reconciliation.map { section in
                .object([
                    ("tolerance_percent", exact(section.tolerancePercent)),
                    (
                        "days",
                        .array(
                            section.days.map { day in
                                .object([
                                    ("date", .string(day.date)), ("time_zone", .string(day.timeZone)),
                                    ("source", .string(day.source)),
                                    ("ours_bytes", .integer(day.oursBytes)),
                                    ("compared_direction", .string(day.comparesResponseBytesOnly ? "response" : "both")),
                                    ("theirs_bytes", .integer(day.theirsBytes)),
                                    ("difference_percent", optionalPercent(day.differencePercent)),
                                    ("within_tolerance", .bool(day.withinTolerance)),
                                ])
                            })
                    ),
                ])
            } ?? .null
        let checks: [JSONNode] = report.roundingChecks.map { check in
            .object([
                ("column", .string(check.column)), ("sum_of_rounded_items", money(check.sumOfRoundedItems)),
                ("rounded_total", money(check.roundedTotal)), ("adds_up", .bool(check.addsUp)),
            ])
        }
        return JSONNode.object([
            ("schema_version", .integer(Int64(FinanceReport.schemaVersion))),
            ("provider", .string(report.provider)),
            ("plan", .string(report.plan)),
            ("currency", .string(report.currency)),
            ("unit", .string(report.unit.rawValue)),
            ("unit_bytes", .integer(report.unit.bytesPerUnit)),
            ("unit_definition", .string(report.unit.definition)),
            ("pricing_model", .string(report.model.rawValue)),
            ("rounding", .string(DecimalText.roundingRule)),
            ("period", period),
            ("totals", totalsNode),
            ("daily", .array(daily)),
            ("by_component", breakdown(report.byComponent, key: "component")),
            ("by_operation", breakdown(report.byOperation, key: "operation")),
            ("by_error_type", breakdown(report.byErrorType, key: "error_type")),
            ("top_jobs", top(report.topJobs, key: "job_id")),
            ("top_channels", top(report.topChannels, key: "channel_name")),
            ("top_videos", top(report.topVideos, key: "video_id")),
            ("price_segments", .array(segments)),
            ("rate_cards", .array(rateCards)),
            ("budget", budgetNode),
            ("reconciliation", reconciliation),
            ("rounding_checks", .array(checks)),
            ("notes", .array(report.notes.map(JSONNode.string))),
            ("method", .array(report.method.map(JSONNode.string))),
        ]).rendered()
    }
}
