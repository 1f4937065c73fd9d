public import Foundation
public import Ledger

/// A half-open report interval `[start, end)` and the zone its local days are counted in.
///
/// Billing periods run from local midnight of the rate card's anchor day to local midnight of
/// the same day next month, in the rate card's zone (or the zone given with `--tz`). Local days
/// follow the zone's calendar, so a day is 23 or 25 hours long at a daylight-saving change.
public struct ReportPeriod: Sendable, Hashable {
    /// The first instant inside the period (UTC µs).
    public var start: LedgerTimestamp
    /// The first instant after the period (UTC µs); exclusive.
    public var end: LedgerTimestamp
    /// The zone of local days and of printed times.
    public var timeZone: TimeZone
    /// A short label: `2026-11` for a billing period, `2026-11-03_2026-11-10` for a custom range.
    public var label: String
    /// `true` for a billing period from ``billingPeriod(month:rule:timeZone:)``: the plan fee
    /// applies once. `false` for a custom range: no plan fee, and included units and tiers count
    /// from the range start.
    public var isBillingPeriod = false

    /// Creates a custom period.
    ///
    /// - Parameters:
    ///   - start: Inclusive start (UTC µs).
    ///   - end: Exclusive end (UTC µs), after `start`.
    ///   - timeZone: The zone of local days.
    ///   - label: A short label; `nil` derives one from the local dates of `start` and `end`.
    /// - Throws: ``ReportError`` `.invalidPeriod` when `end <= start`.
    public init(start: LedgerTimestamp, end: LedgerTimestamp, timeZone: TimeZone, label: String? = nil) throws {
        guard end > start else {
            throw ReportError(
                code: .invalidPeriod, message: "the period end \(end.rfc3339) must be after its start \(start.rfc3339)")
        }
        self.start = start
        self.end = end
        self.timeZone = timeZone
        self.label =
            label ?? "\(ZonedTime.localDate(start, in: timeZone))_\(ZonedTime.localDate(end, in: timeZone))"
    }

    /// The billing period that starts in calendar month `month` (`YYYY-MM`).
    ///
    /// - Parameters:
    ///   - month: `YYYY-MM`, e.g. `2026-11`.
    ///   - rule: The rate card's anchor day and zone.
    ///   - timeZone: A zone overriding the rule's zone (`--tz`), or `nil`.
    /// - Returns: `[anchor day 00:00 local, same day next month 00:00 local)`.
    /// - Throws: ``ReportError`` `.invalidPeriod` when `month` is not `YYYY-MM`.
    public static func billingPeriod(month: String, rule: BillingPeriodRule, timeZone: TimeZone? = nil) throws
        -> ReportPeriod
    {
        let parts = month.split(separator: "-")
        guard month.count == 7, parts.count == 2, let year = Int(parts[0]), let number = Int(parts[1]),
            (1...12).contains(number)
        else {
            throw ReportError(
                code: .invalidPeriod, message: "--period must be a month YYYY-MM such as 2026-11, got \(month)")
        }
        let zone = timeZone ?? rule.timeZone
        let start = ZonedTime.startOfDay(year: year, month: number, day: rule.anchorDay, in: zone)
        let nextYear = number == 12 ? year + 1 : year
        let end = ZonedTime.startOfDay(year: nextYear, month: number % 12 + 1, day: rule.anchorDay, in: zone)
        var period = try ReportPeriod(start: start, end: end, timeZone: zone, label: month)
        period.isBillingPeriod = true
        return period
    }

    /// The billing period that contains `instant`.
    ///
    /// - Parameters:
    ///   - instant: Any instant (UTC µs).
    ///   - rule: The rate card's anchor day and zone.
    ///   - timeZone: A zone overriding the rule's zone, or `nil`.
    /// - Returns: The period whose `[start, end)` contains `instant`.
    /// - Throws: ``ReportError`` `.invalidPeriod` (not expected for valid rules).
    public static func billingPeriod(
        containing instant: LedgerTimestamp, rule: BillingPeriodRule, timeZone: TimeZone? = nil
    )
        throws -> ReportPeriod
    {
        let zone = timeZone ?? rule.timeZone
        let parts = ZonedTime.localDate(instant, in: zone).split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else {
            throw ReportError(code: .invalidPeriod, message: "cannot place \(instant.rfc3339) in a local date")
        }
        var (year, month) = (parts[0], parts[1])
        if parts[2] < rule.anchorDay {
            (year, month) = month == 1 ? (year - 1, 12) : (year, month - 1)
        }
        let label = String(format: "%04d-%02d", year, month)
        return try billingPeriod(month: label, rule: rule, timeZone: zone)
    }

    /// The local days of the period, in order; the first and last are clipped to the period.
    ///
    /// - Returns: One ``LocalDay`` per local calendar date touched by `[start, end)`.
    public func localDays() -> [LocalDay] {
        var days: [LocalDay] = []
        var dayStart = ZonedTime.startOfLocalDay(containing: start, in: timeZone)
        while dayStart < end {
            let next = ZonedTime.startOfNextLocalDay(after: dayStart, in: timeZone)
            days.append(
                LocalDay(
                    date: ZonedTime.localDate(dayStart, in: timeZone),
                    start: max(dayStart, start), end: min(next, end)))
            dayStart = next
        }
        return days
    }

    /// The length of the period in µs.
    public var durationMicroseconds: Int64 { end.microseconds - start.microseconds }
}

/// One local calendar day of a report period.
public struct LocalDay: Sendable, Hashable {
    /// The local date, `YYYY-MM-DD`.
    public var date: String
    /// Local midnight (or the period start), UTC µs.
    public var start: LedgerTimestamp
    /// The next local midnight (or the period end), UTC µs; exclusive.
    public var end: LedgerTimestamp

    /// The length in hours, exact (23, 24 or 25 at whole-hour zones; fractional when clipped).
    public var hours: Decimal {
        Decimal(end.microseconds - start.microseconds) / Decimal(LedgerTimestamp.microsecondsPerHour)
    }
}

extension ReportPeriod {
    /// Parses a command-line instant: RFC 3339 with an offset (`2026-11-03T12:00:00+01:00`), or a
    /// date `YYYY-MM-DD` taken as local midnight in `zone` (not UTC).
    ///
    /// - Parameters:
    ///   - text: The text.
    ///   - zone: The zone of a bare date.
    /// - Returns: The instant (UTC µs), or `nil` when `text` is neither form.
    public static func parseInstant(_ text: String, in zone: TimeZone) -> LedgerTimestamp? {
        ZonedTime.parse(text, in: zone)
    }
}
