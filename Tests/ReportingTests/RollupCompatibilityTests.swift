import Foundation
import GRDB
import Ledger
import Reporting
import Testing

@testable import Projections

@Suite struct RollupCompatibilityTests {
    private func events() -> [ProxyRequestEvent] {
        [
            event("2026-11-05T10:00:00Z", bytes: 3_000, job: "j1"),
            event("2026-11-05T10:30:00Z", bytes: 5_000, component: "offline", job: "j2", proxied: false),
            event("2026-11-05T11:00:00Z", bytes: 7_000, job: "j3"),
        ]
    }

    @Test func theRollupsAndTheBaseTableGiveTheSameReport() throws {
        var fixture = try ReportFixture("rollup-or-base")
        defer { fixture.close() }
        try fixture.add(events())
        let cards = try schedule(card(zone: "UTC"))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod)
        let rollups = try fixture.report(cards, period, asOf: "2026-12-01T00:00:00Z")
        let base = try ReportBuilder.build(
            store: fixture.store,
            request: ReportRequest(
                schedule: cards, period: period, asOf: instant("2026-12-01T00:00:00Z"), usageSource: .requestLogs))
        #expect(rollups.totals.bytesTotal == 10_000)
        #expect(rollups.totals.unproxiedRequests == 1)
        #expect(rollups.topJobs.map(\.name) == ["j3", "j1", "(all others)"])
        #expect(ReportRenderer.render(rollups, as: .json) == ReportRenderer.render(base, as: .json))
    }

    /// Many events over several days, hours cut by :30 day boundaries and a mid-hour as-of, ties in
    /// the top lists, failures and unproxied events: both sources agree in every format.
    @Test(arguments: [
        ("Asia/Kolkata", "2026-11-06T07:45:10Z", 3), ("UTC", "2026-11-04T00:00:00Z", 10),
        ("America/New_York", "2026-11-05T12:00:00.5Z", 2), ("UTC", "2026-11-02T10:20:00Z", 5),
    ])
    func bothSourcesAgreeAcrossBoundaries(zone: String, asOf: String, top: Int) throws {
        var fixture = try ReportFixture("sources-agree")
        defer { fixture.close() }
        var many: [ProxyRequestEvent] = []
        for index in 0..<600 {
            let seconds = index * 1_117 % (5 * 86_400)
            let time = LedgerTimestamp(
                microseconds: instant("2026-11-01T00:00:00Z").microseconds + Int64(seconds) * 1_000_000)
            many.append(
                event(
                    time.rfc3339, bytes: Int64(1_000 + (index % 7) * 500), component: index % 4 == 0 ? "api" : "worker",
                    operation: ["a", "b", "c"][index % 3], success: index % 9 != 0, job: "job\(index % 23)",
                    channel: index % 5 == 0 ? "ch\(index % 3)" : nil, video: index % 2 == 0 ? "v\(index % 41)" : nil,
                    proxied: index % 13 != 0))
        }
        try fixture.add(many)
        let cards = try schedule(card(zone: zone))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod)
        func build(_ source: UsageSource) throws -> FinanceReport {
            try ReportBuilder.build(
                store: fixture.store,
                request: ReportRequest(
                    schedule: cards, period: period, asOf: instant(asOf), topCount: top, usageSource: source))
        }
        let rollups = try build(.rollups)
        let base = try build(.requestLogs)
        #expect(rollups.totals.requests > 0)
        #expect(rollups.totals.unproxiedRequests > 0)
        #expect(rollups.topVideos.count == top + 1)
        for format in ReportFormat.allCases {
            #expect(ReportRenderer.render(rollups, as: format) == ReportRenderer.render(base, as: format), "\(format)")
        }
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
            try db.execute(
                sql: """
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

    @Test func nativeSquidDaysCompareResponseBytesAndIncompleteDaysAreNoted() throws {
        var fixture = try ReportFixture("vendor-native")
        defer { fixture.close() }
        // Each event sends 1 000 bytes up; the rest comes down.
        try fixture.add([
            event("2026-11-02T03:00:00Z", bytes: 1_000_000), event("2026-11-02T23:30:00Z", bytes: 2_000_000),
            event("2026-11-30T01:00:00Z", bytes: 5_000),
        ])
        try fixture.store.databasePool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO vendor_usage_daily VALUES
                        ('2026-11-02', 'Z', 1793577600000000, 'squid-native', 2998000, NULL, NULL, 2, 'x'),
                        ('2026-11-30', 'Z', 1795996800000000, 'squid-native', 4000, NULL, NULL, 1, 'x');
                    """)
        }
        let cards = try schedule(card(zone: "UTC"))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod)
        let report = try fixture.report(cards, period, asOf: "2026-11-30T12:00:00Z")
        let section = try #require(report.reconciliation)
        #expect(section.days.map(\.oursBytes) == [2_998_000], "response bytes only: 999 000 + 1 999 000")
        #expect(section.days.map(\.withinTolerance) == [true])
        #expect(section.days.allSatisfy { $0.comparesResponseBytesOnly })
        #expect(section.pendingDays == 1)
        #expect(report.notes.contains { $0.contains("compare our response bytes only") })
        #expect(report.notes.contains { $0.hasPrefix("1 stored vendor day(s)") })
        #expect(ReportRenderer.render(report, as: .json).contains("\"compared_direction\": \"response\""))
    }

    @Test func usageThatOverflowsTheReportsSumsIsAnErrorNotATrap() throws {
        var fixture = try ReportFixture("overflow")
        defer { fixture.close() }
        // Each hour fits in Int64 (as replay checks); their sum over the period does not.
        try fixture.add([
            event("2026-11-02T03:00:00Z", bytes: 5_000_000_000_000_000_000),
            event("2026-11-03T03:00:00Z", bytes: 5_000_000_000_000_000_000),
        ])
        let cards = try schedule(card(zone: "UTC"))
        let period = try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod)
        let error = #expect(throws: ReportError.self) { try fixture.report(cards, period, asOf: "2026-12-01T00:00:00Z") }
        #expect(error?.code == .usageOutOfRange)
    }
}

