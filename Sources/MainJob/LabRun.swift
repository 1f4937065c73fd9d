import Foundation
public import Ledger
public import Logging
public import Jobs
public import Projections
import ProxyGateway
import ProxyLab
public import Reconciliation
import Runtime
import UnixSignals

/// What the main job on the test lab did (`proxy-ledger demo`).
public struct LabRunReport: Sendable {
    /// Events the run's jobs appended to the ledger (one per operation and attempt).
    public var eventsAppended: Int
    public var transcriptionsSucceeded: Int
    public var transcriptionsFailed: Int
    public var channelListingsSucceeded: Int
    public var channelListingsFailed: Int
    /// The events of this run's jobs, in ledger order.
    public var events: [ProxyRequestEvent]
    /// The usage summary over the whole projection after this run.
    public var summary: ProxyUsageSummary
    /// Rows in `proxy_request_logs` after the projector's last pass.
    public var projectedRows: Int
    /// Events in the ledger the projector's last pass had not applied (`replay` applies them).
    public var unprojectedEvents = 0
    /// The run's jobs as they ended (completed, discarded, or waiting on a paused component).
    public var jobs: [Job]
    /// Squid's access log entries (the "vendor-reported usage"), read before the lab stopped.
    public var gatewayLog: [VendorRecord]
    /// ``gatewayLog`` without the 0-byte lines of connections that sent no request (Squid logs
    /// the lab's start-up probe of its port as `NONE_NONE/000`).
    public var gatewayRequests: [VendorRecord] { gatewayLog.filter { $0.bytes > 0 } }
    public var ledgerDirectory: String
    public var databasePath: String
    public var jobsDatabasePath: String
    public var labDirectory: String
    /// Whether captions came from real captured files (true) or were synthetic.
    public var usedRealCaptions: Bool
}

/// Options of the main job on the test lab.
public struct LabRunOptions: Sendable {
    public var ledgerDirectory: String
    public var databasePath: String
    /// Where the lab keeps its files (Squid config and logs, origin, fixtures, yt-dlp output).
    /// Must be traversable by Squid's `proxy` user.
    public var labDirectory: String
    public var transcriptionJobs: Int = 20
    public var channelListings: Int = 2
    /// The gateway's Basic-auth user and password (the password contains `@ : / % #` by default).
    public var username: String
    public var password: String
    /// Jobs run at once through the gateway; 0 = unlimited.
    public var maxConcurrency: Int
    public var fsyncPolicy: FsyncPolicy = .always
    /// The gateway password yt-dlp's route uses; `nil` = the lab's. A different value exercises
    /// the gateway's 407 (`auth_failure`).
    public var clientPassword: String?
    /// Serve the fixtures over HTTPS (self-signed, trusted by the lab's yt-dlp calls only), so
    /// every request crosses the gateway as a CONNECT tunnel.
    public var httpsOrigin = false
    /// The yt-dlp executable.
    public var ytDlpPath: String
    /// The job queue's SQLite file; `nil` = `jobs.sqlite` beside ``databasePath``.
    public var jobsDatabasePathOverride: String?
    /// The job queue's SQLite file.
    public var jobsDatabasePath: String {
        jobsDatabasePathOverride
            ?? URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent("jobs.sqlite").path
    }
    /// The HTTP API's port while the demo runs; 0 picks a free one.
    public var listenPort = 0
    /// When set, the run does not stop once its jobs are finished: it calls this with the HTTP
    /// API's base URL (`http://127.0.0.1:PORT`) and keeps the runtime and the lab serving until
    /// SIGINT or SIGTERM, which drain the runtime gracefully (`demo --keep-serving`). The caller
    /// must not trap those signals itself.
    public var keepServing: (@Sendable (_ baseURL: String) -> Void)?

    public init(
        ledgerDirectory: String, databasePath: String, labDirectory: String, username: String, password: String,
        maxConcurrency: Int, ytDlpPath: String
    ) {
        self.ledgerDirectory = ledgerDirectory
        self.databasePath = databasePath
        self.labDirectory = labDirectory
        self.username = username
        self.password = password
        self.maxConcurrency = maxConcurrency
        self.ytDlpPath = ytDlpPath
    }

