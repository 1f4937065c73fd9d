import Foundation
import Ledger
import Logging
import Projections
import ProxyGateway
import ProxyLab
import Reconciliation
import Workers

/// What the main job on the test lab did (`proxy-ledger demo`).
public struct LabRunReport: Sendable {
    /// Events appended to the ledger by this run (one per operation).
    public var eventsAppended: Int
    public var transcriptionsSucceeded: Int
    public var transcriptionsFailed: Int
    public var channelListingsSucceeded: Int
    public var channelListingsFailed: Int
    /// The events of this run, in the order they were acknowledged.
    public var events: [ProxyRequestEvent]
    /// The usage summary over the whole projection after this run.
    public var summary: ProxyUsageSummary
    /// What replay applied to the projection.
    public var replay: ReplayResult
    /// `true` when the run was cancelled (Ctrl-C) before or during the replay: the events are in
    /// the ledger and `proxy-ledger replay` projects the rest later; ``replay`` counts what was
    /// projected before it stopped.
    public var replayInterrupted: Bool
    /// Squid's access log entries (the "vendor-reported usage"), read before the lab stopped.
    public var gatewayLog: [VendorRecord]
    /// ``gatewayLog`` without the 0-byte lines of connections that sent no request (Squid logs
    /// the lab's start-up probe of its port as `NONE_NONE/000`).
    public var gatewayRequests: [VendorRecord] { gatewayLog.filter { $0.bytes > 0 } }
    public var ledgerDirectory: String
    public var databasePath: String
    public var labDirectory: String
    /// Whether captions came from `shared/real-inputs` (true) or were synthetic.
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
/// with captions and channel feeds, and real yt-dlp. Transcription jobs and channel listings run
/// concurrently through the authenticated gateway; each operation appends one event to the
/// ledger; the projection is then brought up to date and summarised.
public enum LabRun {
    /// Runs the job. The lab is stopped before this returns; its files stay in `labDirectory`.
    ///
    /// - Throws: `ProxyLabError` when Squid or the origin cannot start, `LedgerError` when the
    ///   ledger cannot be opened (for example `.locked` by another writer), `ProjectionError`
    ///   from the replay. Failed operations do not throw: they are recorded as failed events.
    public static func run(_ options: LabRunOptions, logger: Logger) async throws -> LabRunReport {
        let writer = try LedgerWriter.open(
            LedgerConfiguration(directory: options.ledgerDirectory, fsyncPolicy: options.fsyncPolicy), logger: logger)
        let recorder = RecordingSink(writer: writer)
        let run: (Int, Int, Int, Int, [VendorRecord], Bool)
        do {
            run = try await withProxyLab(
                directory: options.labDirectory, videoCount: options.transcriptionJobs,
                channelCount: options.channelListings, username: options.username, password: options.password,
                httpsOrigin: options.httpsOrigin, logger: logger
            ) { lab in
                try linkGatewayLog(lab)
                let settings = ProxySettings(
                    enabled: true, gatewayHost: lab.gateway.host, gatewayPort: lab.gateway.port,
                    username: options.username, password: options.clientPassword ?? options.password,
                    useBackbone: false, maxConcurrency: options.maxConcurrency)
                // yt-dlp goes through the in-process meter: bytes are counted on the wire, and its
                // argv holds a one-time token instead of the gateway password.
                let meter = try await MeteringProxy.start(
                    upstream: MeteringUpstream(
                        host: lab.gateway.host, port: lab.gateway.port, username: options.username,
                        password: options.clientPassword ?? options.password),
                    logger: logger)
                let counters = RateLimitCounters()
                func producer(_ component: ProxyComponent) throws -> ProducerConfiguration {
                    var configuration = ProducerConfiguration(
                        ytDlpPath: options.ytDlpPath, proxyService: try ProxyService(settings: settings, component: component),
                        sink: recorder, counters: counters, logger: logger, meter: meter)
                    if options.httpsOrigin { configuration.extraArguments = ["--no-check-certificates"] }
                    return configuration
                }
                let transcriber = TranscribeWorker(configuration: try producer(.transcribe), outputDirectory: lab.outputDirectory)
                let browser = ChannelBrowser(configuration: try producer(.api))
                let transcriptions = JobQueue(lab.fixtures.videos.map { video in
                    TranscriptionJob(videoID: video.id, source: .infoJSON(path: video.infoJSONPath))
                })
                let listings = JobQueue(lab.fixtures.channels)
                async let transcribed = BaseWorker(proxyService: transcriber.configuration.proxyService, logger: logger) {
                    try await transcriber.transcribe($0)
                }.drain(transcriptions)
                async let listed = BaseWorker(proxyService: browser.configuration.proxyService, logger: logger) {
                    (channel: LabChannelFixture) in
                    try await browser.listChannel(url: channel.feedURL, channelName: channel.name,
                        context: OperationContext(jobID: UUID().uuidString.lowercased()))
                }.drain(listings)
                let (t, l) = await (transcribed, listed)
                _ = await meter.shutdown(grace: .seconds(2))
                let transcribedOK = t.filter(\.succeeded).count
                let listedOK = l.filter(\.succeeded).count
                return (transcribedOK, t.count - transcribedOK, listedOK, l.count - listedOK,
                        try lab.gateway.accessLogEntries(), lab.fixtures.usesRealCaptions)
            }
        } catch {
            try? await writer.close()
            throw error
        }
        try await writer.close()

        let store = try ProjectionStore(path: options.databasePath)
        // After a Ctrl-C the events are safe in the ledger; projecting them can wait for `replay`
        // (a replay in progress stops after its current transaction).
        let replay =
            Task.isCancelled
            ? ReplayResult(stoppedEarly: true)
            : try Projector(store: store).replay(from: try LedgerReader(directory: options.ledgerDirectory))
        let summary = try store.summary(since: nil)
        try store.close()
        let events = await recorder.events
        return LabRunReport(
            eventsAppended: events.count, transcriptionsSucceeded: run.0, transcriptionsFailed: run.1,
            channelListingsSucceeded: run.2, channelListingsFailed: run.3, events: events, summary: summary,
            replay: replay, replayInterrupted: replay.stoppedEarly, gatewayLog: run.4, ledgerDirectory: options.ledgerDirectory,
            databasePath: options.databasePath, labDirectory: options.labDirectory, usedRealCaptions: run.5)
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

/// Appends to the ledger and remembers what this run appended.
private actor RecordingSink: EventAppending {
    let writer: LedgerWriter
    private(set) var events: [ProxyRequestEvent] = []

    init(writer: LedgerWriter) { self.writer = writer }

    nonisolated func append(_ events: [ProxyRequestEvent]) async throws -> [AppendAcknowledgement] {
        let acks = try await writer.append(events)
        await remember(events)
        return acks
    }

    private func remember(_ appended: [ProxyRequestEvent]) { events += appended }
}
