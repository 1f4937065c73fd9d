public import Foundation
public import Ledger
public import Projections

/// What to report: the rate card, the period and the as-of instant.
public struct ReportRequest: Sendable {
    /// The rate card versions.
    public var schedule: RateCardSchedule
    /// The period (`[start, end)` in its zone).
    public var period: ReportPeriod
    /// Usage at or after this instant is not counted, and it decides provisional or closed. `nil`
    /// takes the newest event + 1 µs (the data freshness), so the report is reproducible from the
    /// projection alone; pass the wall clock explicitly (`--as-of now`) for a live view.
    public var asOf: LedgerTimestamp?
    /// Allowed difference between our and the vendor's daily bytes, percent (default 0.5).
    public var tolerancePercent: Decimal
    /// Entries per top list (default 10).
    public var topCount: Int
    /// Where usage is read from (default ``UsageSource/rollups``; ``UsageSource/requestLogs``
    /// computes the same report from `proxy_request_logs` alone, for checks and benchmarks).
    public var usageSource: UsageSource

    /// Creates a request.
    ///
    /// - Parameters:
    ///   - schedule: The rate card versions.
    ///   - period: The period.
    ///   - asOf: The as-of instant, or `nil` for the data freshness.
    ///   - tolerancePercent: Reconciliation tolerance in percent.
    ///   - topCount: Entries per top list.
    ///   - usageSource: The rollups (default) or `proxy_request_logs` alone.
    public init(
        schedule: RateCardSchedule, period: ReportPeriod, asOf: LedgerTimestamp? = nil,
        tolerancePercent: Decimal = Decimal(string: "0.5") ?? 1, topCount: Int = 10,
        usageSource: UsageSource = .rollups
    ) {
        self.schedule = schedule
        self.period = period
        self.asOf = asOf
        self.tolerancePercent = tolerancePercent
        self.topCount = topCount
        self.usageSource = usageSource
    }
}

/// Computes a ``FinanceReport`` from the projection database.
///
/// Reads one consistent snapshot (a single read transaction): totals, daily series and
/// breakdowns from the hourly rollup `proxy_usage_hourly`, top lists from
/// `proxy_usage_hourly_by_key`, and only the UTC hours a boundary cuts from `proxy_request_logs`. Rebuilding the projection from the ledger yields the same rows and so
/// the same report, byte for byte.
///
/// ```swift
/// let schedule = try RateCardSchedule.load(path: "rate-card.json")
/// let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: schedule.billingPeriod)
/// let report = try ReportBuilder.build(store: store, request: ReportRequest(schedule: schedule, period: period))
/// let html = ReportRenderer.render(report, as: .html)
/// ```
public enum ReportBuilder {
    /// The operation whose successes are transcripts (`cost per successful transcript`).
    static let transcriptOperation = "subtitle-download"