    /// A fresh lab password holding every character that needs percent-encoding in a proxy URL.
    public static func makeLabPassword() -> String {
        "lab@" + UUID().uuidString.prefix(8).lowercased() + ":w/rd%#"
    }
}

/// The main job, end to end on the local lab: Squid with Basic auth as the gateway, a local origin
/// with captions and channel feeds, and real yt-dlp, driven through the same composition as
/// `proxy-ledger serve` (``ServeRuntime``). The transcriptions and channel listings are enqueued in
/// the durable job queue, the worker pools run them concurrently through the metering proxy and
/// the authenticated gateway, each operation appends one event, and the projector keeps the
/// SQLite projection up to date. The run stops once every job it enqueued is finished (or its
/// component is paused on `auth_failure`).
public enum LabRun {
    /// Runs the job. The lab is stopped before this returns; its files stay in `labDirectory`.
    ///
    /// - Throws: `ProxyLabError` when Squid or the origin cannot start, `LedgerError` when the
    ///   ledger cannot be opened (for example `.locked` by another writer), `ProjectionError` or
    ///   `JobStoreError` when a store cannot be opened. Failed operations do not throw: they are
    ///   recorded as failed events.
    public static func run(_ options: LabRunOptions, logger: Logger) async throws -> LabRunReport {
        let outcome = try await withProxyLab(
            directory: options.labDirectory, videoCount: options.transcriptionJobs,
            channelCount: options.channelListings, username: options.username, password: options.password,
            httpsOrigin: options.httpsOrigin, logger: logger
        ) { lab in
            try linkGatewayLog(lab)
            let runtime = try await ServeRuntime.start(
                options: serveOptions(options, lab: lab), settings: { [settings = labSettings(options, lab: lab)] in settings },
                logger: logger)
            let jobs = try await runJobs(on: runtime, lab: lab, options: options)
            return (jobs, try lab.gateway.accessLogEntries(), lab.fixtures.usesRealCaptions, runtime.projectorStatus.lagEvents)
        }
        var report = try report(options, jobs: outcome.0, gatewayLog: outcome.1, usedRealCaptions: outcome.2)
        report.unprojectedEvents = outcome.3
        return report
    }

    /// Enqueues the lab's videos and channels, runs the runtime until they are done, and stops it
    /// (with ``LabRunOptions/keepServing``: announces the API and serves until a signal).
    /// - Returns: the jobs as they were once finished (or when the runtime stopped first).
    private static func runJobs(on runtime: ServeRuntime, lab: LabEnvironment, options: LabRunOptions) async throws -> [Job] {
        let requests =
            lab.fixtures.videos.map { JobRequest(.transcribe(.infoJSON(path: $0.infoJSONPath))) }
            + lab.fixtures.channels.map { JobRequest(.channelListing(channel: "@" + $0.name, limit: nil)) }
        let enqueued = try await runtime.jobs.enqueue(requests, now: JobClock.now()).map(\.job.id)
        let keepServing = options.keepServing
        return try await withThrowingTaskGroup(of: [Job]?.self) { group in
            group.addTask {
                try await runtime.run(gracefulShutdownSignals: keepServing == nil ? [] : [.sigterm, .sigint])
                return nil
            }
            group.addTask {
                let jobs = try await waitUntilSettled(enqueued, store: runtime.jobs)
                if let keepServing, !Task.isCancelled {
                    await runtime.projectionCatchesUp()  // so /debug/proxy already shows every job
                    keepServing("http://127.0.0.1:\(await runtime.listeningPort())")
                } else {
                    await runtime.triggerGracefulShutdown()
                }
                return jobs
            }
            var finished: [Job] = []
            while let result = try await group.next() {
                if let result { finished = result } else { group.cancelAll() }  // the runtime stopped
            }
            return finished
        }
    }

