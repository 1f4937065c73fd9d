public import Foundation

/// The unit a rate card prices: decimal gigabytes or binary gibibytes.
///
/// - `GB` = 10^9 bytes (SI, IEC 80000-13); Webshare's dashboard and bills use GB.
/// - `GiB` = 2^30 = 1,073,741,824 bytes (IEC binary prefix).
///
/// Bytes stay integers until this conversion; the conversion multiplies by the exact decimal
/// reciprocal (10^-9, or 2^-30 = 0.000000000931322574615478515625), so it is exact up to
/// Foundation `Decimal`'s 38 significant digits.
public enum BillingUnit: String, Sendable, Hashable, CaseIterable, Codable {
    /// 10^9 bytes.
    case gb = "GB"
    /// 2^30 bytes.
    case gib = "GiB"

    /// Bytes in one unit: 1,000,000,000 or 1,073,741,824.
    public var bytesPerUnit: Int64 {
        switch self {
        case .gb: 1_000_000_000
        case .gib: 1_073_741_824
        }
    }

    /// The exact reciprocal of ``bytesPerUnit`` (units per byte).
    var unitsPerByte: Decimal {
        switch self {
        case .gb: Decimal(sign: .plus, exponent: -9, significand: 1)
        case .gib: DecimalText.parse("0.000000000931322574615478515625") ?? Decimal(1) / 1_073_741_824
        }
    }

    /// The definition printed in every report, e.g. `"1 GB = 10^9 = 1,000,000,000 bytes"`.
    public var definition: String {
        switch self {
        case .gb: "1 GB = 10^9 = 1,000,000,000 bytes (decimal)"
        case .gib: "1 GiB = 2^30 = 1,073,741,824 bytes (binary)"
        }
    }

    /// Converts a byte amount to units, exactly.
    ///
    /// - Parameter bytes: Bytes (may be fractional when it comes from a unit boundary).
    /// - Returns: The amount in this unit.
    public func units(bytes: Decimal) -> Decimal {
        bytes * unitsPerByte
    }

    /// Converts a unit amount to bytes, exactly.
    ///
    /// - Parameter units: The amount in this unit.
    /// - Returns: Bytes (fractional when `units` is not a whole multiple of a byte).
    public func bytes(units: Decimal) -> Decimal {
        units * Decimal(bytesPerUnit)
    }
}