    /// Builds the report.
    ///
    /// - Parameters:
    ///   - store: The projection database.
    ///   - request: Rate card, period and as-of instant.
    /// - Returns: The report.
    /// - Throws: ``ReportError`` `.databaseReadFailed` when a query fails, `.noEffectiveRateCard`
    ///   when part of the period has no rate card version.
    public static func build(store: ProjectionStore, request: ReportRequest) throws -> FinanceReport {
        let period = request.period
        let days = period.localDays()
        let read = try readProjection(store, request: request, days: days)
        let engine = CostEngine(schedule: request.schedule)
        let slices = read.snapshot.slices
        try checkSumsFit(slices)
        let totalBytes = slices.reduce(Int64(0)) { $0 + $1.sums.bytesTotal }
        let costs = try engine.costs(of: slices, totalBytes: Decimal(totalBytes))
        let startCard = try engine.card(at: period.start.microseconds)
        let unit = request.schedule.unit
        let priced = Array(zip(slices, costs))
        let totals = makeTotals(
            priced, totalBytes: totalBytes, unproxied: read.snapshot.unproxied.requests, unit: unit,
            planFee: period.isBillingPeriod ? startCard.planFee ?? 0 : 0)
        let daily = makeDaily(priced, days: days, period: period, cutoff: read.cutoff, unit: unit)
        let unallocated = BreakdownLine(
            name: "unallocated", requests: 0, bytesTotal: 0, cost: totals.planFee, wastedCost: 0)
        let byComponent = breakdown(priced) { $0.component } + [unallocated]
        let byOperation = breakdown(priced) { $0.operation } + [unallocated]
        let byErrorType =
            breakdown(priced) { $0.success ? "(success)" : ($0.errorType.isEmpty ? "(unspecified)" : $0.errorType) }
            + [unallocated]
        let status: PeriodStatus = read.asOf >= period.end.microseconds ? .closed : .provisional
        let budget = try BudgetForecast.make(
            engine: engine, slices: slices, totals: totals, quota: startCard.includedUnits, unit: unit,
            period: period, cutoff: read.cutoff, status: status)
        var report = FinanceReport(
            provider: startCard.provider, plan: startCard.plan, currency: request.schedule.currency, unit: unit,
            model: startCard.model, period: period, asOf: LedgerTimestamp(microseconds: read.asOf),
            dataThrough: read.lastEvent.map { LedgerTimestamp(microseconds: $0) }, status: status, totals: totals,
            daily: daily, byComponent: byComponent, byOperation: byOperation, byErrorType: byErrorType,
            topJobs: top(read.snapshot.topJobs, totals: totals), topChannels: top(read.snapshot.topChannels, totals: totals),
            topVideos: top(read.snapshot.topVideos, totals: totals),
            priceSegments: priceSegments(priced, schedule: request.schedule, period: period, cutoff: read.cutoff),
            budget: budget,
            reconciliation: read.vendorDays.map { reconciliationSection($0, slices: slices, request: request, cutoff: read.cutoff) },
            roundingChecks: [], notes: [])
        report.roundingChecks = [
            check("daily", daily.map(\.cost), total: totals.usageCost),
            check("by_component", byComponent.map(\.cost), total: totals.cost),
            check("by_operation", byOperation.map(\.cost), total: totals.cost),
            check("by_error_type", byErrorType.map(\.cost), total: totals.cost),
        ]
        report.rateCards = cardsInEffect(request.schedule, period: period)
        report.notes = ReportNotes.make(for: report)
        report.method = ReportNotes.method(for: report)
        return report
    }

    /// What one read transaction gives: the newest event, the as-of instant and the counted
    /// range's end (`cutoff`), the vendor days and the usage.
    private struct ProjectionRead {
        var lastEvent: Int64?
        var asOf: Int64
        var cutoff: Int64
        var vendorDays: [VendorDay]?
        var snapshot: UsageSnapshot
    }

    /// Reads everything the report needs from one consistent snapshot.
    private static func readProjection(_ store: ProjectionStore, request: ReportRequest, days: [LocalDay]) throws
        -> ProjectionRead
    {
        let period = request.period
        return try ReportError.wrapping(.databaseReadFailed, "reading the projection \(store.path) failed") {
            try store.read { queries in
                let lastEvent = try queries.newestEventTime()
                let asOf = request.asOf?.microseconds ?? (lastEvent.map { $0 + 1 } ?? period.start.microseconds)
                let cutoff = min(period.end.microseconds, max(period.start.microseconds, asOf))
                let vendorDays = try VendorUsage.read(queries)
                let boundaries =
                    days.map(\.start.microseconds) + request.schedule.cards.map(\.effectiveFrom.microseconds)
                    + (vendorDays ?? []).flatMap { [$0.start, $0.end] }
                let snapshot = try UsageReader.read(
                    queries, start: period.start.microseconds, cutoff: cutoff, boundaries: boundaries,
                    topCount: request.topCount, source: request.usageSource)
                return ProjectionRead(
                    lastEvent: lastEvent, asOf: asOf, cutoff: cutoff, vendorDays: vendorDays, snapshot: snapshot)
            }
        }
    }

