public import Foundation

/// Exact decimal parsing, rounding and formatting for money and billed units.
///
/// Everything stays `Decimal` (base-10, 38 significant digits); no `Double` is involved, so
/// `1.005` rounds to `1.01` as an auditor expects (binary floating point holds `1.00499999…`).
///
/// Rounding mode: **half away from zero** (`NSDecimalRound` with `.plain`, "commercial
/// rounding"), applied once, to the report total, at ``DecimalText/currencyPlaces`` places.
/// Line items are shown rounded the same way but summed unrounded.
public enum DecimalText {
    /// Decimal places of money amounts: 2 (cents).
    public static let currencyPlaces = 2

    /// The rounding mode of every rounded amount: `.plain` (half away from zero).
    public static let roundingMode: NSDecimalNumber.RoundingMode = .plain

    /// A human description of the rounding rule, printed in every report.
    public static let roundingRule =
        "total rounded once to 2 decimal places, half away from zero (NSDecimalRound .plain); "
        + "line items shown rounded but summed unrounded"

    /// Parses a non-negative decimal string such as `"0"`, `"12"`, `"3.50"`.
    ///
    /// Strict: digits, an optional `.` and more digits, nothing else (no sign, exponent, spaces
    /// or thousands separators), at most 38 significant digits.
    ///
    /// - Parameter text: The decimal string.
    /// - Returns: The exact value, or `nil` when `text` is not of that form.
    public static func parse(_ text: String) -> Decimal? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) })
        else { return nil }
        let digits = parts.joined().drop(while: { $0 == "0" })
        guard digits.count <= 38 else { return nil }
        return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
    }

    /// `value` rounded to `places` decimal places, half away from zero.
    ///
    /// - Parameters:
    ///   - value: The exact amount.
    ///   - places: Decimal places to keep (2 for cents).
    /// - Returns: The rounded amount.
    public static func rounded(_ value: Decimal, places: Int = currencyPlaces) -> Decimal {
        var input = value
        var output = Decimal()
        NSDecimalRound(&output, &input, places, roundingMode)
        return output
    }

    /// `value` rounded to `places` and written with exactly `places` fraction digits
    /// (`"1.10"`, `"-0.05"`, `"12"` for 0 places). No grouping, `.` as separator.
    ///
    /// - Parameters:
    ///   - value: The amount.
    ///   - places: Fraction digits (≥ 0).
    /// - Returns: The fixed-point text.
    public static func fixed(_ value: Decimal, places: Int = currencyPlaces) -> String {
        let rounded = rounded(value, places: places)
        var scale = Decimal(1)
        for _ in 0..<places { scale *= 10 }
        var integer = rounded * scale
        let negative = integer < 0
        if negative { integer = -integer }
        var digits = exact(integer)
        if let dot = digits.firstIndex(of: ".") { digits = String(digits[..<dot]) }
        if digits.count <= places { digits = String(repeating: "0", count: places + 1 - digits.count) + digits }
        let sign = negative && digits.contains(where: { $0 != "0" }) ? "-" : ""
        guard places > 0 else { return sign + digits }
        let split = digits.index(digits.endIndex, offsetBy: -places)
        return sign + digits[..<split] + "." + digits[split...]
    }

    /// The exact value in plain notation (`"0.000000931322574615478515625"`), no exponent,
    /// no trailing zeros.
    ///
    /// - Parameter value: The value.
    /// - Returns: Its exact decimal text.
    public static func exact(_ value: Decimal) -> String {
        let text = NSDecimalNumber(decimal: value).description(withLocale: Locale(identifier: "en_US_POSIX"))
        return text
    }

    /// An integer with `,` between thousands (`1,234,567`), for human formats.
    ///
    /// - Parameter value: The integer (bytes, requests).
    /// - Returns: The grouped text.
    public static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// `part / whole × 100` with `places` decimals, or `nil` when `whole` is zero.
    ///
    /// - Parameters:
    ///   - part: The numerator.
    ///   - whole: The denominator.
    ///   - places: Fraction digits of the percentage.
    /// - Returns: The percentage text such as `"85.71"`.
    public static func percent(_ part: Decimal, of whole: Decimal, places: Int = 2) -> String? {
        guard whole != 0 else { return nil }
        return fixed(part * 100 / whole, places: places)
    }
}

extension Character {
    /// `0`…`9` only (not other Unicode digits).
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
