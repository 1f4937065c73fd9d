import ArgumentParser
import Foundation
import Ledger
import Logging
import ProxyGateway
import ProxyLab
import Runtime
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the workers, the projector and the HTTP API as one service until SIGTERM.",
        discussion: """
            One process, one ServiceGroup: the transcription and browsing worker pools claim jobs \
            from the durable queue (--jobs-db; fill it with `proxy-ledger enqueue` or POST \
            /api/jobs), run yt-dlp through the in-process metering proxy and the gateway that \
            PROXY_* configures, and append one event per operation (with the job id and attempt) \
            to the ledger; the projector keeps the SQLite projection within a second of the \
            ledger; the HTTP server answers on --listen.

            Endpoints: /healthz, /readyz, /debug/connectivity, /debug/proxy?since=T, /metrics, \
            POST /api/jobs, GET /api/jobs?state=S, GET /api/jobs/ID, GET \
            /api/channels/CHANNEL/videos?limit=N, GET /api/videos/ID, POST /api/videos/batch, GET \
            /reports/PERIOD (with --rate-card; PERIOD is 2026-12 or current), and a status page at /. Binding an address other than loopback needs --auth-token-file; \
            every request but /healthz must then carry `Authorization: Bearer TOKEN`.

            Settings: the PROXY_* variables, with --config FILE (JSON, docs/configuration.md) over \
            them. The file is re-read when it changes and on SIGHUP; the proxy flags, the \
            per-component flags and the concurrency switch from the next job, and a reload \
            resumes components paused on auth_failure. A bad file keeps the old settings and logs why.

            Jobs run at once per component: PROXY_MAX_CONCURRENCY with the proxy on (0 = up to \
            32), one at a time with it off. A job whose credentials the gateway refuses (407) \
            pauses its component: /readyz turns 503 until `proxy-ledger jobs resume COMPONENT`.

            SIGTERM or SIGINT: claiming stops, jobs in flight may finish within \
            --shutdown-grace, the rest are interrupted (their events carry the bytes counted so \
            far and error_type interrupted, and their jobs go back to available without using up \
            an attempt), the projection catches up, and serve exits 0. After a crash (kill -9) a \
            running job's lease expires and the job runs again with a higher attempt number.
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var databaseOptions: DatabaseOptions
    @OptionGroup var jobsOptions: JobsDatabaseOptions
    @OptionGroup var lockOptions: LockOptions

    @Option(help: ArgumentHelp("A JSON settings file over the PROXY_* variables, re-read on change and on SIGHUP (docs/configuration.md).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("The HTTP address; port 0 picks a free one.", valueName: "host:port"))
    var listen: String = "127.0.0.1:8080"

    @Option(help: ArgumentHelp("A file holding the bearer token the HTTP API requires (needed to bind beyond loopback).", valueName: "file"))
    var authTokenFile: String?

    @Option(help: ArgumentHelp(
        "Also run the metering proxy for any client here (see `proxy-ledger proxy --help`).", valueName: "host:port"))
    var proxyListen: String?

    @OptionGroup var proxyListener: SharedListenerOptions

    @Option(help: ArgumentHelp("Where transcripts are written, one file per video.", valueName: "dir"))
    var output: String = ".proxy-ledger/transcripts"

    @Option(help: ArgumentHelp("Seconds jobs in flight may run on after SIGTERM before they are interrupted.", valueName: "seconds"))
    var shutdownGrace: Double = 30

    @Option(help: ArgumentHelp("Seconds a running job's lease lasts (renewed every third of it).", valueName: "seconds"))
    var lease: Double = 60

    @Option(help: ArgumentHelp("The rate card /reports/PERIOD prices with.", valueName: "file"))
    var rateCard: String?

    @Option(help: ArgumentHelp("Days of proxy_request_logs rows to keep (pruned daily; the rollups and the ledger keep everything); 0 keeps all.", valueName: "days"))
    var retentionDays: Int = 90

    @OptionGroup var fsyncOptions: FsyncOptions

    func validate() throws {
        _ = try Self.parseListen(listen)
        if let proxyListen { _ = try Self.parseListen(proxyListen) }
        let listenerFlags = proxyListener.givenFlags
        if proxyListen == nil, !listenerFlags.isEmpty {
            throw ValidationError(
                "\(listenerFlags.joined(separator: ", ")) configure the metering listener; add --proxy-listen HOST:PORT to start it")
        }
        _ = try ShutdownGrace.duration(seconds: shutdownGrace)
        guard retentionDays >= 0, retentionDays <= 36_500 else { throw ValidationError("--retention-days must be 0 to 36500") }
        guard lease >= 1, lease <= 86_400 else { throw ValidationError("--lease must be 1 to 86400 seconds") }
    }

    func run() async throws {
        let store = try SettingsStore(configFile: config)
        guard let ytDlp = YtDlp.locate() else {
            throw CommandFailure("yt-dlp not found: run `make deps`, or set PROXY_LEDGER_YTDLP to its path")
        }
        var options = ServeOptions(
            ledgerDirectory: ledgerOptions.ledger, databasePath: databaseOptions.db, jobsDatabasePath: jobsOptions.jobsDB,
            outputDirectory: output, ytDlpPath: ytDlp)
        (options.listenHost, options.listenPort) = try Self.parseListen(listen)
        options.authToken = try authTokenFile.map { try Self.readToken($0) }
        options.sharedProxy = try proxyListen.map { try proxyListener.options(listen: $0) }
        options.shutdownGrace = try ShutdownGrace.duration(seconds: shutdownGrace)
        options.leaseDuration = .milliseconds(Int64(lease * 1_000))
        options.fsyncPolicy = fsyncOptions.fsync
        options.projectionRetention = retentionDays == 0 ? nil : .seconds(Int64(retentionDays) * 86_400)
        if let rateCard {
            guard FileManager.default.isReadableFile(atPath: rateCard) else { throw CommandFailure("cannot read the rate card \(rateCard)") }
            options.rateCardPath = rateCard
        }
        options.lockTimeout = lockOptions.duration
        do { try options.validate() } catch let error as RuntimeError { throw CommandFailure(error.message) }
        for path in [databaseOptions.db, jobsOptions.jobsDB] { try createParentDirectory(of: path) }
        var logger = Logger(label: "proxy-ledger.serve")
        logger.logLevel = .info
        let host = Self.display(options.listenHost)
        try await reportingLedgerErrors { [options, store] in
            let reloader = await SettingsReloadService(store: store, logger: logger)
            let runtime = try await ServeRuntime.start(
                options: options, settings: { store.settings }, settingsStore: store, extraServices: [reloader], logger: logger)
            Task {
                let port = await runtime.listeningPort()
                printError("serving on http://\(host):\(port)/ (SIGTERM or Ctrl-C drains and stops)")
            }
            if options.sharedProxy != nil {
                Task {
                    let port = await runtime.sharedProxyListeningPort()
                    printError("metering proxy for any client on port \(port)")
                }
            }
            do {
                try await runtime.run(gracefulShutdownSignals: [.sigterm, .sigint])
            } catch let error as RuntimeError {
                throw CommandFailure(error.message)
            }
        }
    }

    /// `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (loopback).
    static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port)
        else { throw ValidationError("--listen must be HOST:PORT, for example 127.0.0.1:8080, not \(text)") }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    static func display(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// The token in `path`, without its trailing newline.
    static func readToken(_ path: String, kind: String = "auth token") throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("cannot read the \(kind) file \(path)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw CommandFailure("the \(kind) file \(path) is empty") }
        return token
    }
}
