public import Foundation
public import Ledger

/// A finance report for one period: what ``ReportBuilder`` computes and the renderers print.
///
/// Money is in ``currency``, unrounded (`Decimal`) unless a name says `rounded`; bytes are
/// integers; units are ``unit`` (GB = 10^9 bytes, GiB = 2^30 bytes). Instants are UTC µs and are
/// printed in ``period``'s zone with their offset. Nothing here depends on the wall clock: the
/// report is a function of the projection, the rate card and ``asOf``.
public struct FinanceReport: Sendable {
    /// The version of the JSON schema (`docs/reports.md`).
    public static let schemaVersion = 1

    /// The rate card's provider and plan (of the version in effect at the period start).
    public var provider: String
    /// The plan name.
    public var plan: String
    /// The ISO 4217 currency of every amount.
    public var currency: String
    /// The billed unit.
    public var unit: BillingUnit
    /// Graduated or volume pricing.
    public var model: PricingModel
    /// The period and its zone.
    public var period: ReportPeriod
    /// The instant the report is computed for: usage at or after it is not counted (UTC µs).
    public var asOf: LedgerTimestamp
    /// The newest event in the projection (data freshness), `nil` when it is empty.
    public var dataThrough: LedgerTimestamp?
    /// Closed once ``asOf`` reaches the period end, provisional before.
    public var status: PeriodStatus
    /// Period totals.
    public var totals: ReportTotals
    /// One line per local day of the period (days after ``asOf`` are zero and marked future).
    public var daily: [DailyLine]
    /// Usage cost by component, then an `unallocated` line (the plan fee).
    public var byComponent: [BreakdownLine]
    /// Usage cost by operation, then `unallocated`.
    public var byOperation: [BreakdownLine]
    /// Failed requests by error type (their cost is wasted), `(success)`, then `unallocated`.
    public var byErrorType: [BreakdownLine]
    /// The 10 jobs with the most bytes, then a remainder line.
    public var topJobs: [TopLine]
    /// The 10 channels with the most bytes, then a remainder line.
    public var topChannels: [TopLine]
    /// The 10 videos with the most bytes, then a remainder line.
    public var topVideos: [TopLine]
    /// Usage and cost per rate card version in effect during the period.
    public var priceSegments: [PriceSegmentLine]
    /// The rate card versions in effect during the period, by `effective_from`: their tiers,
    /// plan fee and included units (a second version is a price change inside the period).
    public var rateCards: [RateCard] = []
    /// Quota use, forecast and alerts.
    public var budget: BudgetStatus
    /// Ours against the vendor's bytes per day, when vendor figures were imported.
    public var reconciliation: ReconciliationSection?
    /// Whether each column of rounded line items adds up to its rounded total.
    public var roundingChecks: [RoundingCheck]
    /// Caveats a reader of the figures needs, in print order.
    public var notes: [String]
    /// How the figures were computed (units, rounding, sources): printed as a footnote.
    public var method: [String] = []
}

/// Whether a period is over.
public enum PeriodStatus: String, Sendable, Hashable, Codable {
    /// The as-of instant is before the period end: figures will still grow.
    case provisional
    /// The as-of instant is at or after the period end.
    case closed
}

/// Period totals over proxied requests.
public struct ReportTotals: Sendable, Hashable {
    /// Proxied requests.
    public var requests: Int64
    /// Proxied requests with `success = 1`.
    public var successfulRequests: Int64
    /// Proxied requests with `success = 0`.
    public var failedRequests: Int64
    /// Requests with `proxied = 0`, excluded from every other figure (nothing billed).
    public var unproxiedRequests: Int64
    /// Bytes client → gateway (`request_bytes`).
    public var bytesUp: Int64
    /// Bytes gateway → client (`response_bytes`).
    public var bytesDown: Int64
    /// Billed bytes (`estimated_bytes`: the measured total, or the estimate when not measured).
    public var bytesTotal: Int64
    /// ``bytesTotal`` in the card's unit, exact.
    public var billedUnits: Decimal
    /// The tiers' charge for the usage, unrounded.
    public var usageCost: Decimal
    /// The plan fee, once per period (0 when the card has none).
    public var planFee: Decimal
    /// ``usageCost`` + ``planFee``, unrounded.
    public var cost: Decimal
    /// The usage cost of failed requests, unrounded.
    public var wastedCost: Decimal
    /// Proxied `subtitle-download` requests that succeeded: the transcripts the cost bought.
    public var successfulTranscripts: Int64 = 0

    /// ``cost`` (plan fee included) ÷ ``successfulTranscripts``, unrounded; `nil` without one.
    public var costPerTranscript: Decimal? {
        successfulTranscripts == 0 ? nil : cost / Decimal(successfulTranscripts)
    }

    /// ``cost`` rounded once (half away from zero, 2 places).
    public var costRounded: Decimal { DecimalText.rounded(cost) }
    /// Successful ÷ all proxied requests, or `nil` without requests.
    public var successRate: Decimal? {
        requests == 0 ? nil : Decimal(successfulRequests) / Decimal(requests)
    }
}

