import Foundation
import Reporting
import TestSupport
import Testing

/// Headless Chromium, when installed (`make test` installs the Debian package `chromium`).
enum HeadlessChromium {
    static let executable: String? = {
        let candidates =
            [ProcessInfo.processInfo.environment["CHROMIUM"]].compactMap { $0 }
            + ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Loads `file` and returns the serialised DOM and the console messages Chromium logged.
    static func load(_ file: String, scratch: TemporaryDirectory) throws -> (dom: String, console: [String]) {
        let executable = try #require(executable)
        let outPath = scratch.file("chromium.out")
        let errPath = scratch.file("chromium.err")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--user-data-dir=\(scratch.file("chromium-profile"))", "--enable-logging=stderr", "--v=0",
            "--timeout=30000", "--dump-dom", URL(fileURLWithPath: file).absoluteString,
        ]
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
        process.waitUntilExit()
        let dom = String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self)
        let log = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
        // Chromium logs every console message (errors, CSP violations, failed loads) as `:CONSOLE`.
        let console = log.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        #expect(
            process.terminationStatus == 0, "chromium exited with \(process.terminationStatus): \(log.suffix(2_000))")
        return (dom, console)
    }

    /// The markup of `<svg id="id">…</svg>` in `dom`.
    static func svg(_ id: String, in dom: String) -> String? {
        guard let start = dom.range(of: "<svg id=\"\(id)\"") else { return nil }
        guard let end = dom.range(of: "</svg>", range: start.upperBound..<dom.endIndex) else { return nil }
        return String(dom[start.lowerBound..<end.upperBound])
    }
}

@Suite(
    .serialized,
    .enabled(
        if: HeadlessChromium.executable != nil,
        "chromium is not installed (apt-get install -y chromium, or `make test`); skipping the HTML rendering tests")
)
struct HTMLChromiumTests {
    @Test(arguments: [("2026-11", 30), ("2027-02", 28)])
    func theHTMLReportRendersWithTotalsAndOneBarPerDay(month: String, days: Int) throws {
        var fixture = try ReportFixture("chromium")
        defer { fixture.close() }
        try fixture.add([
            event("2026-11-02T12:00:00Z", bytes: 3_000_000_000, component: "transcribe-worker"),
            event("2026-11-03T12:00:00Z", bytes: 1_000_000_000, component: "api-youtube-service", success: false),
            event("2027-02-10T12:00:00Z", bytes: 2_000_000_000, component: "transcribe-worker"),
        ])
        let cards = try schedule(
            card(included: "1", tiers: #"[{"up_to_units": null, "unit_price": "3.50"}]"#, planFee: "10"))
        let period = try ReportPeriod.billingPeriod(month: month, rule: cards.billingPeriod)
        let report = try fixture.report(cards, period, asOf: "2027-06-01T00:00:00Z")
        let path = fixture.scratch.file("report.html")
        try ReportRenderer.write(report, as: .html, to: path)

        let (dom, console) = try HeadlessChromium.load(path, scratch: fixture.scratch)
        #expect(console.isEmpty, "console messages: \(console)")
        #expect(dom.contains("<tr id=\"total-cost\"><th>Cost (USD)</th><td>\(money(report.totals.cost))</td></tr>"))
        #expect(
            dom.contains(
                "<tr id=\"total-bytes-total\"><th>Bytes total</th><td>\(DecimalText.grouped(report.totals.bytesTotal))</td></tr>"
            ))
        #expect(dom.contains("<tr id=\"total-requests\"><th>Requests</th><td>\(report.totals.requests)</td></tr>"))
        let expectedDates = period.localDays().map(\.date)
        #expect(expectedDates.count == days)
        for chart in ["chart-daily-bytes", "chart-daily-cost"] {
            let svg = try #require(HeadlessChromium.svg(chart, in: dom), "\(chart) missing from the rendered DOM")
            let dates = svg.components(separatedBy: "<rect class=\"bar").dropFirst().compactMap { piece -> String? in
                guard let range = piece.range(of: "data-date=\"") else { return nil }
                return String(piece[range.upperBound...].prefix(10))
            }
            #expect(dates == expectedDates, "\(chart)")
        }
        #expect(HeadlessChromium.svg("chart-component-share", in: dom) != nil)
    }

    @Test func theConsoleCheckCatchesErrors() throws {
        let scratch = try TemporaryDirectory("chromium-control")
        let path = scratch.file("bad.html")
        try Data(#"<!DOCTYPE html><html><body><script>console.error("report-check")</script></body></html>"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        let (_, console) = try HeadlessChromium.load(path, scratch: scratch)
        #expect(console.contains { $0.contains("report-check") })
    }
}