    private static func makeTotals(
        _ priced: [(UsageSlice, Decimal)], totalBytes: Int64, unproxied: Int64, unit: BillingUnit, planFee: Decimal
    ) -> ReportTotals {
        var totals = ReportTotals(
            requests: 0, successfulRequests: 0, failedRequests: 0, unproxiedRequests: unproxied,
            bytesUp: 0, bytesDown: 0, bytesTotal: totalBytes, billedUnits: unit.units(bytes: Decimal(totalBytes)),
            usageCost: priced.reduce(0) { $0 + $1.1 }, planFee: planFee, cost: 0, wastedCost: 0)
        for (slice, cost) in priced {
            totals.requests += slice.sums.requests
            totals.bytesUp += slice.sums.bytesUp
            totals.bytesDown += slice.sums.bytesDown
            if slice.key.success {
                totals.successfulRequests += slice.sums.requests
                if slice.key.operation == transcriptOperation { totals.successfulTranscripts += slice.sums.requests }
            } else {
                totals.failedRequests += slice.sums.requests
                totals.wastedCost += cost
            }
        }
        totals.cost = totals.usageCost + totals.planFee
        return totals
    }

    /// One line per local day; the slices are in time order.
    private static func makeDaily(
        _ priced: [(UsageSlice, Decimal)], days: [LocalDay], period: ReportPeriod, cutoff: Int64, unit: BillingUnit
    ) -> [DailyLine] {
        var daily = days.map { day in
            DailyLine(
                day: day, requests: 0, bytesTotal: 0, billedUnits: 0, cost: 0,
                future: day.start.microseconds >= cutoff && cutoff < period.end.microseconds)
        }
        var dayIndex = 0
        for (slice, cost) in priced {
            while dayIndex + 1 < daily.count && daily[dayIndex + 1].day.start.microseconds <= slice.start {
                dayIndex += 1
            }
            guard !daily.isEmpty else { break }
            daily[dayIndex].requests += slice.sums.requests
            daily[dayIndex].bytesTotal += slice.sums.bytesTotal
            daily[dayIndex].cost += cost
        }
        for index in daily.indices { daily[index].billedUnits = unit.units(bytes: Decimal(daily[index].bytesTotal)) }
        return daily
    }

    private static func reconciliationSection(
        _ vendorDays: [VendorDay], slices: [UsageSlice], request: ReportRequest, cutoff: Int64
    ) -> ReconciliationSection {
        let period = request.period
        return ReconciliationSection(
            tolerancePercent: request.tolerancePercent,
            days: reconcile(vendorDays, slices: slices, period: period, cutoff: cutoff, tolerance: request.tolerancePercent),
            pendingDays: vendorDays.count(where: {
                $0.start >= period.start.microseconds && $0.start < period.end.microseconds && $0.end > cutoff
            }))
    }

    /// The rate card versions in effect at some instant of the period, in order.
    private static func cardsInEffect(_ schedule: RateCardSchedule, period: ReportPeriod) -> [RateCard] {
        let cards = schedule.cards
        return cards.indices.filter { index in
            let end = index + 1 < cards.count ? cards[index + 1].effectiveFrom.microseconds : Int64.max
            return cards[index].effectiveFrom.microseconds < period.end.microseconds && end > period.start.microseconds
        }.map { cards[$0] }
    }

    /// The data freshness: the newest `timestamp` in `proxy_request_logs`.
    ///
    /// - Parameter store: The projection database.
    /// - Returns: The instant (UTC µs), or `nil` when no event is projected.
    /// - Throws: ``ReportError`` `.databaseReadFailed`.
    public static func newestEvent(store: ProjectionStore) throws -> LedgerTimestamp? {
        try ReportError.wrapping(.databaseReadFailed, "reading the newest event of \(store.path) failed") {
            try store.read { queries in try queries.newestEventTime().map(LedgerTimestamp.init(microseconds:)) }
        }
    }

    private static func breakdown(_ priced: [(UsageSlice, Decimal)], name: (UsageKey) -> String) -> [BreakdownLine] {
        var lines: [String: BreakdownLine] = [:]
        for (slice, cost) in priced {
            let key = name(slice.key)
            var line = lines[key] ?? BreakdownLine(name: key, requests: 0, bytesTotal: 0, cost: 0, wastedCost: 0)
            line.requests += slice.sums.requests
            line.bytesTotal += slice.sums.bytesTotal
            line.cost += cost
            if !slice.key.success { line.wastedCost += cost }
            lines[key] = line
        }
        return lines.values.sorted { ($1.bytesTotal, $0.name) < ($0.bytesTotal, $1.name) }
    }