/// Usage and cost of one local day.
public struct DailyLine: Sendable, Hashable {
    /// The local day, its bounds and length.
    public var day: LocalDay
    /// Proxied requests started that day.
    public var requests: Int64
    /// Billed bytes of that day.
    public var bytesTotal: Int64
    /// ``bytesTotal`` in the card's unit, exact.
    public var billedUnits: Decimal
    /// Usage cost, unrounded.
    public var cost: Decimal
    /// `true` when the day starts at or after the as-of instant.
    public var future: Bool
}

/// One line of a breakdown.
public struct BreakdownLine: Sendable, Hashable {
    /// The component, operation or error type; `unallocated` for the plan fee.
    public var name: String
    /// Proxied requests in this line.
    public var requests: Int64
    /// Billed bytes in this line.
    public var bytesTotal: Int64
    /// Cost, unrounded.
    public var cost: Decimal
    /// The part of ``cost`` spent on failed requests.
    public var wastedCost: Decimal
}

/// One line of a top-10 list; the last line of each list is the remainder.
public struct TopLine: Sendable, Hashable {
    /// The job id, channel name or video id; `(all others)` for the remainder.
    public var name: String
    /// Proxied requests in this line.
    public var requests: Int64
    /// Billed bytes in this line.
    public var bytesTotal: Int64
    /// For a job: what it was for, `video ID` or `channel NAME` (from its events); else `nil`.
    public var subject: String? = nil
}

/// Usage priced by one rate card version.
public struct PriceSegmentLine: Sendable, Hashable {
    /// The version's `effective_from` (UTC µs).
    public var effectiveFrom: LedgerTimestamp
    /// The part of the counted range `[period start, as-of)` this version priced.
    public var start: LedgerTimestamp
    /// The exclusive end of that part (UTC µs).
    public var end: LedgerTimestamp
    /// Billed bytes priced by this version.
    public var bytesTotal: Int64
    /// ``bytesTotal`` in the card's unit, exact.
    public var billedUnits: Decimal
    /// Usage cost, unrounded.
    public var cost: Decimal
}

/// Quota use and forecast. Percentages are of ``includedUnits``.
public struct BudgetStatus: Sendable, Hashable {
    /// The quota: included units of the version in effect at the period start.
    public var includedUnits: Decimal
    /// Units used from the period start to the as-of instant.
    public var usedUnits: Decimal
    /// `nil` when the quota is 0.
    public var usedPercent: Decimal?
    /// Units at the period end at the average rate so far; `nil` before any time has elapsed.
    public var forecastUnits: Decimal?
    /// Cost (unrounded) at the period end for ``forecastUnits``.
    public var forecastCost: Decimal?
    /// ``forecastUnits`` as a percentage of the quota; `nil` when the quota is 0 or there is no forecast.
    public var forecastPercent: Decimal?
    /// Used ≥ 80 % of the quota.
    public var alert80: Bool
    /// Used ≥ 100 % of the quota.
    public var alert100: Bool
    /// Forecast ≥ 80 % of the quota.
    public var forecastAlert80: Bool
    /// Forecast ≥ 100 % of the quota.
    public var forecastAlert100: Bool
}

/// Ours against the vendor's daily bytes.
public struct ReconciliationSection: Sendable, Hashable {
    /// The allowed difference, percent of the vendor's figure.
    public var tolerancePercent: Decimal
    /// One line per complete vendor day inside the counted range, by date.
    public var days: [ReconciliationDay]
    /// Stored vendor days inside the period that are not complete before the as-of time, so not
    /// reconciled yet.
    public var pendingDays: Int = 0
}

/// One reconciled day.
public struct ReconciliationDay: Sendable, Hashable {
    /// The vendor's date, `YYYY-MM-DD`.
    public var date: String
    /// The zone of the vendor's day: an IANA name, `Z` or a fixed offset `±HH:MM`.
    public var timeZone: String
    /// The import source (`vendor_usage_daily.source`), `""` when none.
    public var source: String
    /// Our bytes over that day: both directions, or only the response bytes against a source that
    /// logs only reply sizes (``comparesResponseBytesOnly``).
    public var oursBytes: Int64
    /// `true` for a native Squid log source (`squid-native`): its `%<st` sizes are what the gateway
    /// sent to the client, so they are compared with our response bytes.
    public var comparesResponseBytesOnly: Bool = false
    /// The vendor's bytes for that day (`vendor_usage_daily.bytes_total`).
    public var theirsBytes: Int64
    /// `(ours − theirs) / theirs × 100`; `nil` when theirs is 0.
    public var differencePercent: Decimal?
    /// `|difference| ≤ tolerance`; for a vendor 0, `true` only when ours is 0 too.
    public var withinTolerance: Bool
}

/// Whether a column of rounded line items adds up to the rounded total.
public struct RoundingCheck: Sendable, Hashable {
    /// `daily`, `by_component`, `by_operation` or `by_error_type`.
    public var column: String
    /// The sum of the line items, each rounded to cents.
    public var sumOfRoundedItems: Decimal
    /// The unrounded column total, rounded once to cents.
    public var roundedTotal: Decimal
    /// `true` when both agree.
    public var addsUp: Bool { sumOfRoundedItems == roundedTotal }
}
