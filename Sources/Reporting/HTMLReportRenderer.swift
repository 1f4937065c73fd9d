import Foundation
import Ledger

/// The HTML rendering: one self-contained file, inline CSS and inline SVG charts (daily bytes,
/// daily cost, share of bytes by component). No scripts, no fonts, no network: a
/// Content-Security-Policy of `default-src 'none'` enforces it. Print styles keep tables whole
/// and charts in black and white readable.
enum HTMLReportRenderer {
    static func render(_ report: FinanceReport) -> String {
        let totals = report.totals
        let currency = HTMLText.escape(report.currency)
        let zone = HTMLText.escape(report.period.timeZone.identifier)
        func e(_ text: String) -> String { HTMLText.escape(text) }
        func time(_ value: LedgerTimestamp) -> String { e(ReportText.instant(value, report)) }
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Proxy cost \(e(report.period.label)) — \(e(report.provider)) \(e(report.plan))</title>
            <style>\(style)</style>
            </head>
            <body>
            <header>
            <h1>Proxy cost \(e(report.period.label)) <span class="status \(report.status.rawValue)">\(report.status.rawValue)</span></h1>
            <p id="period">\(e(report.provider)) · \(e(report.plan)) · period <time>\(time(report.period.start))</time> to \
            <time>\(time(report.period.end))</time> (\(zone), end exclusive)</p>
            <p>As of <time id="as-of">\(time(report.asOf))</time> · data through \
            <time id="data-through">\(report.dataThrough.map(time) ?? "no events")</time> · \(e(report.unit.definition))</p>
            </header>
            <section id="totals"><h2>Totals</h2><table class="kv">

            """
        for row in ReportSections.totals(report) {
            html += "<tr id=\"total-\(row.id)\"><th>\(e(row.label))</th><td>\(e(row.value))</td></tr>\n"
        }
        html += "</table></section>\n" + budgetSection(report) + rateCardSection(report)
        let dailyBytes = report.daily.map {
            SVGCharts.Bar(
                label: $0.day.date, value: $0.bytesTotal,
                title: "\($0.day.date): \(DecimalText.grouped($0.bytesTotal)) bytes",
                muted: $0.future)
        }
        let dailyCost = report.daily.map {
            SVGCharts.Bar(
                label: $0.day.date, value: micro($0.cost),
                title: "\($0.day.date): \(ReportText.money($0.cost)) \(report.currency)", muted: $0.future)
        }
        let maxBytes = report.daily.map(\.bytesTotal).max() ?? 0
        let maxCost = report.daily.map(\.cost).max() ?? 0
        html += "<section id=\"daily\"><h2>Daily (\(zone))</h2>\n<figure>"
        html += SVGCharts.bars(
            dailyBytes, id: "chart-daily-bytes", caption: "Bytes per local day",
            axisLabel: "\(DecimalText.grouped(maxBytes)) bytes")
        html += "<figcaption>Bytes per local day</figcaption></figure>\n<figure>"
        html += SVGCharts.bars(
            dailyCost, id: "chart-daily-cost", caption: "Cost per local day",
            axisLabel: "\(ReportText.money(maxCost)) \(report.currency)")
        html += "<figcaption>Usage cost per local day (\(currency))</figcaption></figure>\n"
        html += dailyTable(report)
        let shares = report.byComponent.filter { $0.name != "unallocated" }.map {
            (name: $0.name, value: $0.bytesTotal)
        }
        html += "<section id=\"by-component\"><h2>By component</h2><figure>"
        html += SVGCharts.shares(shares, id: "chart-component-share", caption: "Share of bytes by component")
        html += "<figcaption>Share of bytes by component</figcaption></figure>\n"
        html += breakdownTable(report.byComponent, totals: totals, currency: currency) + "</section>\n"
        html +=
            "<section id=\"by-operation\"><h2>By operation</h2>"
            + breakdownTable(report.byOperation, totals: totals, currency: currency) + "</section>\n"
        html +=
            "<section id=\"by-error-type\"><h2>By error type (wasted cost)</h2>"
            + breakdownTable(report.byErrorType, totals: totals, currency: currency) + "</section>\n"
        for (id, title, lines) in [
            ("top-jobs", "Top jobs", report.topJobs), ("top-channels", "Top channels", report.topChannels),
            ("top-videos", "Top videos", report.topVideos),
        ] {
            html +=
                "<section id=\"\(id)\"><h2>\(title) by bytes</h2><table><thead><tr><th>Name</th><th>Requests</th><th>Bytes total</th></tr></thead><tbody>\n"
            for line in lines {
                html +=
                    "<tr><td>\(e(ReportSections.topName(line)))</td><td>\(DecimalText.grouped(line.requests))</td><td>\(DecimalText.grouped(line.bytesTotal))</td></tr>\n"
            }
            html += "</tbody></table></section>\n"
        }
        if let section = report.reconciliation {
            html +=
                "<section id=\"reconciliation\"><h2>Reconciliation (tolerance ±\(DecimalText.exact(section.tolerancePercent)) %)</h2>"
                + "<table><thead><tr><th>Vendor day</th><th>Ours (bytes)</th><th>Theirs (bytes)</th><th>Difference</th><th>Within</th></tr></thead><tbody>\n"
            for day in section.days {
                html +=
                    "<tr><td>\(e(day.date)) \(e(day.timeZone)) \(e(day.source))</td><td>\(DecimalText.grouped(day.oursBytes))</td><td>\(DecimalText.grouped(day.theirsBytes))</td>"
                    + "<td>\(ReportText.percent(day.differencePercent))</td><td>\(day.withinTolerance ? "yes" : "<strong>no</strong>")</td></tr>\n"
            }
            html += "</tbody></table></section>\n"
        }
        html +=
            "<section id=\"notes\"><h2>Notes</h2><ul>\n" + report.notes.map { "<li>\(e($0))</li>\n" }.joined()
            + "</ul></section>\n<footer id=\"method\"><h2>Method</h2><ul>\n"
            + report.method.map { "<li>\(e($0))</li>\n" }.joined() + "</ul></footer>\n"
        return html + "</body>\n</html>\n"
    }

    private static func budgetSection(_ report: FinanceReport) -> String {
        let budget = report.budget
        let unit = report.unit.rawValue
        var flags: [String] = []
        if budget.alert80 { flags.append("<span class=\"alert\" id=\"alert-80\">≥ 80 % of quota used</span>") }
        if budget.alert100 { flags.append("<span class=\"alert\" id=\"alert-100\">≥ 100 % of quota used</span>") }
        if budget.forecastAlert100 && !budget.alert100 {
            flags.append("<span class=\"alert\">forecast exceeds the quota</span>")
        }
        return """
            <section id="budget"><h2>Budget</h2><table class="kv">
            <tr><th>Included in plan</th><td>\(DecimalText.exact(budget.includedUnits)) \(unit)</td></tr>
            <tr><th>Used to date</th><td>\(ReportText.units(budget.usedUnits)) \(unit) (\(ReportText.percent(budget.usedPercent)))</td></tr>
            <tr><th>Forecast to period end</th><td>\(budget.forecastUnits.map(ReportText.units) ?? "n/a") \(unit) \
            (\(ReportText.percent(budget.forecastPercent))), \(budget.forecastCost.map(ReportText.money) ?? "n/a") \
            \(HTMLText.escape(report.currency))</td></tr>
            </table><p>\(flags.isEmpty ? "No quota alerts." : flags.joined(separator: " "))</p></section>

            """
    }

    private static func rateCardSection(_ report: FinanceReport) -> String {
        var html = "<section id=\"rate-card\"><h2>Rate card</h2>\n"
        for card in ReportSections.rateCards(report) {
            html += "<p><strong>\(HTMLText.escape(card.title)):</strong> \(HTMLText.escape(card.terms)).</p>\n"
            html += "<table class=\"kv\"><thead><tr><th>Tier</th><th>Price</th></tr></thead><tbody>\n"
            html += card.tiers.map { "<tr><td>\(HTMLText.escape($0.bound))</td><td>\(HTMLText.escape($0.price))</td></tr>\n" }.joined()
            html += "</tbody></table>\n"
        }
        return html + "</section>\n"
    }

    /// The daily table; the hours column only when a day is not 24 hours long.
    private static func dailyTable(_ report: FinanceReport) -> String {
        let hours = ReportSections.showsHours(report)
        let totals = report.totals
        var html =
            "<table><thead><tr><th>Date</th>\(hours ? "<th>Hours</th>" : "")<th>Requests</th><th>Bytes total</th>"
            + "<th>Cost (\(HTMLText.escape(report.currency)))</th></tr></thead><tbody>\n"
        for line in report.daily {
            html +=
                "<tr\(line.future ? " class=\"future\"" : "")><td>\(line.day.date)</td>"
                + (hours ? "<td>\(DecimalText.fixed(line.day.hours, places: 2))</td>" : "")
                + "<td>\(DecimalText.grouped(line.requests))</td><td>\(DecimalText.grouped(line.bytesTotal))</td><td>\(ReportText.money(line.cost))</td></tr>\n"
        }
        return html
            + "</tbody><tfoot><tr><th>Usage total</th>\(hours ? "<td></td>" : "")<td>\(DecimalText.grouped(totals.requests))</td>"
            + "<td>\(DecimalText.grouped(totals.bytesTotal))</td><td>\(ReportText.money(totals.usageCost))</td></tr></tfoot></table></section>\n"
    }

    private static func breakdownTable(_ lines: [BreakdownLine], totals: ReportTotals, currency: String) -> String {
        var html =
            "<table><thead><tr><th>Name</th><th>Requests</th><th>Bytes total</th><th>Cost (\(currency))</th><th>Wasted (\(currency))</th></tr></thead><tbody>\n"
        for line in lines {
            html +=
                "<tr><td>\(HTMLText.escape(line.name))</td><td>\(DecimalText.grouped(line.requests))</td><td>\(DecimalText.grouped(line.bytesTotal))</td>"
                + "<td>\(ReportText.money(line.cost))</td><td>\(ReportText.money(line.wastedCost))</td></tr>\n"
        }
        return html
            + "</tbody><tfoot><tr><th>Total</th><td>\(DecimalText.grouped(totals.requests))</td><td>\(DecimalText.grouped(totals.bytesTotal))</td>"
            + "<td>\(ReportText.money(totals.cost))</td><td>\(ReportText.money(totals.wastedCost))</td></tr></tfoot></table>\n"
    }

    /// An amount in millionths, for bar heights only.
    private static func micro(_ value: Decimal) -> Int64 {
        NSDecimalNumber(decimal: DecimalText.rounded(value * 1_000_000, places: 0)).int64Value
    }

    private static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:60rem;color:#111;line-height:1.4}
        h1{font-size:1.6rem}h2{font-size:1.2rem;border-bottom:1px solid #999;margin-top:2rem}
        table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;margin:.5rem 0}
        th,td{border:1px solid #bbb;padding:.2rem .5rem;text-align:right}th:first-child,td:first-child{text-align:left}
        table.kv{width:auto}thead th{background:#eee}tfoot{font-weight:bold}tr.future{color:#888}
        .status{font-size:.8rem;padding:.1rem .4rem;border:1px solid #333;border-radius:3px;vertical-align:middle}
        .status.provisional{background:#fff3cd}.status.closed{background:#d1e7dd}
        .alert{font-weight:bold;border:2px solid #b00;padding:.1rem .4rem;margin-right:.5rem}
        .chart{max-width:100%;height:auto}.bar{fill:#2b5797}.bar.future{fill:#ccc}.share{fill:#2b5797}
        .axis{stroke:#333;stroke-width:1}.axis-label,.tick,.share-label{font-size:11px;fill:#333}
        figure{margin:1rem 0}figcaption{font-size:.9rem;color:#444}
        footer#method{font-size:.85rem;color:#444;border-top:1px solid #999;margin-top:2rem}footer#method h2{font-size:1rem;border:0}
        @media print{body{margin:0;max-width:none;font-size:10pt}section,table,figure{break-inside:avoid}
        .bar,.share{fill:#000}.bar.future{fill:#bbb}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
        """
}
