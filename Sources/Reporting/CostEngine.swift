import Foundation
import Ledger

/// Prices usage against a ``RateCardSchedule``, exactly, in `Decimal`.
///
/// Usage is priced in chronological order. Each byte has a position: how many billable bytes
/// of the period came before it. The card in effect when the byte was transferred prices it:
/// positions below the card's included units cost nothing; above them, a graduated card charges
/// the price of the tier the position falls in, a volume card the price of the tier that the
/// period's total reaches. A price change therefore splits the period's cost at
/// `effective_from` while tier positions keep counting across it.
///
/// Amounts are kept as `bytes × price` (exact, few digits) and turned into money by the unit's
/// exact reciprocal only once per line, so nothing is rounded before the total.
struct CostEngine {
    let schedule: RateCardSchedule

    /// A very large byte position standing in for "unbounded".
    private static let unbounded = Decimal(sign: .plus, exponent: 30, significand: 1)

    /// The cost of each slice, in currency units, unrounded; index-aligned with `slices`.
    ///
    /// - Parameters:
    ///   - slices: Chronological usage (sorted by start, then key).
    ///   - totalBytes: The period's total billable bytes (chooses a volume card's tier).
    /// - Throws: ``ReportError`` `.noEffectiveRateCard` when a slice starts before every version.
    func costs(of slices: [UsageSlice], totalBytes: Decimal) throws -> [Decimal] {
        var position = Decimal(0)
        var result: [Decimal] = []
        result.reserveCapacity(slices.count)
        for slice in slices {
            let card = try self.card(at: slice.start)
            let bytes = Decimal(slice.sums.bytesTotal)
            let scaled = Self.scaledCost(card: card, from: position, to: position + bytes, totalBytes: totalBytes)
            result.append(card.unit.units(bytes: scaled))
            position += bytes
        }
        return result
    }

    /// The version in effect at `microseconds`.
    ///
    /// - Throws: ``ReportError`` `.noEffectiveRateCard`.
    func card(at microseconds: Int64) throws -> RateCard {
        let instant = LedgerTimestamp(microseconds: microseconds)
        guard let card = schedule.card(at: instant) else {
            let first = schedule.cards[0].effectiveFrom.rfc3339
            throw ReportError(
                code: .noEffectiveRateCard,
                message: "no rate card version is effective at \(instant.rfc3339); the first takes effect at \(first)")
        }
        return card
    }

    /// `Σ billable bytes × unit price` for byte positions `[from, to)`.
    static func scaledCost(card: RateCard, from: Decimal, to: Decimal, totalBytes: Decimal) -> Decimal {
        guard to > from else { return 0 }
        let included = card.unit.bytes(units: card.includedUnits)
        let lower = max(from, included)
        guard to > lower else { return 0 }
        switch card.model {
        case .volume:
            let totalUnits = card.unit.units(bytes: totalBytes)
            let tier = card.tiers.first { tier in tier.upToUnits.map { totalUnits <= $0 } ?? true }
            return (to - lower) * (tier?.unitPrice ?? 0)
        case .graduated:
            var cost = Decimal(0)
            var bandStart = Decimal(0)
            for tier in card.tiers {
                let bandEnd = tier.upToUnits.map { card.unit.bytes(units: $0) } ?? unbounded
                let overlap = min(to, bandEnd) - max(lower, bandStart)
                if overlap > 0 { cost += overlap * tier.unitPrice }
                bandStart = bandEnd
                if bandStart >= to { break }
            }
            return cost
        }
    }
}
