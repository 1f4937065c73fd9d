import Foundation
import Reporting
import TestSupport
import Testing

@Suite struct RenderTests {
    /// A small closed report with awkward names (comma, quote, HTML, pipe).
    private func sampleReport() throws -> FinanceReport {
        var fixture = try ReportFixture("render")
        defer { fixture.close() }
        try fixture.add([
            event(
                "2026-11-02T12:00:00Z", bytes: 3_000_000_000, component: #"odd, "quoted" <b>|x</b>"#, job: "job-1",
                channel: "@a", video: "v1"),
            event(
                "2026-11-03T12:00:00Z", bytes: 1_000_000_000, success: false, job: "job-2", channel: "@b", video: "v2"),
        ])
        let cards = try schedule(
            card(included: "1", tiers: #"[{"up_to_units": null, "unit_price": "3.50"}]"#, planFee: "10"))
        return try fixture.report(
            cards, try ReportPeriod.billingPeriod(month: "2026-11", rule: cards.billingPeriod),
            asOf: "2026-12-05T00:00:00Z")
    }

    @Test func jsonFollowsTheDocumentedSchema() throws {
        let text = ReportRenderer.render(try sampleReport(), as: .json)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(root["currency"] as? String == "USD")
        #expect(root["unit"] as? String == "GB")
        let period = try #require(root["period"] as? [String: Any])
        #expect(period["start"] as? String == "2026-11-01T00:00:00-04:00")
        #expect(period["end"] as? String == "2026-12-01T00:00:00-05:00")
        #expect(period["status"] as? String == "closed")
        let totals = try #require(root["totals"] as? [String: Any])
        #expect(totals["requests"] as? Int == 2)
        #expect(totals["bytes_total"] as? Int == 4_000_000_000)
        #expect(totals["billed_units"] as? String == "4")
        #expect(totals["cost"] as? String == "20.50")  // 3 GB × 3.50 + 10
        #expect(totals["wasted_cost"] as? String == "3.50")
        let daily = try #require(root["daily"] as? [[String: Any]])
        #expect(daily.count == 30)
        #expect(daily[1]["date"] as? String == "2026-11-02")
        #expect(daily[1]["bytes_total"] as? Int == 3_000_000_000)
        #expect(daily[1]["cost"] as? String == "7.00")
        #expect(daily[1]["requests"] as? Int == 1)
        let components = try #require(root["by_component"] as? [[String: Any]])
        #expect(
            components.map { $0["component"] as? String } == [
                #"odd, "quoted" <b>|x</b>"#, "transcribe-worker", "unallocated",
            ])
        #expect(components.map { $0["cost"] as? String } == ["7.00", "3.50", "10.00"])
        let jobs = try #require(root["top_jobs"] as? [[String: Any]])
        #expect(jobs.map { $0["job_id"] as? String } == ["job-1", "job-2", "(all others)"])
    }

    @Test func csvFollowsRFC4180WithOffsetsAndUnitsInColumnNames() throws {
        let text = ReportRenderer.render(try sampleReport(), as: .csv)
        #expect(text.hasSuffix("\r\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        let header = try #require(text.components(separatedBy: "\r\n").first)
        for column in ["section", "bytes_total", "billed_units_gb", "cost_usd", "cost_usd_exact", "wasted_cost_usd"] {
            #expect(header.split(separator: ",").contains(Substring(column)))
        }
        #expect(text.contains(#"by_component,"odd, ""quoted"" <b>|x</b>",,,,1,"#))
        #expect(text.contains("daily,,2026-11-01,2026-11-01T00:00:00-04:00,2026-11-02T00:00:00-05:00,"))
        #expect(text.contains("totals,period,,2026-11-01T00:00:00-04:00,2026-12-01T00:00:00-05:00,2,"))
    }

    @Test func markdownAndHTMLAreSelfContainedAndEscaped() throws {
        let report = try sampleReport()
        let markdown = ReportRenderer.render(report, as: .md)
        #expect(markdown.contains("| **Cost (USD)** | **20.50** |"))
        #expect(markdown.contains(#"odd, "quoted" <b>\|x</b>"#))
        let html = ReportRenderer.render(report, as: .html)
        #expect(html.contains("odd, &quot;quoted&quot; &lt;b&gt;|x&lt;/b&gt;"))
        for forbidden in ["<script", "src=", "@import", "url(", "<link", "https://"] {
            #expect(!html.lowercased().contains(forbidden), "\(forbidden)")
        }
        #expect(html.components(separatedBy: "<rect class=\"bar").count - 1 == 60)
        #expect(ReportRenderer.defaultPath(for: report, format: .html) == "reports/proxy-cost-2026-11.html")
    }

    @Test func writeCreatesTheReportsDirectory() throws {
        let scratch = try TemporaryDirectory("render-write")
        let report = try sampleReport()
        let path = scratch.file("reports/nested/r.md")
        try ReportRenderer.write(report, as: .md, to: path)
        #expect(
            FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
                == ReportRenderer.render(report, as: .md))
    }
}
