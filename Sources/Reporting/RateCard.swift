public import Foundation
public import Ledger

/// One version of a proxy provider's price list, as finance writes it in a JSON rate card file.
///
/// The file format (keys are fixed; see `docs/rate-cards.md` and
/// `Fixtures/rate-card.example.json`):
///
/// ```json
/// { "provider": "webshare", "plan": "residential-50", "currency": "USD", "unit": "GB",
///   "included_units": "50", "plan_fee": "175.00",
///   "tiers": [ { "up_to_units": "250", "unit_price": "3.50" },
///              { "up_to_units": null,  "unit_price": "3.00" } ],
///   "model": "graduated",
///   "billing_period": { "anchor_day": 1, "time_zone": "America/New_York" },
///   "effective_from": "2026-01-01T00:00:00-05:00" }
/// ```
///
/// Tier bounds count every unit of the billing period from zero, the included units among them;
/// the first ``includedUnits`` units cost nothing. Load cards with ``RateCardSchedule/load(path:)``.
public struct RateCard: Sendable, Hashable {
    /// The provider, e.g. `webshare`.
    public var provider: String
    /// The plan name.
    public var plan: String
    /// The ISO 4217 currency code of every price, e.g. `USD`.
    public var currency: String
    /// The priced unit (GB = 10^9 bytes, GiB = 2^30 bytes).
    public var unit: BillingUnit
    /// Units per billing period paid for by the plan fee; they cost nothing in the tiers.
    public var includedUnits: Decimal
    /// Price bands in ascending order; the last one is unbounded.
    public var tiers: [RateTier]
    /// Graduated (each unit priced by its own tier) or volume (every unit at the tier the total reaches).
    public var model: PricingModel
    /// A fixed amount (currency units) added once per billing period; `nil` for none.
    public var planFee: Decimal?
    /// When billing periods start, and in which zone.
    public var billingPeriod: BillingPeriodRule
    /// The instant this version takes effect (UTC µs); it applies until the next version's.
    public var effectiveFrom: LedgerTimestamp

    /// Creates a rate card version. ``RateCardSchedule`` validates; this initialiser does not.
    ///
    /// - Parameters:
    ///   - provider: The provider.
    ///   - plan: The plan name.
    ///   - currency: ISO 4217 code.
    ///   - unit: GB or GiB.
    ///   - includedUnits: Units included per period.
    ///   - tiers: Ascending bands, the last unbounded.
    ///   - model: Graduated or volume.
    ///   - planFee: Added once per period (currency units), or `nil`.
    ///   - billingPeriod: Anchor day and zone.
    ///   - effectiveFrom: When this version takes effect (UTC µs).
    public init(
        provider: String, plan: String, currency: String, unit: BillingUnit, includedUnits: Decimal,
        tiers: [RateTier], model: PricingModel = .graduated, planFee: Decimal? = nil,
        billingPeriod: BillingPeriodRule, effectiveFrom: LedgerTimestamp
    ) {
        self.provider = provider
        self.plan = plan
        self.currency = currency
        self.unit = unit
        self.includedUnits = includedUnits
        self.tiers = tiers
        self.model = model
        self.planFee = planFee
        self.billingPeriod = billingPeriod
        self.effectiveFrom = effectiveFrom
    }
}

/// One price band of a rate card.
public struct RateTier: Sendable, Hashable {
    /// The upper bound of the band in units (inclusive of the unit that reaches it), counted
    /// from zero over the billing period; `nil` for the last, unbounded band.
    public var upToUnits: Decimal?
    /// The price of one unit in this band, in the card's currency.
    public var unitPrice: Decimal

    /// Creates a band.
    ///
    /// - Parameters:
    ///   - upToUnits: The upper bound in units, `nil` for unbounded.
    ///   - unitPrice: The price per unit (currency units).
    public init(upToUnits: Decimal?, unitPrice: Decimal) {
        self.upToUnits = upToUnits
        self.unitPrice = unitPrice
    }
}

