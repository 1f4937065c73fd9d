import ArgumentParser
import Foundation
import Ledger
import Projections

struct SummaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print the usage summary (ProxyUsageSummary) from the projection database.",
        discussion: """
            Counts requests, successes and failures, the success rate, bandwidth in bytes (the sum \
            of estimated_bytes: measured totals where measured), and counts by component and by \
            error type. Run `proxy-ledger replay` first to bring the database up to date.

            Example:
              proxy-ledger summary --db ./projections.sqlite --since 2026-11-01 --format json
            """
    )

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: ArgumentHelp("Only requests at or after this time (RFC 3339 or a date).", valueName: "time"))
    var since: String?

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func validate() throws {
        _ = try parseInstant(since, option: "since")
    }

    func run() async throws {
        let lower = try parseInstant(since, option: "since")
        let store = try databaseOptions.open(.readOnly)
        let summary = try store.summary(since: lower)
        try store.close()
        switch format {
        case .json: try printJSON(summary)
        case .text: print(SummaryText.render(summary))
        }
    }
}

/// Plain-text rendering of a usage summary.
enum SummaryText {
    static func render(_ summary: ProxyUsageSummary) -> String {
        var lines = [
            "Proxy usage" + (summary.since.map { " since \($0.rfc3339)" } ?? ""),
            "  requests:      \(summary.totalRequests) (\(summary.successfulRequests) ok, \(summary.failedRequests) failed)",
            "  success rate:  " + (summary.totalRequests == 0 ? "n/a (no requests)" : String(format: "%.1f %%", summary.successRate * 100)),
            "  bandwidth:     \(summary.bandwidthBytes) bytes (" + String(format: "%.6f GB", Double(summary.bandwidthBytes) / 1e9) + ")",
            "  request bytes: \(summary.requestBytes), response bytes: \(summary.responseBytes)",
        ]
        if !summary.byComponent.isEmpty {
            lines.append("  by component:")
            for (name, count) in summary.byComponent.sorted(by: { $0.key < $1.key }) { lines.append("    \(name): \(count)") }
        }
        if !summary.byErrorType.isEmpty {
            lines.append("  by error type:")
            for (name, count) in summary.byErrorType.sorted(by: { $0.key < $1.key }) { lines.append("    \(name): \(count)") }
        }
        return lines.joined(separator: "\n")
    }
}
