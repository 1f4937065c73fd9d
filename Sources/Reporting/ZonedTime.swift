import Foundation
import Ledger

/// Time zone arithmetic through Foundation's Gregorian `Calendar` and `TimeZone` (tzdata).
enum ZonedTime {
    /// A Gregorian calendar in `zone`.
    static func calendar(_ zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        calendar.locale = Locale(identifier: "en_US_POSIX")
        return calendar
    }

    static func date(_ instant: LedgerTimestamp) -> Date {
        Date(timeIntervalSince1970: TimeInterval(instant.microseconds) / 1_000_000)
    }

    static func instant(_ date: Date) -> LedgerTimestamp {
        // Boundaries are whole seconds, which `Double` holds exactly.
        LedgerTimestamp(microseconds: Int64((date.timeIntervalSince1970 * 1_000).rounded()) * 1_000)
    }

    /// The first instant of local date `year-month-day` in `zone` (midnight, or the first
    /// existing time when a daylight-saving change skips midnight).
    static func startOfDay(year: Int, month: Int, day: Int, in zone: TimeZone) -> LedgerTimestamp {
        let calendar = calendar(zone)
        let noon = DateComponents(year: year, month: month, day: day, hour: 12)
        let date = calendar.date(from: noon) ?? Date(timeIntervalSince1970: 0)
        return instant(calendar.startOfDay(for: date))
    }

    static func startOfLocalDay(containing instant: LedgerTimestamp, in zone: TimeZone) -> LedgerTimestamp {
        self.instant(calendar(zone).startOfDay(for: date(instant)))
    }

    static func startOfNextLocalDay(after dayStart: LedgerTimestamp, in zone: TimeZone) -> LedgerTimestamp {
        let calendar = calendar(zone)
        let parts = calendar.dateComponents([.year, .month, .day], from: date(dayStart))
        var next = DateComponents(year: parts.year, month: parts.month, day: parts.day, hour: 12)
        next.day = (parts.day ?? 1) + 1
        let noon = calendar.date(from: next) ?? date(dayStart).addingTimeInterval(86_400)
        return instant(calendar.startOfDay(for: noon))
    }

    /// The offset of `zone` from UTC at `instant`, in seconds.
    static func offsetSeconds(_ instant: LedgerTimestamp, in zone: TimeZone) -> Int {
        zone.secondsFromGMT(for: date(instant))
    }

    /// RFC 3339 / ISO 8601 local time with offset, e.g. `2026-11-01T00:00:00-04:00`; fraction
    /// digits only when the instant has them.
    static func rfc3339(_ instant: LedgerTimestamp, in zone: TimeZone) -> String {
        let offset = offsetSeconds(instant, in: zone)
        var text = LedgerTimestamp(microseconds: instant.microseconds + Int64(offset) * 1_000_000).rfc3339
        text.removeLast()  // "Z"
        if text.hasSuffix(".000000") { text.removeLast(7) }
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) / 60
        return text + sign + String(format: "%02d:%02d", minutes / 60, minutes % 60)
    }

    /// The local date `YYYY-MM-DD` of `instant` in `zone`.
    static func localDate(_ instant: LedgerTimestamp, in zone: TimeZone) -> String {
        String(rfc3339(instant, in: zone).prefix(10))
    }

    /// Parses an RFC 3339 instant, or a date `YYYY-MM-DD` taken as local midnight in `zone`.
    static func parse(_ text: String, in zone: TimeZone) -> LedgerTimestamp? {
        if text.count == 10 {
            let parts = text.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 3, LedgerTimestamp(rfc3339: text) != nil else { return nil }
            return startOfDay(year: parts[0], month: parts[1], day: parts[2], in: zone)
        }
        return LedgerTimestamp(rfc3339: text)
    }
}