/// How tiers price the units of a period.
public enum PricingModel: String, Sendable, Hashable, Codable {
    /// Each unit is priced by the tier it falls in (the default).
    case graduated
    /// Every unit is priced at the tier that the period's total reaches.
    case volume
}

/// When billing periods start: local midnight of ``anchorDay`` in ``timeZone`` each month.
public struct BillingPeriodRule: Sendable, Hashable {
    /// The day of the month a period starts, 1–28.
    public var anchorDay: Int
    /// The IANA zone of period and day boundaries, e.g. `America/New_York`.
    public var timeZone: TimeZone

    /// Creates a rule.
    ///
    /// - Parameters:
    ///   - anchorDay: 1–28.
    ///   - timeZone: The zone of the boundaries.
    public init(anchorDay: Int, timeZone: TimeZone) {
        self.anchorDay = anchorDay
        self.timeZone = timeZone
    }
}

/// The versions of one rate card, ordered by ``RateCard/effectiveFrom``.
///
/// Every version shares currency, unit and billing period (validated on load), so a period's
/// cost can be split at a price change without changing what a unit or a period is.
public struct RateCardSchedule: Sendable, Hashable {
    /// The versions, ascending by effective instant, at least one.
    public let cards: [RateCard]

    /// Creates a schedule after validating that versions agree.
    ///
    /// - Parameter cards: One or more versions in any order.
    /// - Throws: ``ReportError`` `.invalidRateCard` when the list is empty, two versions share an
    ///   `effective_from`, or versions differ in `currency`, `unit` or `billing_period`.
    public init(cards: [RateCard]) throws {
        let sorted = cards.sorted { $0.effectiveFrom < $1.effectiveFrom }
        guard let first = sorted.first else {
            throw ReportError(code: .invalidRateCard, message: "the rate card list is empty", field: "[]")
        }
        for (index, card) in sorted.enumerated().dropFirst() {
            let checks: [(String, Bool)] = [
                ("currency", card.currency == first.currency), ("unit", card.unit == first.unit),
                ("billing_period", card.billingPeriod == first.billingPeriod),
                ("effective_from", card.effectiveFrom != sorted[index - 1].effectiveFrom),
            ]
            if let failed = checks.first(where: { !$0.1 }) {
                throw ReportError(
                    code: .invalidRateCard,
                    message: "rate card versions must share currency, unit and billing_period and have distinct "
                        + "effective_from instants; the version effective \(card.effectiveFrom.rfc3339) differs in \(failed.0)",
                    field: failed.0
                )
            }
        }
        self.cards = sorted
    }

    /// The currency of every version.
    public var currency: String { cards[0].currency }
    /// The unit of every version.
    public var unit: BillingUnit { cards[0].unit }
    /// The billing period rule of every version.
    public var billingPeriod: BillingPeriodRule { cards[0].billingPeriod }

    /// The version in effect at `instant`: the last one whose `effectiveFrom <= instant`.
    ///
    /// - Parameter instant: UTC µs.
    /// - Returns: The card, or `nil` before the first version.
    public func card(at instant: LedgerTimestamp) -> RateCard? {
        cards.last { $0.effectiveFrom <= instant }
    }

    /// Reads and validates a rate card file (one card object, or a list of versions).
    ///
    /// - Parameter path: The JSON file.
    /// - Returns: The schedule.
    /// - Throws: ``ReportError`` `.rateCardUnreadable` when the file cannot be read;
    ///   `.invalidRateCard` naming the field when JSON or a field is missing or invalid.
    public static func load(path: String) throws -> RateCardSchedule {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReportError(code: .rateCardUnreadable, message: "cannot read the rate card file \(path)")
        }
        return try parse(json: Array(data))
    }

    /// Parses and validates rate card JSON (one card object, or a list of versions).
    ///
    /// - Parameter json: UTF-8 JSON text.
    /// - Returns: The schedule.
    /// - Throws: ``ReportError`` `.invalidRateCard` naming the field.
    public static func parse(json: [UInt8]) throws -> RateCardSchedule {
        try RateCardParser.parse(json)
    }
}