    private static func top(_ entries: [TopEntry], totals: ReportTotals) -> [TopLine] {
        let lines = entries.map {
            TopLine(name: $0.name, requests: $0.requests, bytesTotal: $0.bytesTotal, subject: $0.subject)
        }
        let rest = TopLine(
            name: "(all others)", requests: totals.requests - lines.reduce(0) { $0 + $1.requests },
            bytesTotal: totals.bytesTotal - lines.reduce(0) { $0 + $1.bytesTotal })
        return lines + [rest]
    }

    private static func check(_ column: String, _ items: [Decimal], total: Decimal) -> RoundingCheck {
        RoundingCheck(
            column: column, sumOfRoundedItems: items.reduce(0) { $0 + DecimalText.rounded($1) },
            roundedTotal: DecimalText.rounded(total))
    }

    private static func priceSegments(
        _ priced: [(UsageSlice, Decimal)], schedule: RateCardSchedule, period: ReportPeriod, cutoff: Int64
    ) -> [PriceSegmentLine] {
        let cards = schedule.cards
        return cards.indices.compactMap { index in
            let start = max(cards[index].effectiveFrom.microseconds, period.start.microseconds)
            let end = min(index + 1 < cards.count ? cards[index + 1].effectiveFrom.microseconds : Int64.max, cutoff)
            guard start < end else { return nil }
            let inside = priced.filter { $0.0.start >= start && $0.0.start < end }
            let bytes = inside.reduce(Int64(0)) { $0 + $1.0.sums.bytesTotal }
            return PriceSegmentLine(
                effectiveFrom: cards[index].effectiveFrom, start: LedgerTimestamp(microseconds: start),
                end: LedgerTimestamp(microseconds: end), bytesTotal: bytes,
                billedUnits: schedule.unit.units(bytes: Decimal(bytes)), cost: inside.reduce(0) { $0 + $1.1 })
        }
    }

    /// Every report figure is a sum of non-negative slice figures, so when the period's sums of
    /// requests, bytes up, bytes down, bytes total, and up + down fit in Int64, all of them do.
    /// - Throws: ``ReportError`` `.usageOutOfRange` otherwise (instead of an overflow trap).
    private static func checkSumsFit(_ slices: [UsageSlice]) throws(ReportError) {
        var sums = (requests: Int64(0), up: Int64(0), down: Int64(0), total: Int64(0))
        func add(_ value: Int64, to sum: inout Int64) -> Bool {
            let (result, overflow) = sum.addingReportingOverflow(value)
            sum = result
            return !overflow && value >= 0
        }
        for slice in slices {
            let s = slice.sums
            guard add(s.requests, to: &sums.requests), add(s.bytesUp, to: &sums.up), add(s.bytesDown, to: &sums.down),
                add(s.bytesTotal, to: &sums.total), !sums.up.addingReportingOverflow(sums.down).overflow
            else {
                throw ReportError(
                    code: .usageOutOfRange,
                    message: "the period's usage does not fit in a 64-bit integer (or holds a negative count): the "
                        + "projection holds impossible values, from events appended before append checked its ranges")
            }
        }
    }

    private static func reconcile(
        _ vendorDays: [VendorDay], slices: [UsageSlice], period: ReportPeriod, cutoff: Int64, tolerance: Decimal
    ) -> [ReconciliationDay] {
        vendorDays.compactMap { day in
            guard day.start >= period.start.microseconds, day.end <= cutoff else { return nil }
            let responseOnly = day.source == VendorDay.replyBytesOnlySource
            let ours = slices.filter { $0.start >= day.start && $0.start < day.end }
                .reduce(Int64(0)) { $0 + (responseOnly ? $1.sums.bytesDown : $1.sums.bytesTotal) }
            let difference = Decimal(ours - day.bytesTotal)
            let percent = day.bytesTotal == 0 ? nil : difference * 100 / Decimal(day.bytesTotal)
            let within = percent.map { abs($0) <= tolerance } ?? (ours == 0)
            return ReconciliationDay(
                date: day.date, timeZone: day.zone, source: day.source, oursBytes: ours, comparesResponseBytesOnly: responseOnly, theirsBytes: day.bytesTotal,
                differencePercent: percent, withinTolerance: within)
        }
    }
}
