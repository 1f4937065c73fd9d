import ArgumentParser
import Foundation
import Ledger
import Reconciliation

struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare the ledger's bytes with the gateway's own figures, per hour and per day.",
        discussion: """
            Reads their figures from one of --squid-log, --webshare-csv or --webshare-stats, and ours \
            from the projection database (--db, run `proxy-ledger replay` first) or else the ledger \
            (--ledger). Buckets are half-open [start, end) hours and days aligned to --utc-offset. \
            Vendor bytes that overlap no ledger event in time are shown as "unattributed". With --db, \
            the vendor figures are also stored in vendor_usage_daily and vendor_usage_hourly.

            Exit status: 0 on success; 1 when --fail-over is given and a bucket's |delta %| exceeds it \
            (or their figure is 0 while ours is not); 64 for bad options or malformed input.

            Example:
              proxy-ledger reconcile --db projections.sqlite --squid-log access.log --squid-format ledger \\
                --from 2026-11-01 --to 2026-11-02 --fail-over 1
            """
    )

    enum SquidFormat: String, ExpressibleByArgument, CaseIterable { case auto, native, ledger }
    enum Buckets: String, ExpressibleByArgument, CaseIterable { case hour, day, both }

    @Option(help: ArgumentHelp("The ledger directory (used when --db is not given).", valueName: "dir"))
    var ledger: String?
    @Option(help: ArgumentHelp("The projection database: ours are read from it, theirs stored in it.", valueName: "file"))
    var db: String?
    @Option(name: .customLong("squid-log"), help: ArgumentHelp("A Squid access log.", valueName: "file"))
    var squidLog: String?
    @Option(name: .customLong("squid-format"), help: "The Squid log format (auto: by field count).")
    var squidFormat: SquidFormat = .auto
    @Option(name: .customLong("webshare-csv"), help: ArgumentHelp("A Webshare activity CSV export.", valueName: "file"))
    var webshareCSV: String?
    @Option(name: .customLong("webshare-stats"), help: ArgumentHelp("A Webshare /api/v2/stats/ JSON.", valueName: "file"))
    var webshareStats: String?
    @Option(help: ArgumentHelp("Window start, inclusive (RFC 3339 with offset, or a date = UTC midnight).", valueName: "time"))
    var from: String?
    @Option(help: ArgumentHelp("Window end, exclusive.", valueName: "time"))
    var to: String?
    @Option(name: .customLong("utc-offset"), help: ArgumentHelp("Align hours and days to this offset (Z, +05:30).", valueName: "offset"))
    var utcOffset: String = "Z"
    @Option(help: "Which buckets to print.")
    var buckets: Buckets = .both
    @Option(help: ArgumentHelp("Tolerance in percent for the 'within' column.", valueName: "pct"))
    var tolerance: Double = 1
    @Option(name: .customLong("fail-over"), help: ArgumentHelp("Exit 1 when a bucket's |delta %| exceeds this.", valueName: "pct"))
    var failOver: Double?
    @Option(name: .customLong("match-slack-ms"), help: ArgumentHelp("Time slack when matching vendor records to events.", valueName: "ms"))
    var matchSlackMS: Int64 = 2_000
    @Flag(name: .customLong("skip-bad-lines"), help: "Skip (and list) malformed input lines instead of failing.")
    var skipBadLines = false
    @Flag(name: .customLong("no-store"), help: "Do not store the vendor figures in the database.")
    var noStore = false
    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func validate() throws {
        let sources = [squidLog, webshareCSV, webshareStats].compactMap { $0 }
        guard sources.count == 1 else { throw ValidationError("give exactly one of --squid-log, --webshare-csv, --webshare-stats") }
        guard tolerance >= 0, (failOver ?? 0) >= 0 else { throw ValidationError("--tolerance and --fail-over must be >= 0") }
        guard BucketGrid.parseOffset(utcOffset) != nil else { throw ValidationError("--utc-offset must be Z or ±HH:MM") }
        guard db != nil || ledger != nil else { throw ValidationError("give --db FILE or --ledger DIR for our side") }
    }

    func run() async throws {
        let vendor = try importVendor()
        var options = ReconciliationOptions(
            from: try parseInstant(from, option: "from")?.microseconds, to: try parseInstant(to, option: "to")?.microseconds,
            granularities: buckets == .both ? [.hour, .day] : [buckets == .hour ? .hour : .day],
            utcOffsetSeconds: BucketGrid.parseOffset(utcOffset) ?? 0, tolerancePercent: tolerance, matchSlackMS: matchSlackMS)
        guard let window = options.window(for: vendor.records) else {
            throw CommandFailure("no vendor records and no --from/--to: nothing to compare")
        }
        options.from = window.from
        options.to = window.to
        let padding: Int64 = 86_400_000_000  // events that started up to a day earlier may still match
        let ours = if let db {
            try LedgerUsageReader.fromDatabase(db, from: window.from - padding, to: window.to)
        } else {
            try LedgerUsageReader.fromLedger(ledger ?? "", from: window.from - padding, to: window.to)
        }
        let report = Reconciler.reconcile(vendor, ours: ours, options: options)
        if let db, !noStore {
            try VendorUsageStore.save(
                vendor, databasePath: db, from: window.from, to: window.to, utcOffsetSeconds: options.utcOffsetSeconds)
        }
        switch format {
        case .json: try printJSON(report)
        case .text: print(report.renderText())
        }
        if let failOver, !report.bucketsOver(percent: failOver).isEmpty {
            printError("reconcile: \(report.bucketsOver(percent: failOver).count) bucket(s) over \(failOver) %")
            throw ExitCode.failure
        }
    }

    private func importVendor() throws -> VendorImport {
        do {
            if let squidLog {
                let text = try read(squidLog)
                let resolved: SquidAccessLogParser.Format
                switch squidFormat {
                case .native: resolved = .native
                case .ledger: resolved = .ledger
                case .auto:
                    guard let detected = SquidAccessLogParser.detectFormat(text) else {
                        throw CommandFailure("cannot tell the Squid log format of \(squidLog); pass --squid-format")
                    }
                    resolved = detected
                }
                return try SquidAccessLogParser.parse(text, format: resolved, skipBadLines: skipBadLines, file: squidLog)
            }
            if let webshareCSV {
                return try WebshareActivityCSV.parse(try read(webshareCSV), skipBadLines: skipBadLines, file: webshareCSV)
            }
            let path = webshareStats ?? ""
            guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("cannot read \(path)") }
            return try WebshareStats.parse(data, skipBadLines: skipBadLines, file: path)
        } catch let error as ReconciliationError {
            // Bad vendor input, like a bad `append` line: the line is named, exit 65 (EX_DATAERR).
            printError("Error: \(error)")
            throw ExitCode(65)
        }
    }

    private func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("cannot read \(path)") }
        return String(decoding: data, as: UTF8.self)
    }
}
