import Foundation

/// RFC 3339 parsing and formatting without Foundation's date formatters (they allocate per call).
///
/// Source: RFC 3339 §5.6 `date-time`; the proleptic Gregorian calendar, days from civil per
/// Howard Hinnant's published algorithm.
extension LedgerTimestamp {
    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, always UTC, always six fraction digits.
    public var rfc3339: String {
        var out = [UInt8]()
        out.reserveCapacity(27)
        appendRFC3339(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The start of the UTC hour holding this instant.
    public var hourStart: LedgerTimestamp {
        LedgerTimestamp(microseconds: microseconds.floorDivided(by: Self.microsecondsPerHour).quotient * Self.microsecondsPerHour)
    }

    /// Appends the 27 UTF-8 bytes of ``rfc3339`` to `out` without allocating a `String`, for bulk
    /// paths such as the projection loader. Years 0000–9999 sort chronologically as text.
    public func appendRFC3339(to out: inout [UInt8]) {
        let (days, microsOfDay) = microseconds.floorDivided(by: Self.microsecondsPerDay)
        let (year, month, day) = civil(fromDays: days)
        let seconds = microsOfDay / 1_000_000
        let fraction = microsOfDay % 1_000_000
        appendDigits(&out, Int64(year), 4)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, Int64(month), 2)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, Int64(day), 2)
        out.append(UInt8(ascii: "T"))
        appendDigits(&out, seconds / 3600, 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, seconds / 60 % 60, 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, seconds % 60, 2)
        out.append(UInt8(ascii: "."))
        appendDigits(&out, fraction, 6)
        out.append(UInt8(ascii: "Z"))
    }

    /// Parses an RFC 3339 date-time (`2026-11-01T00:00:00Z`, `2026-11-01T01:00:00.5+01:00`), or a
    /// bare date `YYYY-MM-DD` taken as midnight UTC. Fraction digits past microseconds are truncated.
    ///
    /// - Returns: `nil` when `text` is not of that form, names an impossible date or time, or an
    ///   instant outside years 0000 to 9999 once its offset is applied.
    public init?(rfc3339 text: String) {
        var utf8 = Array(text.utf8)
        if utf8.count == 10 { utf8 += Array("T00:00:00Z".utf8) }
        guard let micros = utf8.withUnsafeBytes({ Self.microseconds(rfc3339: $0) }) else { return nil }
        self.init(microseconds: micros)
    }

    /// The instant of a full RFC 3339 date-time in UTF-8 bytes (no bare date), in UTC µs, or
    /// `nil` on the terms of ``init(rfc3339:)``; no allocation.
    static func microseconds(rfc3339 utf8: UnsafeRawBufferPointer) -> Int64? {
        guard utf8.count >= 20,
            let year = number(utf8, 0, 4), utf8[4] == UInt8(ascii: "-"),
            let month = number(utf8, 5, 2), utf8[7] == UInt8(ascii: "-"),
            let day = number(utf8, 8, 2),
            utf8[10] == UInt8(ascii: "T") || utf8[10] == UInt8(ascii: "t") || utf8[10] == UInt8(ascii: " "),
            let hour = number(utf8, 11, 2), utf8[13] == UInt8(ascii: ":"),
            let minute = number(utf8, 14, 2), utf8[16] == UInt8(ascii: ":"),
            let second = number(utf8, 17, 2),
            (1...12).contains(month), day >= 1, day <= daysInMonth(year, month),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var micros: Int64 = 0
        if index < utf8.count, utf8[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < utf8.count, let digit = asciiDigit(utf8[index]) {
                if digits < 6 { micros = micros * 10 + Int64(digit) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        guard index < utf8.count else { return nil }
        var offsetSeconds: Int64 = 0
        switch utf8[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == utf8.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == utf8.count, let oh = number(utf8, index + 1, 2),
                utf8[index + 3] == UInt8(ascii: ":"), let om = number(utf8, index + 4, 2), oh < 24, om < 60
            else { return nil }
            offsetSeconds = Int64(oh * 3600 + om * 60) * (utf8[index] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        let days = daysFromCivil(year, month, day)
        let secondsOfDay = Int64(hour * 3600 + minute * 60 + min(second, 59))
        let seconds = days * 86_400 + secondsOfDay - offsetSeconds
        // An offset can move a date at either end of the four-digit years past them
        // (`0000-01-01T00:00:00+01:00`); ``rfc3339`` could not write such an instant back.
        guard Self.rfc3339Range.contains(seconds * 1_000_000 + micros) else { return nil }
        return seconds * 1_000_000 + micros
    }

    /// The instants RFC 3339 can write, UTC µs: 0000-01-01T00:00:00Z through 9999-12-31T23:59:59.999999Z.
    static let rfc3339Range: ClosedRange<Int64> = -62_167_219_200_000_000...253_402_300_799_999_999
}

extension Int64 {
    /// Floor division and the non-negative remainder.
    func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = self / divisor
        var remainder = self % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}

private func asciiDigit(_ byte: UInt8) -> Int? {
    byte >= 48 && byte <= 57 ? Int(byte - 48) : nil
}

private func number(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ length: Int) -> Int? {
    var value = 0
    for index in start..<(start + length) {
        guard let digit = asciiDigit(bytes[index]) else { return nil }
        value = value * 10 + digit
    }
    return value
}

private func appendDigits(_ out: inout [UInt8], _ value: Int64, _ width: Int) {
    var divisor: Int64 = 1
    for _ in 1..<width { divisor *= 10 }
    var rest = value
    while divisor > 0 {
        out.append(UInt8(48 + (rest / divisor) % 10))
        rest %= divisor
        divisor /= 10
    }
}

private func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

private func daysInMonth(_ year: Int, _ month: Int) -> Int {
    switch month {
    case 2: return isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date.
func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
    let y = Int64(month <= 2 ? year - 1 : year)
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let m = Int64(month)
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    return (Int(year), Int(month), Int(day))
}
