import Foundation
import Ledger

/// An output format of `proxy-ledger report`.
public enum ReportFormat: String, Sendable, Hashable, CaseIterable {
    /// One self-contained HTML file with inline SVG charts; no scripts, fonts or network.
    case html
    /// RFC 4180 CSV (CRLF, quoted where needed), one long table with a `section` column.
    case csv
    /// JSON per the documented schema (`docs/reports.md`), decimal strings for money.
    case json
    /// GitHub-flavoured Markdown tables, for a pull request or a chat message.
    case md

    /// The file extension: `html`, `csv`, `json`, `md`.
    public var fileExtension: String { rawValue }

    /// The format a file name's extension names (`.html`/`.htm`, `.csv`, `.json`, `.md`/`.markdown`,
    /// any case), or `nil` for another extension or none.
    public init?(pathExtension path: String) {
        switch (path as NSString).pathExtension.lowercased() {
        case "html", "htm": self = .html
        case "csv": self = .csv
        case "json": self = .json
        case "md", "markdown": self = .md
        default: return nil
        }
    }
}

/// Renders a ``FinanceReport`` and writes it to a file.
public enum ReportRenderer {
    /// Renders `report` as text in `format`; the same report always gives the same bytes.
    ///
    /// - Parameters:
    ///   - report: The report.
    ///   - format: The output format.
    /// - Returns: The document (UTF-8 text).
    public static func render(_ report: FinanceReport, as format: ReportFormat) -> String {
        switch format {
        case .html: HTMLReportRenderer.render(report)
        case .csv: CSVReportRenderer.render(report)
        case .json: JSONReportRenderer.render(report)
        case .md: MarkdownReportRenderer.render(report)
        }
    }

    /// The default output path: `reports/proxy-cost-<period label>.<ext>` under `directory`.
    ///
    /// - Parameters:
    ///   - report: The report (its period label names the file).
    ///   - format: The output format.
    ///   - directory: The reports directory (default `reports`).
    /// - Returns: The path.
    public static func defaultPath(for report: FinanceReport, format: ReportFormat, directory: String = "reports")
        -> String
    {
        let safe = report.period.label.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        return "\(directory)/proxy-cost-\(String(safe)).\(format.fileExtension)"
    }

    /// Renders `report` and writes it to `path`.
    ///
    /// A regular file (or a new path, whose parent directories are created) is replaced
    /// atomically: readers see the old report or the new one. Anything else that is already at
    /// `path` is never replaced: a device or a FIFO (`/dev/stdout`, `/dev/null`, a pipe) is written
    /// in place, and a directory is refused. A symbolic link is followed.
    ///
    /// - Parameters:
    ///   - report: The report.
    ///   - format: The output format.
    ///   - path: The file to write.
    /// - Throws: ``ReportError`` `.writeFailed` when `path` is a directory or cannot be written.
    public static func write(_ report: FinanceReport, as format: ReportFormat, to path: String) throws {
        let data = Data(render(report, as: format).utf8)
        let url = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType
        if type == .typeDirectory {
            throw ReportError(code: .writeFailed, message: "--out \(path) is a directory; give a file name such as \(path)/report.html")
        }
        try ReportError.wrapping(.writeFailed, "writing the report to \(path) failed") {
            guard type == nil || type == .typeRegular else {
                let handle = try FileHandle(forWritingTo: url)  // a device or FIFO: written in place
                defer { try? handle.close() }
                try handle.write(contentsOf: data)
                return
            }
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        }
    }
}

/// Shared formatting of report values.
enum ReportText {
    /// An instant in the report's zone with its offset.
    static func instant(_ value: LedgerTimestamp, _ report: FinanceReport) -> String {
        ZonedTime.rfc3339(value, in: report.period.timeZone)
    }

    /// Money rounded to cents, e.g. `"12.35"`.
    static func money(_ value: Decimal) -> String { DecimalText.fixed(value) }

    /// Units for human formats: 6 decimals.
    static func units(_ value: Decimal) -> String { DecimalText.fixed(value, places: 6) }

    static func percent(_ value: Decimal?) -> String { value.map { DecimalText.fixed($0) + " %" } ?? "n/a" }

    static func successRate(_ totals: ReportTotals) -> String {
        percent(totals.successRate.map { $0 * 100 })
    }

    static func costColumn(_ report: FinanceReport) -> String { "cost_\(report.currency.lowercased())" }

    static func unitsColumn(_ report: FinanceReport) -> String { "billed_units_\(report.unit.rawValue.lowercased())" }
}
