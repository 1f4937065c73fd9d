import Foundation

/// The caveats a report prints, derived from its figures only (deterministic).
enum ReportNotes {
    static func make(for report: FinanceReport) -> [String] {
        var notes: [String] = []
        let zone = report.period.timeZone
        if report.totals.requests == 0 && report.totals.unproxiedRequests == 0 {
            notes.append(
                "No usage recorded: the projection holds no events in this period before the as-of time, so every "
                    + "figure is 0 and the cost is the plan fee alone. Check --period, or run `proxy-ledger replay` "
                    + "if events are missing.")
        }
        if !report.period.isBillingPeriod {
            notes.append(
                "Custom range, not a billing period: no plan fee is included, and included units and tiers count "
                    + "from the range start.")
        }
        if report.status == .provisional {
            notes.append(
                "Provisional: usage is counted up to \(ZonedTime.rfc3339(report.asOf, in: zone)) (as of); "
                    + "the period ends \(ZonedTime.rfc3339(report.period.end, in: zone)).")
        }
        if report.priceSegments.count > 1 {
            notes.append(
                "A price change splits the cost at its effective_from; tier positions keep counting across it.")
        }
        let totals = report.totals
        if totals.bytesUp + totals.bytesDown != totals.bytesTotal {
            notes.append(
                "bytes_total is estimated_bytes: for requests not measured on the wire it is an estimate, so "
                    + "bytes up + down (\(totals.bytesUp + totals.bytesDown)) differ from it (\(totals.bytesTotal)).")
        }
        if totals.unproxiedRequests > 0 {
            notes.append(
                "\(totals.unproxiedRequests) requests ran with the proxy off; they are not billed and not counted.")
        }
        if totals.wastedCost > 0 {
            notes.append("Wasted: failed requests (including those later retried) cost what they transferred.")
        }
        for check in report.roundingChecks where !check.addsUp {
            notes.append(
                "The rounded \(check.column) costs add up to \(DecimalText.fixed(check.sumOfRoundedItems)), not the rounded "
                    + "total \(DecimalText.fixed(check.roundedTotal)): each line is rounded for display, the total is "
                    + "rounded once from the unrounded sum.")
        }
        if report.budget.includedUnits == 0 {
            notes.append("The plan has no included units, so quota alerts do not apply.")
        }
        if report.reconciliation == nil {
            notes.append(
                "No vendor figures were imported, so this report is not reconciled with the vendor's bill. Import them "
                    + "with `proxy-ledger reconcile --db <this database>` and `--squid-log`, `--webshare-csv` or "
                    + "`--webshare-stats`, then run the report again.")
        }
        if let section = report.reconciliation {
            if section.days.contains(where: \.comparesResponseBytesOnly) {
                notes.append(
                    "Reconciliation rows from native Squid logs (\(VendorDay.replyBytesOnlySource)) compare our response "
                        + "bytes only: that format logs the reply sizes the gateway sent, not the request bytes.")
            }
            if section.pendingDays > 0 {
                notes.append(
                    "\(section.pendingDays) stored vendor day(s) of the period end after the as-of time and are not "
                        + "reconciled until they are complete.")
            }
        }
        return notes
    }

    /// How the figures were computed: units, the period's bounds, rounding, pricing and the
    /// tables read, for the footnote.
    static func method(for report: FinanceReport) -> [String] {
        let zone = report.period.timeZone
        let included = "the first \(DecimalText.exact(report.budget.includedUnits)) \(report.unit.rawValue) are included in the plan."
        var method = [
            "Units: \(report.unit.definition). Billed bytes count both directions through the gateway.",
            "Period: [\(ZonedTime.rfc3339(report.period.start, in: zone)), \(ZonedTime.rfc3339(report.period.end, in: zone))) "
                + "in \(zone.identifier), half-open; local days follow that zone (23 or 25 hours at daylight-saving "
                + "changes). Instants are kept in UTC microseconds and shown in that zone.",
            "Rounding: \(DecimalText.roundingRule).",
            report.model == .graduated
                ? "Pricing: graduated; each unit is priced by the tier its position in the period falls in; " + included
                : "Pricing: volume; every unit is priced at the tier the period total reaches; " + included,
        ]
        let offsets = Set(report.daily.map { ZonedTime.offsetSeconds($0.day.start, in: zone) })
        if offsets.contains(where: { $0 % 3600 != 0 }) {
            method.append(
                "\(zone.identifier) is not a whole number of hours from UTC; hours cut by a local midnight were "
                    + "counted from proxy_request_logs instead of the hourly rollup.")
        }
        method.append("Source: the projection tables proxy_usage_hourly and proxy_request_logs, rebuilt from the ledger.")
        return method
    }
}
