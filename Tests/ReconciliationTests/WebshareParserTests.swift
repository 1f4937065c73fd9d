import Foundation
import Ledger
import Testing
import Projections

@testable import Reconciliation

@Suite("Webshare activity CSV and stats JSON")
struct WebshareParserTests {
    static let header = "Time,Hostname,Destination Port,Bytes,Duration,Proxy,Your IP Address,Error Reason,Protocol\n"

    @Test("CSV times keep their offsets; None means no error; quoted fields")
    func csv() throws {
        let text = Self.header
            + "2026-11-01 05:30:00+05:30,www.youtube.com,443,120000,850,p.webshare.io:80,203.0.113.7,None,http\r\n"
            + "2026-10-31T19:00:00.250-05:00,\"i.ytimg.com\",443,5000,1.5s,p.webshare.io:80,203.0.113.7,client_connect_forbidden_host,http\n"
            + "\"2026-11-01T00:00:01Z\",\"host, with comma\",80,7,,p,ip,,http\n\n"
        let parsed = try WebshareActivityCSV.parse(text)
        #expect(parsed.linesRead == 3 && parsed.records.count == 3 && parsed.totalBytes == 125_007)
        #expect(parsed.records[0].timestamp == LedgerTimestamp(rfc3339: "2026-11-01T00:00:00Z"))
        #expect(parsed.records[0].errorReason == nil && parsed.records[0].durationMS == 850)
        #expect(parsed.records[0].target == "www.youtube.com:443")
        #expect(parsed.records[1].timestamp == LedgerTimestamp(rfc3339: "2026-11-01T00:00:00.25Z"))
        #expect(parsed.records[1].errorReason == "client_connect_forbidden_host" && parsed.records[1].durationMS == 1_500)
        #expect(parsed.records[2].target == "host, with comma:80" && parsed.records[2].errorReason == nil)
    }

    @Test("a CSV time without an offset is never assumed to be UTC")
    func csvNoOffset() throws {
        let text = Self.header + "2026-11-01 05:30:00,h,443,1,1,p,ip,None,http\n"
        #expect { try WebshareActivityCSV.parse(text) } throws: { ($0 as? ReconciliationError)?.line == 2 }
        #expect(try WebshareActivityCSV.parse(text, skipBadLines: true).badLines.map(\.line) == [2])
        #expect(throws: ReconciliationError.self) { try WebshareActivityCSV.parse("Hostname,Bytes\nh,1\n") }
    }

    @Test("vendor times: offset forms", arguments: [
        ("2026-11-01T05:30:00+05:30", "2026-11-01T00:00:00.000000Z"),
        ("2026-11-01 05:30:00 +0530", "2026-11-01T00:00:00.000000Z"),
        ("2026-10-31T17:00:00-07", "2026-11-01T00:00:00.000000Z"),
        ("2026-11-01T00:00:00.5Z", "2026-11-01T00:00:00.500000Z"),
    ])
    func times(_ text: String, _ utc: String) {
        #expect(VendorTime.parse(text)?.rfc3339 == utc)
    }

    @Test("stats JSON: hours without traffic are missing, projected hours are skipped")
    func stats() throws {
        let json = """
            [
              {"timestamp": "2026-10-31T17:00:00-07:00", "is_projected": false, "bandwidth_total": 1000, "requests_total": 3},
              {"timestamp": "2026-11-01T01:00:00Z", "is_projected": false, "bandwidth_total": 2500},
              {"timestamp": "2026-11-01T03:00:00+00:00", "bandwidth_total": 40},
              {"timestamp": "2026-11-01T04:00:00+00:00", "is_projected": true, "bandwidth_total": 999999}
            ]
            """
        let parsed = try WebshareStats.parse(Data(json.utf8))
        #expect(parsed.records.map(\.bytes) == [1000, 2500, 40])
        #expect(parsed.records[0].timestamp == LedgerTimestamp(rfc3339: "2026-11-01T00:00:00Z"))
        #expect(parsed.records.allSatisfy { $0.durationMS == 3_600_000 })
        let wrapped = try WebshareStats.parse(Data("{\"results\": \(json)}".utf8))
        #expect(wrapped.records == parsed.records)
        // hour 02 is missing: reconciled as 0 bytes
        let report = try Reconciler.reconcile(
            parsed, ours: [LedgerUsageEvent(start: 7_200_000_000 + 1_793_491_200_000_000, end: 7_200_000_000 + 1_793_491_200_000_000, bytes: 10)],
            options: ReconciliationOptions(granularities: [.hour]))
        let two = try #require(report.buckets.first { $0.label == "2026-11-01T02:00Z" })
        #expect(two.ours == 10 && two.theirs == 0 && two.deltaPercent == nil)
        #expect(throws: ReconciliationError.self) { try WebshareStats.parse(Data("{\"a\": 1}".utf8)) }
        #expect(throws: ReconciliationError.self) {
            try WebshareStats.parse(Data("[{\"timestamp\": \"2026-11-01T01:00:00\", \"bandwidth_total\": 1}]".utf8))
        }
    }
}
