public import ArgumentParser
import Foundation
import Ledger
import Projections
import Reporting

extension ReportFormat: ExpressibleByArgument {}

/// `proxy-ledger report`: a finance report of proxy bandwidth cost for one period.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a finance report (cost per rate card) as HTML, CSV, JSON or Markdown.",
        discussion: """
            Reads the projection database (run `proxy-ledger replay` first), prices the billed bytes \
            with the rate card (docs/rate-cards.md) in exact decimal arithmetic, and writes one file: \
            totals, daily series in local days, breakdowns by component, operation and error type \
            (wasted cost), top 10 jobs, channels and videos, budget with forecast and alerts, and \
            reconciliation against imported vendor figures when present.

            The period is a billing period (--period YYYY-MM, starting on the card's anchor day at \
            local midnight) or --from/--to (RFC 3339, or dates meaning local midnight); without \
            either, the billing period containing --as-of. --as-of defaults to the newest event, so \
            the same database always gives the same report; pass `--as-of now` for a live view. \
            A newest event more than a day in the future (a wrong clock) is not used: the period \
            containing now is reported, with a warning.

            Exit status: 0 written; 64 bad options (including a bad --period, --from/--to or --tz); \
            1 other failures (an unreadable rate card or database).

            Example:
              proxy-ledger report --db ./projections.sqlite --rate-card Fixtures/rate-card.example.json \\
                --period 2026-11 --format html
            """
    )

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(name: .customLong("rate-card"), help: ArgumentHelp("The rate card JSON file.", valueName: "file"))
    var rateCard: String

    @Option(help: ArgumentHelp("A billing period: the month it starts in.", valueName: "YYYY-MM"))
    var period: String?

    @Option(help: ArgumentHelp("Start of a custom period (inclusive).", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("End of a custom period (exclusive).", valueName: "time"))
    var to: String?

    @Option(help: ArgumentHelp("IANA time zone of periods and days (default: the rate card's).", valueName: "zone"))
    var tz: String?

    @Option(help: "Output format (default: the one --out's extension names, else html).")
    var format: ReportFormat?

    @Option(
        help: ArgumentHelp("Output file (default: reports/proxy-cost-<period>.<ext>; - for stdout).", valueName: "path")
    )
    var out: String?

    @Option(
        name: .customLong("as-of"),
        help: ArgumentHelp(
            "Count usage before this instant (RFC 3339, or `now`); default: the newest event.", valueName: "time"))
    var asOf: String?

    @Option(help: ArgumentHelp("Entries per top list (jobs, channels, videos); 0 skips them.", valueName: "n"))
    var top: Int = 10

    @Option(help: ArgumentHelp("Reconciliation tolerance in percent.", valueName: "percent"))
    var tolerance: String = "0.5"

    func validate() throws {
        if period != nil && (from != nil || to != nil) {
            throw ValidationError("use either --period or --from/--to, not both")
        }
        if (from == nil) != (to == nil) { throw ValidationError("--from and --to go together") }
        if let tz, TimeZone(identifier: tz) == nil {
            throw ValidationError("--tz must be an IANA time zone such as Europe/Berlin")
        }
        if top < 0 { throw ValidationError("--top must be 0 or more") }
        if Decimal(string: tolerance) == nil {
            throw ValidationError("--tolerance must be a decimal number of percent")
        }
        _ = try outputFormat()
    }

    /// `--format`, else the format `--out`'s extension names, else HTML.
    /// - Throws: `ValidationError` when `--format` and the extension of `--out` disagree.
    func outputFormat() throws -> ReportFormat {
        let implied = out.flatMap { $0 == "-" ? nil : ReportFormat(pathExtension: $0) }
        if let format, let implied, format != implied {
            throw ValidationError("--out \(out ?? "") names a .\(implied.fileExtension) file but --format is \(format.rawValue)")
        }
        return format ?? implied ?? .html
    }

    func run() async throws {
        let store = try databaseOptions.open(.readOnly)
        defer { try? store.close() }
        do {
            let schedule = try RateCardSchedule.load(path: rateCard)
            let zoneOverride = tz.flatMap(TimeZone.init(identifier:))
            let zone = zoneOverride ?? schedule.billingPeriod.timeZone
            var asOfInstant: LedgerTimestamp?
            if let asOf {
                guard let parsed = asOf == "now" ? LedgerTimestamp.now : ReportPeriod.parseInstant(asOf, in: zone)
                else {
                    throw ValidationError("--as-of must be an RFC 3339 time, a date, or `now`")
                }
                asOfInstant = parsed
            }
            let reportPeriod: ReportPeriod
            if let period {
                reportPeriod = try ReportPeriod.billingPeriod(
                    month: period, rule: schedule.billingPeriod, timeZone: zoneOverride)
            } else if let from, let to {
                guard let start = ReportPeriod.parseInstant(from, in: zone),
                    let end = ReportPeriod.parseInstant(to, in: zone)
                else {
                    throw ValidationError("--from and --to must be RFC 3339 times or dates YYYY-MM-DD")
                }
                reportPeriod = try ReportPeriod(start: start, end: end, timeZone: zone)
            } else {
                guard var anchor = try asOfInstant ?? ReportBuilder.newestEvent(store: store) else {
                    throw ValidationError("the database has no events; pass --period or --from/--to")
                }
                // An event stamped in the future (a producer with a wrong clock) must not pick the period.
                let now = LedgerTimestamp.now
                if asOfInstant == nil, anchor.microseconds > now.microseconds + LedgerTimestamp.microsecondsPerDay {
                    printError(
                        "warning: the newest event (\(anchor.rfc3339)) lies in the future; reporting the period "
                            + "containing now (pass --period or --as-of for another)")
                    anchor = now
                }
                reportPeriod = try ReportPeriod.billingPeriod(
                    containing: anchor, rule: schedule.billingPeriod, timeZone: zoneOverride)
            }
            let request = ReportRequest(
                schedule: schedule, period: reportPeriod, asOf: asOfInstant,
                tolerancePercent: Decimal(string: tolerance) ?? 0, topCount: top)
            let report = try ReportBuilder.build(store: store, request: request)
            let format = try outputFormat()
            if report.totals.requests == 0 && report.totals.unproxiedRequests == 0 {
                printError("note: no usage recorded in \(report.period.label) before the as-of time; the report shows zeros")
            }
            if out == "-" {
                print(ReportRenderer.render(report, as: format), terminator: "")
                return
            }
            let path = out ?? ReportRenderer.defaultPath(for: report, format: format)
            try ReportRenderer.write(report, as: format, to: path)
            printError(
                "wrote \(path): \(report.status.rawValue), cost \(DecimalText.fixed(report.totals.cost)) \(report.currency)"
            )
        } catch let error as ReportError where error.code == .invalidPeriod {
            printError("Error: \(error.message)")
            throw ExitCode(64)  // a bad --period, --from/--to or --tz: a usage error
        } catch let error as ReportError {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}
