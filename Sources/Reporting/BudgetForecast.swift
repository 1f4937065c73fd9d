import Foundation
import Ledger

/// Quota use, the end-of-period forecast and the 80 % / 100 % alerts.
///
/// The forecast extrapolates linearly: billed bytes so far ÷ elapsed time × period length
/// (rounded to whole bytes, half away from zero), and prices the extra bytes as if they arrived
/// at the as-of instant, so graduated tiers and included units apply as they would.
enum BudgetForecast {
    static func make(
        engine: CostEngine, slices: [UsageSlice], totals: ReportTotals, quota: Decimal, unit: BillingUnit,
        period: ReportPeriod, cutoff: Int64, status: PeriodStatus
    ) throws -> BudgetStatus {
        let used = totals.billedUnits
        var forecastUnits: Decimal?
        var forecastCost: Decimal?
        let elapsed = cutoff - period.start.microseconds
        if status == .closed {
            forecastUnits = used
            forecastCost = totals.cost
        } else if elapsed > 0 {
            let projected = DecimalText.rounded(
                Decimal(totals.bytesTotal) * Decimal(period.durationMicroseconds) / Decimal(elapsed), places: 0)
            let extra = projected - Decimal(totals.bytesTotal)
            var extended = slices
            var extraBytes = Int64(0)
            if extra > 0 {
                extraBytes = NSDecimalNumber(decimal: extra).int64Value
                extended.append(
                    UsageSlice(
                        start: cutoff, key: UsageKey(component: "", operation: "", success: true, errorType: ""),
                        sums: UsageSums(requests: 0, bytesUp: 0, bytesDown: 0, bytesTotal: extraBytes)))
            }
            let total = Decimal(totals.bytesTotal + extraBytes)
            forecastUnits = unit.units(bytes: total)
            forecastCost = try engine.costs(of: extended, totalBytes: total).reduce(0, +) + totals.planFee
        }
        func percent(_ units: Decimal?) -> Decimal? {
            guard let units, quota > 0 else { return nil }
            return units * 100 / quota
        }
        let usedPercent = percent(used)
        let forecastPercent = percent(forecastUnits)
        return BudgetStatus(
            includedUnits: quota, usedUnits: used, usedPercent: usedPercent, forecastUnits: forecastUnits,
            forecastCost: forecastCost, forecastPercent: forecastPercent,
            alert80: quota > 0 && used * 5 >= quota * 4, alert100: quota > 0 && used >= quota,
            forecastAlert80: quota > 0 && (forecastUnits ?? 0) * 5 >= quota * 4,
            forecastAlert100: quota > 0 && (forecastUnits ?? 0) >= quota)
    }
}