    /// Polls until no job of `ids` is due or running (each is completed, discarded or cancelled,
    /// or waits on a paused component), or the task is cancelled.
    private static func waitUntilSettled(_ ids: [String], store: any JobStore) async throws -> [Job] {
        while true {
            let stats = try await store.stats(now: JobClock.now())
            let paused = Set(stats.pausedComponents.map(\.component))
            var jobs: [Job] = []
            for id in ids { if let job = try await store.job(id: id) { jobs.append(job) } }
            let open = jobs.filter { job in
                switch job.state {
                case .completed, .discarded, .cancelled: false
                case .running: true
                case .available, .retryable: !paused.contains(job.component)
                }
            }
            if open.isEmpty || Task.isCancelled { return jobs }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    private static func labSettings(_ options: LabRunOptions, lab: LabEnvironment) -> ProxySettings {
        ProxySettings(
            enabled: true, gatewayHost: lab.gateway.host, gatewayPort: lab.gateway.port, username: options.username,
            password: options.clientPassword ?? options.password, useBackbone: false, maxConcurrency: options.maxConcurrency)
    }

    private static func serveOptions(_ options: LabRunOptions, lab: LabEnvironment) -> ServeOptions {
        var serve = ServeOptions(
            ledgerDirectory: options.ledgerDirectory, databasePath: options.databasePath,
            jobsDatabasePath: options.jobsDatabasePath, outputDirectory: lab.outputDirectory, ytDlpPath: options.ytDlpPath)
        serve.listenPort = options.listenPort
        serve.fsyncPolicy = options.fsyncPolicy
        serve.pollInterval = .milliseconds(100)
        serve.connectivityTarget = lab.origin.baseURL + "/status/204"
        if options.httpsOrigin { serve.extraYtDlpArguments = ["--no-check-certificates"] }
        for channel in lab.fixtures.channels { serve.channelURLs["@" + channel.name] = channel.feedURL }
        return serve
    }

    /// Reads back what the run's jobs appended and what the projection says.
    private static func report(_ options: LabRunOptions, jobs: [Job], gatewayLog: [VendorRecord], usedRealCaptions: Bool) throws -> LabRunReport {
        let ids = Set(jobs.map(\.id))
        var events: [ProxyRequestEvent] = []
        try LedgerReader(directory: options.ledgerDirectory).scanAll { records in
            for record in records {
                if let job = record.event.jobID, ids.contains(job) { events.append(record.event) }
            }
        }
        let store = try ProjectionStore(path: options.databasePath, access: .readOnly)
        defer { try? store.close() }
        let projected = try store.requestLogCount()
        let summary = try store.summary(since: nil)
        func count(_ kind: JobKind, _ state: JobState?) -> Int {
            jobs.filter { $0.kind == kind && (state == nil || $0.state == state) }.count
        }
        let transcribed = count(.transcribe, .completed)
        let listed = count(.channelListing, .completed)
        return LabRunReport(
            eventsAppended: events.count, transcriptionsSucceeded: transcribed,
            transcriptionsFailed: count(.transcribe, nil) - transcribed, channelListingsSucceeded: listed,
            channelListingsFailed: count(.channelListing, nil) - listed, events: events, summary: summary,
            projectedRows: projected, jobs: jobs, gatewayLog: gatewayLog, ledgerDirectory: options.ledgerDirectory,
            databasePath: options.databasePath, jobsDatabasePath: options.jobsDatabasePath, labDirectory: options.labDirectory,
            usedRealCaptions: usedRealCaptions)
    }
}

/// Makes Squid's access log (both directions per request) visible as `LAB/gateway-access.log`.
private func linkGatewayLog(_ lab: LabEnvironment) throws {
    let link = lab.directory + "/gateway-access.log"
    if let kind = try? FileManager.default.attributesOfItem(atPath: link)[.type] as? FileAttributeType,
        kind != .typeSymbolicLink
    {
        throw ProxyLabError(.invalidArgument, "\(link) exists and is not the lab's link to Squid's log; move it away first")
    }
    try? FileManager.default.removeItem(atPath: link)
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: lab.gateway.accessLogPath)
}
