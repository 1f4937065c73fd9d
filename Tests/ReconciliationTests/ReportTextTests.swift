import Foundation
import Ledger
import Testing
import Projections

@testable import Reconciliation

/// The text report: readable columns (F13), which direction is compared (F8), skipped lines with
/// reasons (F14) and the empty-window warning (F10).
@Suite("Reconciliation report text")
struct ReportTextTests {
    static let day = ReconcilerTests.day

    @Test("columns never touch, even for a huge delta and 16-digit byte counts")
    func hugeDelta() throws {
        let ours: Int64 = 9_000_000_000_000_000  // ≥ 10^15, still ≤ 2^53
        let vendor = ReconcilerTests.squid([(Self.day + 1_000_000, 2)])
        let report = try Reconciler.reconcile(
            vendor, ours: [LedgerUsageEvent(start: Self.day, end: Self.day + 1_000_000, bytes: ours)], options: .init())
        let lines = report.renderText().split(separator: "\n")
        let rows = lines.filter { $0.hasPrefix("2026-11-01") || $0.hasPrefix("total") }
        #expect(rows.count == 3)  // one hour, one day, the total
        for row in rows {
            let fields = row.split(separator: " ")
            #expect(fields.count == 6, "\(row)")
            #expect(fields[1] == "\(ours)" && fields[2] == "2" && fields[3] == "\(ours - 2)")
            #expect(fields[4] == String(format: "%+.2f", Double(ours - 2) / 2 * 100) && fields[5] == "NO")
        }
        // the header lines up with the rows: the right edge of each number column is the same
        let header = try #require(lines.first { $0.hasPrefix("bucket") })
        let total = try #require(rows.last)
        for name in ["ours (B)", "theirs (B)", "delta (B)", "delta %"] {
            let end = try #require(header.range(of: name)).upperBound
            let column = header.distance(from: header.startIndex, to: end)
            let character = total[total.index(total.startIndex, offsetBy: column - 1)]
            #expect(character != " ", "\(name) is not right-aligned with its values")
            #expect(total[total.index(total.startIndex, offsetBy: column)] == " ")
        }
    }

    @Test("native Squid logs are compared with our response bytes only, and the report says so")
    func nativeComparesResponseBytes() throws {
        let event = LedgerUsageEvent(start: Self.day, end: Self.day + 1_000_000, bytes: 1_000, responseBytes: 900)
        let estimated = LedgerUsageEvent(start: Self.day + 5_000_000, end: Self.day + 5_000_000, bytes: 77)
        var vendor = ReconcilerTests.squid([(Self.day + 1_000_000, 900), (Self.day + 5_000_000, 77)])
        vendor.source = .squidNative
        let native = try Reconciler.reconcile(vendor, ours: [event, estimated], options: .init(granularities: [.day]))
        #expect(native.comparedDirection == .response && native.total.ours == 977 && native.total.delta == 0)
        #expect(
            native.renderText().contains(
                "compared: response bytes only — the native Squid format logs reply sizes, not request bytes"))
        vendor.source = .squidLedger
        let both = try Reconciler.reconcile(vendor, ours: [event, estimated], options: .init(granularities: [.day]))
        #expect(both.comparedDirection == .both && both.total.ours == 1_077)
        #expect(both.renderText().contains("compared: request + response bytes"))
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = String(decoding: try encoder.encode(native), as: UTF8.self)
        #expect(json.contains(#""compared_direction":"response""#))
        #expect(VendorSource.allCases.filter { $0.comparedDirection == .response } == [.squidNative])
    }

    @Test("skipped lines are listed with file, line and reason: the first 20, then how many more")
    func skippedLines() throws {
        var vendor = ReconcilerTests.squid([(Self.day, 5)])
        vendor.file = "g.log"
        vendor.badLines = (1...25).map {
            BadLine(line: $0 * 2, reason: $0 == 1 ? "bad byte count" : "bad time", text: "x")
        }
        let text = try Reconciler.reconcile(vendor, ours: [], options: .init()).renderText()
        let footer = try #require(text.split(separator: "\n").first { $0.hasPrefix("skipped") })
        #expect(footer.hasPrefix("skipped 25 bad lines: g.log:2 (bad byte count), g.log:4 (bad time), "))
        #expect(footer.contains("g.log:40 (bad time), … and 5 more") && !footer.contains("g.log:42"))
        vendor.source = .webshareStats
        vendor.file = "s.json"
        vendor.badLines = [
            BadLine(line: 3, reason: "bandwidth_total is not an integer from 0 to 2^53", text: "entry 3")
        ]
        vendor.records[0].durationMS = 3_600_000
        let stats = try Reconciler.reconcile(vendor, ours: [], options: .init()).renderText()
        #expect(stats.contains("skipped 1 bad line: s.json entry 3 (bandwidth_total is not an integer from 0 to 2^53)"))
    }

    @Test("a window with no vendor record and no ledger event gives a warning with the records outside")
    func emptyWindowWarning() throws {
        let vendor = ReconcilerTests.squid([(Self.day, 5), (Self.day + 1, 6)])
        let empty = try Reconciler.reconcile(
            vendor, ours: [], options: .init(from: Self.day - 86_400_000_000, to: Self.day - 3_600_000_000))
        #expect(
            empty.warnings == [
                "the window holds no vendor record and no ledger event (2 vendor record(s) fall outside it); check --from and --to"
            ])
        #expect(empty.renderText().hasSuffix("\nwarning: " + empty.warnings[0]))
        #expect(try Reconciler.reconcile(vendor, ours: [], options: .init()).warnings.isEmpty)
    }
}
