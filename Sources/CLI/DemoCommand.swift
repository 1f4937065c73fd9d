import ArgumentParser
import Foundation
import Ledger
import Logging
import MainJob
import ProxyGateway
import Projections
import ProxyLab

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the main job on the local test lab: workers → ledger → SQLite → usage summary.",
        discussion: """
            Starts a real Squid on 127.0.0.1 with Basic auth as the gateway stand-in and a local \
            origin serving caption files, info JSON and channel feeds. Then runs the transcription \
            jobs and channel listings concurrently with yt-dlp through the authenticated gateway, \
            appends one event per operation to the ledger, projects the ledger into the SQLite \
            projection, and prints the usage summary. Re-running appends to the same ledger.

            yt-dlp goes through the in-process metering proxy, which adds the gateway credentials \
            upstream and counts every byte both ways per operation; with --lab-dir, Squid's own \
            log of both directions is kept at LAB/gateway-access.log for `proxy-ledger reconcile`.

            The gateway password contains @ : / % # so that percent-encoding is exercised; set \
            PROXY_USERNAME and PROXY_PASSWORD to choose the lab gateway's credentials. \
            PROXY_MAX_CONCURRENCY bounds the jobs run at once (default here: 4). The demo always \
            routes through the lab gateway: PROXY_ENABLED, PROXY_GATEWAY_*, PROXY_USE_BACKBONE and \
            the per-component overrides do not apply to it. No PROXY_* variable is passed on to \
            yt-dlp or Squid.

            Needs squid, htpasswd and yt-dlp (`make demo` installs them). yt-dlp is looked up \
            as $PROXY_LEDGER_YTDLP, else .venv/bin/yt-dlp in the working directory or above it, \
            else beside this executable's checkout, else on PATH.

            Exits 0 when every operation succeeded, 1 when any failed (the events of failed \
            operations are still appended), 130 or 143 when interrupted by Ctrl-C or SIGTERM \
            (the lab's Squid is stopped and a temporary lab folder removed).
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var databaseOptions: DatabaseOptions
    @OptionGroup var jobsOptions: JobsDatabaseOptions

    @Option(help: ArgumentHelp("Keep the lab's files (Squid log, fixtures, yt-dlp output) here instead of a temporary folder.", valueName: "dir"))
    var labDir: String?

    @Option(help: "Transcription jobs to run.")
    var jobs: Int = 20

    @Option(help: "Channel listings to run.")
    var channels: Int = 2

    @Flag(help: "Serve the lab origin over HTTPS (self-signed), so every request is a CONNECT tunnel.")
    var httpsOrigin = false

    @Flag(help: ArgumentHelp(
        "Once the jobs are done, keep the runtime and the lab running (the HTTP API: /debug/proxy, /metrics, /api/jobs, /reports/…) until Ctrl-C or SIGTERM, which stop it gracefully (exit 0)."))
    var keepServing = false

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func validate() throws {
        guard jobs >= 1, channels >= 1 else { throw ValidationError("--jobs and --channels must be at least 1") }
        if let labDir, labDir.isEmpty { throw ValidationError("--lab-dir must name a folder") }
    }

    func run() async throws {
        let settings = try ProxySettings.fromEnvironment()
        guard let ytDlp = YtDlp.locate() else {
            throw CommandFailure("yt-dlp not found: run `make demo`, or set PROXY_LEDGER_YTDLP to its path")
        }
        let missing = SquidGateway.missingTools()
        guard missing.isEmpty else {
            throw CommandFailure("missing \(missing.joined(separator: ", ")): run `make demo`, which installs squid and apache2-utils")
        }
        let temporary = labDir == nil
        let lab = labDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            ?? "/tmp/proxy-ledger-lab-\(UUID().uuidString.prefix(8))"
        let username = settings.username ?? "lab-user"
        do {
            try SquidConfiguration.validate(username: username, directory: lab)
        } catch let error as ProxyLabError {
            throw CommandFailure(error.message)
        }
        try Self.requireKind(of: lab, directory: true, option: "--lab-dir")
        try Self.requireKind(of: databaseOptions.db, directory: false, option: "--db")
        try Self.requireKind(of: ledgerOptions.ledger, directory: true, option: "--ledger")
        defer { if temporary { try? FileManager.default.removeItem(atPath: lab) } }
        try createParentDirectory(of: databaseOptions.db)
        try createParentDirectory(of: jobsOptions.jobsDB)
        var options = LabRunOptions(
            ledgerDirectory: ledgerOptions.ledger, databasePath: databaseOptions.db, labDirectory: lab,
            username: username, password: settings.password ?? LabRunOptions.makeLabPassword(),
            maxConcurrency: settings.maxConcurrency > 0 ? settings.maxConcurrency : 4, ytDlpPath: ytDlp)
        options.transcriptionJobs = jobs
        options.channelListings = channels
        options.httpsOrigin = httpsOrigin
        options.jobsDatabasePathOverride = jobsOptions.jobsDB
        var logger = Logger(label: "proxy-ledger.demo")
        logger.logLevel = .warning
        if format == .text {
            print("starting the lab (Squid gateway with Basic auth, local origin) and \(jobs) transcription jobs + \(channels) channel listings…")
        }
        let (report, interrupted) = try await runLab(options, logger: logger)
        switch format {
        case .json:
            try printJSON(DemoOutput(report: report))
        case .text:
            print("""
                transcriptions: \(report.transcriptionsSucceeded) ok, \(report.transcriptionsFailed) failed; \
                channel listings: \(report.channelListingsSucceeded) ok, \(report.channelListingsFailed) failed
                captions: \(report.usedRealCaptions ? "real captured captions" : "synthetic")
                events appended: \(report.eventsAppended); projection: \(report.projectedRows) rows\(unprojected(report))
                gateway log: \(report.gatewayRequests.count) requests seen by Squid\(temporary ? "" : ", kept at \(lab)/gateway-access.log")

                \(SummaryText.render(report.summary))

                ledger:   \(report.ledgerDirectory)
                database: \(report.databasePath)
                jobs:     \(report.jobsDatabasePath)

                next: `proxy-ledger jobs list --jobs-db \(report.jobsDatabasePath)` shows the jobs and their attempts;
                      `proxy-ledger report --db \(report.databasePath)` prints the cost report;
                      `proxy-ledger serve` runs the same workers for real, with /debug/proxy and /metrics
                      (`demo --keep-serving` keeps this lab run serving them until Ctrl-C).
                """)
        }
        if let interrupted { throw interrupted }
        let failed = report.transcriptionsFailed + report.channelListingsFailed
        if failed > 0 {
            let total = failed + report.transcriptionsSucceeded + report.channelListingsSucceeded
            throw CommandFailure("\(failed) of \(total) operations failed (their events are in the ledger; see the error types above)")
        }
    }
}

extension DemoCommand {
    /// Runs the lab job: under ``Interruption`` (a signal cancels it, exit 130/143), or with
    /// `--keep-serving` serving until a signal drains the runtime gracefully.
    func runLab(_ options: LabRunOptions, logger: Logger) async throws -> (LabRunReport, ExitCode?) {
        guard keepServing else {
            return try await Interruption.run(stopping: "the lab") { [options, logger] in
                try await LabRun.run(options, logger: logger)
            }
        }
        var options = options
        let quiet = format == .json
        options.keepServing = { url in
            guard !quiet else { return }
            let text = """

                the jobs are done; serving at \(url) until Ctrl-C:
                  \(url)/               status page
                  \(url)/debug/proxy    usage summary (JSON)
                  \(url)/metrics        Prometheus metrics
                  \(url)/api/jobs       the jobs (POST one to run more)

                """
            FileHandle.standardError.write(Data(text.utf8))
        }
        return (try await LabRun.run(options, logger: logger), nil)
    }

    /// `; N appended but not yet projected (run `proxy-ledger replay`)` when the projection is behind.
    func unprojected(_ report: LabRunReport) -> String {
        report.unprojectedEvents == 0
            ? "" : "; \(report.unprojectedEvents) appended but not yet projected (run `proxy-ledger replay`)"
    }

    /// Fails before anything starts when `path` exists but is a file where a folder is needed,
    /// or the other way round.
    static func requireKind(of path: String, directory: Bool, option: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
            isDirectory.boolValue != directory
        else { return }
        throw CommandFailure("\(option) \(path) is \(directory ? "a file, not a folder" : "a folder, not a file")")
    }
}

/// The `--format json` shape of the demo's result.
struct DemoOutput: Encodable {
    var eventsAppended: Int
    var transcriptionsSucceeded: Int
    var transcriptionsFailed: Int
    var channelListingsSucceeded: Int
    var channelListingsFailed: Int
    var gatewayRequests: Int
    var ledger: String
    var database: String
    var summary: ProxyUsageSummary

    init(report: LabRunReport) {
        eventsAppended = report.eventsAppended
        transcriptionsSucceeded = report.transcriptionsSucceeded
        transcriptionsFailed = report.transcriptionsFailed
        channelListingsSucceeded = report.channelListingsSucceeded
        channelListingsFailed = report.channelListingsFailed
        gatewayRequests = report.gatewayRequests.count
        ledger = report.ledgerDirectory
        database = report.databasePath
        summary = report.summary
    }
}
