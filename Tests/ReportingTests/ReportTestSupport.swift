import Foundation
import Ledger
import Projections
import Reporting
import TestSupport
import Testing

/// A scratch projection database filled with hand-made events.
struct ReportFixture {
    let scratch: TemporaryDirectory
    let store: ProjectionStore
    private(set) var sequence: UInt64 = 0

    init(_ label: String = "report") throws {
        scratch = try TemporaryDirectory(label)
        store = try ProjectionStore(path: scratch.file("projections.sqlite"))
    }

    /// Projects events through the real projector (rows and hourly rollup).
    mutating func add(_ events: [ProxyRequestEvent]) throws {
        var records: [LedgerRecord] = []
        for event in events {
            records.append(
                LedgerRecord(schemaVersion: 1, position: LedgerPosition(partition: 0, sequence: sequence), event: event)
            )
            sequence += 1
        }
        try Projector(store: store).apply(records)
    }

    func report(_ schedule: RateCardSchedule, _ period: ReportPeriod, asOf: String? = nil) throws -> FinanceReport {
        try ReportBuilder.build(
            store: store, request: ReportRequest(schedule: schedule, period: period, asOf: asOf.map(instant)))
    }

    func close() {
        try? store.close()
    }
}

/// An RFC 3339 instant; traps in tests only.
func instant(_ text: String) -> LedgerTimestamp {
    guard let value = LedgerTimestamp(rfc3339: text) else { fatalError("bad test instant \(text)") }
    return value
}

/// One proxied event with `bytes` billed (split 1,000 up, the rest down).
func event(
    _ time: String, bytes: Int64, component: String = "transcribe-worker", operation: String = "subtitle-download",
    success: Bool = true, error: ProxyErrorType? = nil, job: String? = nil, channel: String? = nil,
    video: String? = nil,
    proxied: Bool = true
) -> ProxyRequestEvent {
    let up = min(bytes, 1_000)
    return ProxyRequestEvent(
        timestamp: instant(time), component: component, operation: operation, videoID: video, channelName: channel,
        jobID: job, success: success, errorType: success ? nil : (error ?? .rateLimited),
        httpStatus: success ? 200 : 429,
        requestBytes: up, responseBytes: bytes - up, estimatedBytes: bytes, bytesMeasured: true, durationMS: 10,
        proxied: proxied)
}

/// A rate card schedule from JSON objects written as Swift dictionaries' JSON text.
func schedule(_ json: String) throws -> RateCardSchedule {
    try RateCardSchedule.parse(json: Array(json.utf8))
}

/// A one-version card: `tiers` is JSON text of the tier list.
func card(
    unit: String = "GB", included: String = "0", tiers: String = #"[{"up_to_units": null, "unit_price": "1.00"}]"#,
    model: String = "graduated", planFee: String? = nil, zone: String = "America/New_York", anchor: Int = 1,
    effective: String = "2026-01-01T00:00:00Z"
) -> String {
    """
    {"provider": "webshare", "plan": "test", "currency": "USD", "unit": "\(unit)", "included_units": "\(included)",
     "tiers": \(tiers), "model": "\(model)", \(planFee.map { "\"plan_fee\": \"\($0)\"," } ?? "")
     "billing_period": {"anchor_day": \(anchor), "time_zone": "\(zone)"}, "effective_from": "\(effective)"}
    """
}

/// The text of a decimal: exact form.
func exact(_ value: Decimal) -> String { DecimalText.exact(value) }

/// The text of an amount: rounded to cents.
func money(_ value: Decimal) -> String { DecimalText.fixed(value) }

/// The repository root (for Fixtures/).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
