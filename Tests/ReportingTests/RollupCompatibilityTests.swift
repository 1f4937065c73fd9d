import Foundation
import GRDB
import Ledger
import Reporting
import Testing

@Suite struct RollupCompatibilityTests {
    private func events() -> [ProxyRequestEvent] {
        [
            event("2026-11-05T10:00:00Z", bytes: 3_000, job: "j1"),
            event("2026-11-05T10:30:00Z", bytes: 5_000, component: "offline", job: "j2", proxied: false),
            event("2026-11-05T11:00:00Z", bytes: 7_000, job: "j3"),
        ]
    }

    @Test func aRollupKeyedByProxiedGivesTheSameReport() throws {
        var plain = try ReportFixture("rollup-plain")
        var keyed = try ReportFixture("rollup-keyed")
        defer {
            plain.close()
            keyed.close()
        }
        try plain.add(events())
        try keyed.add(events())
        // The proposed Projections change: `proxied` in the rollup, so no base-table scan is needed.
        try keyed.store.databasePool.write { db in
            try db.execute(sql: "ALTER TABLE proxy_usage_hourly ADD COLUMN proxied INTEGER NOT NULL DEFAULT 1")
            try db.execute(sql: "UPDATE proxy_usage_hourly SET proxied = 0 WHERE component = 'offline'")
        }
        let cards = try schedule(card(zone: "UTC"))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod)
        let plainReport = try plain.report(cards, period, asOf: "2026-12-01T00:00:00Z")
        let keyedReport = try keyed.report(cards, period, asOf: "2026-12-01T00:00:00Z")
        #expect(plainReport.totals.bytesTotal == 10_000)
        #expect(plainReport.totals.unproxiedRequests == 1)
        #expect(plainReport.topJobs.map(\.name) == ["j3", "j1", "(all others)"])
        #expect(ReportRenderer.render(plainReport, as: .json) == ReportRenderer.render(keyedReport, as: .json))
    }

    @Test func topCountZeroSkipsTheBaseTableLists() throws {
        var fixture = try ReportFixture("no-top")
        defer { fixture.close() }
        try fixture.add(events())
        let cards = try schedule(card(zone: "UTC"))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod)
        let report = try ReportBuilder.build(
            store: fixture.store,
            request: ReportRequest(schedule: cards, period: period, asOf: instant("2026-12-01T00:00:00Z"), topCount: 0))
        #expect(report.topJobs.map(\.name) == ["(all others)"])
        #expect(report.topJobs.first?.bytesTotal == 10_000)
    }

    @Test func theReconciliationModulesVendorTableIsReadPerSource() throws {
        var fixture = try ReportFixture("vendor-module")
        defer { fixture.close() }
        try fixture.add([
            event("2026-11-02T03:00:00Z", bytes: 1_000_000), event("2026-11-02T23:30:00Z", bytes: 2_000_000),
        ])
        try fixture.store.databasePool.write { db in
            // The layout `Reconciliation.VendorUsageStore` creates.
            try db.execute(
                sql: """
                    CREATE TABLE vendor_usage_daily (date TEXT NOT NULL, utc_offset TEXT NOT NULL,
                        day_start_us INTEGER NOT NULL, source TEXT NOT NULL, bytes INTEGER NOT NULL,
                        request_bytes INTEGER, response_bytes INTEGER, records INTEGER NOT NULL,
                        imported_at TEXT NOT NULL, PRIMARY KEY (date, utc_offset, source)) WITHOUT ROWID;
                    INSERT INTO vendor_usage_daily VALUES
                        ('2026-11-02', 'Z', 1793577600000000, 'squid_access_log', 3000000, NULL, NULL, 2, 'x'),
                        ('2026-11-02', 'Z', 1793577600000000, 'webshare_csv', 3100000, NULL, NULL, 1, 'x'),
                        ('2026-11-01', '-05:00', 1793509200000000, 'webshare_csv', 1000000, NULL, NULL, 1, 'x');
                    """)
        }
        let cards = try schedule(card(zone: "America/New_York"))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod)
        let report = try fixture.report(cards, period, asOf: "2026-12-01T05:00:00Z")
        let days = try #require(report.reconciliation?.days)
        #expect(days.map(\.source) == ["webshare_csv", "squid_access_log", "webshare_csv"])
        #expect(days.map(\.timeZone) == ["-05:00", "Z", "Z"])
        // 1 November at -05:00 is 05:00Z to 05:00Z: only the event at 03:00Z on 2 November.
        #expect(days.map(\.oursBytes) == [1_000_000, 3_000_000, 3_000_000])
        #expect(days.map(\.withinTolerance) == [true, true, false])
        #expect(ReportRenderer.render(report, as: .csv).contains("reconciliation,Z squid_access_log,2026-11-02,"))
    }
}
