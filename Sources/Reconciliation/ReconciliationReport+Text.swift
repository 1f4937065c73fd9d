import Foundation

extension ReconciliationReport {
    /// How many skipped lines the text footer lists by number and reason.
    static let listedBadLines = 20

    /// A table: one line per bucket, then `unattributed` and `total`; then the counts, the skipped
    /// lines with their reasons (the first 20), and warnings.
    ///
    /// Columns are as wide as their widest value and always separated by at least two spaces, so
    /// every table line splits on whitespace into the same fields.
    public func renderText() -> String {
        var lines = [
            "Reconciliation against \(source.rawValue)" + (vendorFile.map { " (\($0))" } ?? "")
                + ", window [\(windowStart), \(windowEnd)), buckets at \(utcOffset), "
                + "tolerance \(String(format: "%.2f", tolerancePercent)) %",
            comparedDirection == .response
                ? "compared: response bytes only — the native Squid format logs reply sizes, not request bytes"
                : "compared: request + response bytes (both directions)",
        ]
        var rows = [["bucket", "ours (B)", "theirs (B)", "delta (B)", "delta %", "within"]]
        for bucket in buckets + [total] {
            let percent = bucket.deltaPercent.map { String(format: "%+.2f", $0) } ?? "n/a"
            rows.append([
                bucket.label, "\(bucket.ours)", "\(bucket.theirs)", "\(bucket.delta)", percent,
                bucket.isWithin(percent: tolerancePercent) ? "yes" : "NO",
            ])
        }
        let unattributedRow = ["unattributed", "-", "\(unattributed.bytes)"]
        var widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        widths[0] = max(widths[0], unattributedRow[0].count, 16)
        widths[1] = max(widths[1], 12)
        widths[2] = max(widths[2], unattributedRow[2].count, 12)
        widths[3] = max(widths[3], 10)
        widths[4] = max(widths[4], 8)
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { column, text in
                let fill = String(repeating: " ", count: max(0, widths[column] - text.count))
                return column == 0 || column == 5 ? text + fill : fill + text
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        lines += rows.map(render)
        lines.insert(
            render(unattributedRow) + "  (\(unattributed.records) vendor records match no ledger event)",
            at: lines.count - 1)
        lines.append(
            "vendor records: \(vendorRecords) (\(vendorRecordsOutsideWindow) outside the window), ledger events: \(ledgerEvents)"
        )
        if !badLines.isEmpty { lines.append(skippedLinesText()) }
        lines += warnings.map { "warning: \($0)" }
        return lines.joined(separator: "\n")
    }

    /// `skipped 2 bad lines: g.log:10 (bad byte count), g.log:21 (…)`, the first 20 then `… and N more`.
    func skippedLinesText() -> String {
        let listed = badLines.prefix(Self.listedBadLines).map { "\(location(of: $0)) (\($0.reason))" }
        let more = badLines.count > Self.listedBadLines ? ", … and \(badLines.count - Self.listedBadLines) more" : ""
        return "skipped \(badLines.count) bad line\(badLines.count == 1 ? "" : "s"): " + listed.joined(separator: ", ")
            + more
    }

    /// `file:line`, or `file entry N` for the stats JSON.
    func location(of bad: BadLine) -> String {
        if source == .webshareStats { return (vendorFile.map { "\($0) " } ?? "") + "entry \(bad.line)" }
        return vendorFile.map { "\($0):\(bad.line)" } ?? "line \(bad.line)"
    }
}
