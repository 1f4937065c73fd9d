import Foundation
import Ledger

/// Turns rate card JSON into ``RateCardSchedule``, naming the field of every error.
enum RateCardParser {
    /// Keys a card may hold; anything else is reported as an unknown field (a typo, most likely).
    static let knownKeys: Set<String> = [
        "provider", "plan", "currency", "unit", "included_units", "tiers", "model", "plan_fee",
        "billing_period", "effective_from", "description", "notes",
    ]

    /// Parses one card object or a list of them.
    ///
    /// - Throws: ``ReportError`` `.invalidRateCard`.
    static func parse(_ bytes: [UInt8]) throws -> RateCardSchedule {
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes)
        } catch {
            throw ReportError(
                code: .invalidRateCard, message: "the rate card is not valid JSON", underlying: "\(error)")
        }
        switch root {
        case .object(let object):
            return try RateCardSchedule(cards: [card(object, path: "")])
        case .array(let items):
            let cards = try items.enumerated().map { index, item in
                guard case .object(let object) = item else {
                    throw invalid("[\(index)]", "must be a rate card object")
                }
                return try card(object, path: "[\(index)].")
            }
            return try RateCardSchedule(cards: cards)
        default:
            throw invalid("", "the rate card file must hold a JSON object or a list of objects")
        }
    }

    private static func invalid(_ field: String, _ problem: String) -> ReportError {
        let label = field.isEmpty ? "rate card" : "rate card field `\(field)`"
        return ReportError(code: .invalidRateCard, message: "\(label): \(problem)", field: field)
    }

    private static func card(_ object: [String: JSONValue], path: String) throws -> RateCard {
        if let unknown = object.keys.sorted().first(where: { !knownKeys.contains($0) }) {
            throw invalid(path + unknown, "unknown field (known: \(knownKeys.sorted().joined(separator: ", ")))")
        }
        let provider = try text(object, "provider", path)
        let plan = try text(object, "plan", path)
        let currency = try text(object, "currency", path)
        guard currency.count == 3, currency.allSatisfy({ ("A"..."Z").contains($0) }) else {
            throw invalid(path + "currency", "must be an ISO 4217 code such as \"USD\", got \"\(currency)\"")
        }
        let unitText = try text(object, "unit", path)
        guard let unit = BillingUnit(rawValue: unitText) else {
            throw invalid(path + "unit", "must be \"GB\" or \"GiB\", got \"\(unitText)\"")
        }
        let included = try decimal(object, "included_units", path)
        let tiers = try parseTiers(object["tiers"], path: path + "tiers")
        var model = PricingModel.graduated
        if let value = object["model"], value != .null {
            guard case .string(let name) = value, let parsed = PricingModel(rawValue: name) else {
                throw invalid(path + "model", "must be \"graduated\" or \"volume\"")
            }
            model = parsed
        }
        let planFee = try object["plan_fee"].flatMap { $0 == .null ? nil : $0 }.map { _ in
            try decimal(object, "plan_fee", path)
        }
        let rule = try billingPeriod(object["billing_period"], path: path + "billing_period")
        let effectiveText = try text(object, "effective_from", path)
        guard effectiveText.count > 10, let effective = LedgerTimestamp(rfc3339: effectiveText) else {
            throw invalid(
                path + "effective_from", "must be an RFC 3339 instant such as 2026-11-01T00:00:00-05:00")
        }
        return RateCard(
            provider: provider, plan: plan, currency: currency, unit: unit, includedUnits: included, tiers: tiers,
            model: model, planFee: planFee, billingPeriod: rule, effectiveFrom: effective)
    }

    private static func text(_ object: [String: JSONValue], _ key: String, _ path: String) throws -> String {
        guard let value = object[key], value != .null else { throw invalid(path + key, "is missing") }
        guard case .string(let string) = value, !string.isEmpty else {
            throw invalid(path + key, "must be a non-empty string")
        }
        return string
    }

    private static func decimal(_ object: [String: JSONValue], _ key: String, _ path: String) throws -> Decimal {
        guard let value = object[key], value != .null else { throw invalid(path + key, "is missing") }
        guard case .string(let string) = value else {
            throw invalid(
                path + key, "must be a decimal string such as \"3.50\" (not a JSON number: no floating point)")
        }
        guard let parsed = DecimalText.parse(string) else {
            throw invalid(path + key, "must be a non-negative decimal string such as \"3.50\", got \"\(string)\"")
        }
        return parsed
    }

    private static func parseTiers(_ value: JSONValue?, path: String) throws -> [RateTier] {
        guard let value, value != .null else { throw invalid(path, "is missing") }
        guard case .array(let items) = value, !items.isEmpty else {
            throw invalid(path, "must be a non-empty list of {\"up_to_units\", \"unit_price\"}")
        }
        var tiers: [RateTier] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard case .object(let tier) = item else { throw invalid(itemPath, "must be an object") }
            if let unknown = tier.keys.sorted().first(where: { $0 != "up_to_units" && $0 != "unit_price" }) {
                throw invalid("\(itemPath).\(unknown)", "unknown field (known: up_to_units, unit_price)")
            }
            let price = try decimal(tier, "unit_price", itemPath + ".")
            guard let bound = tier["up_to_units"] else {
                throw invalid(itemPath + ".up_to_units", "is missing (use null for the last, unbounded tier)")
            }
            let upTo = bound == .null ? nil : try decimal(tier, "up_to_units", itemPath + ".")
            if let upTo, let previous = tiers.last?.upToUnits, upTo <= previous {
                throw invalid(itemPath + ".up_to_units", "must be greater than the previous tier's bound")
            }
            if upTo == 0 { throw invalid(itemPath + ".up_to_units", "must be greater than 0") }
            if tiers.last.map({ $0.upToUnits == nil }) == true {
                throw invalid(itemPath, "follows the unbounded tier; only the last tier may have up_to_units null")
            }
            tiers.append(RateTier(upToUnits: upTo, unitPrice: price))
        }
        if tiers.last?.upToUnits != nil {
            throw invalid("\(path)[\(tiers.count - 1)].up_to_units", "the last tier must be unbounded (null)")
        }
        return tiers
    }

    private static func billingPeriod(_ value: JSONValue?, path: String) throws -> BillingPeriodRule {
        guard let value, value != .null else { throw invalid(path, "is missing") }
        guard case .object(let object) = value else {
            throw invalid(path, "must be an object {\"anchor_day\", \"time_zone\"}")
        }
        if let unknown = object.keys.sorted().first(where: { $0 != "anchor_day" && $0 != "time_zone" }) {
            throw invalid("\(path).\(unknown)", "unknown field (known: anchor_day, time_zone)")
        }
        guard case .integer(let day) = object["anchor_day"] ?? .null, (1...28).contains(day) else {
            throw invalid(path + ".anchor_day", "must be an integer from 1 to 28")
        }
        let zoneName = try text(object, "time_zone", path + ".")
        guard let zone = TimeZone(identifier: zoneName) else {
            throw invalid(
                path + ".time_zone", "must be an IANA time zone such as \"Europe/Berlin\", got \"\(zoneName)\"")
        }
        return BillingPeriodRule(anchorDay: Int(day), timeZone: zone)
    }
}
