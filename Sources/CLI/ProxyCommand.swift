import ArgumentParser
import Foundation
import Jobs
import Ledger
import Logging
import ProxyGateway
import Runtime
import UnixSignals

/// The flags of a shared metering listener (`proxy`, `serve --proxy-listen`): access and limits.
struct SharedListenerOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A file (mode 0600) holding the access token clients give as their proxy password.", valueName: "file"))
    var accessTokenFile: String?

    @Flag(help: "Accept clients without an access token (only on a loopback address).")
    var noAuth = false

    @Option(help: ArgumentHelp(
        "At most N tunnels open to the gateway at once; more clients wait up to --queue-timeout, then get 503.", valueName: "n"))
    var maxTunnels: Int?

    @Option(help: ArgumentHelp("Seconds a client waits for a tunnel slot (with --max-tunnels; default 30).", valueName: "seconds"))
    var queueTimeout: Double?

    /// The queue timeout when `--queue-timeout` is not given, in seconds.
    static let defaultQueueTimeout = 30.0

    func validate() throws {
        if noAuth, accessTokenFile != nil { throw ValidationError("give either --access-token-file or --no-auth, not both") }
        if let maxTunnels, maxTunnels < 1 || maxTunnels > 100_000 { throw ValidationError("--max-tunnels must be 1 to 100000") }
        if let queueTimeout, queueTimeout < 0 || queueTimeout > 3_600 {
            throw ValidationError("--queue-timeout must be 0 to 3600 seconds")
        }
    }

    /// The listener flags given on the command line, as typed (for `serve` without `--proxy-listen`).
    var givenFlags: [String] {
        [(accessTokenFile != nil, "--access-token-file"), (noAuth, "--no-auth"), (maxTunnels != nil, "--max-tunnels"),
         (queueTimeout != nil, "--queue-timeout")].filter(\.0).map(\.1)
    }

    /// The listener's options for `HOST:PORT`.
    func options(listen: String) throws -> SharedProxyOptions {
        let (host, port) = try ServeCommand.parseListen(listen)
        var options = SharedProxyOptions(host: host, port: port, access: try access())
        options.maxTunnels = maxTunnels
        options.queueTimeout = .milliseconds(Int64((queueTimeout ?? Self.defaultQueueTimeout) * 1_000))
        return options
    }

    /// The access rule (an open listener off loopback is refused by `ServeOptions.validate`,
    /// with the other start-up checks).
    func access() throws -> ClientAccess {
        if let accessTokenFile { return .token(try Self.readPrivateToken(accessTokenFile)) }
        guard noAuth else {
            throw CommandFailure(
                "the metering listener needs --access-token-file FILE (clients give the token as their proxy password), or --no-auth on a loopback address")
        }
        return .open
    }

    /// The token in `path`, refusing a file that other users can read.
    static func readPrivateToken(_ path: String) throws -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let mode = (attributes?[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            throw CommandFailure("the access token file \(path) can be read by other users: run chmod 600 \(path)")
        }
        return try ServeCommand.readToken(path, kind: "access token")
    }
}

struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Meter any client's traffic to the gateway: an HTTP proxy that records one event per exchange.",
        discussion: """
            An HTTP forward proxy (CONNECT tunnels and absolute-form GET/HEAD/POST/…) in front of \
            the gateway that PROXY_* (or --config) configures; it adds the real gateway \
            credentials itself. Each tunnel, and each plain request, is one event in the ledger: \
            who (from the proxy username), the target host:port, the bytes in both directions on \
            the gateway connection, the gateway's status and reason, and the duration.

            Proxy username: COMPONENT, COMPONENT/JOB-ID or COMPONENT/JOB-ID/OPERATION; proxy \
            password: the access token in --access-token-file. A wrong token gets 407 and \
            nothing is forwarded. Examples:
              yt-dlp --proxy 'http://my-scripts%2Fbatch-7:TOKEN@127.0.0.1:8899' …
              curl --proxy http://127.0.0.1:8899 --proxy-user 'my-scripts/batch-7:TOKEN' https://…
            Then `proxy-ledger summary` and `proxy-ledger report` show where the bandwidth went.

            --max-tunnels N keeps at most N exchanges open to the gateway (a plan's concurrency \
            limit); more clients wait up to --queue-timeout, then get 503 with \
            X-Proxy-Ledger-Reason: max_tunnels, and nothing is forwarded. Rules in the \
            settings file (key "rules", docs/proxy.md) block a host or URL (403, a zero-byte \
            blocked_by_rule event, nothing billed) or send it direct, bypassing the gateway.

            The projector keeps the projection (--db) within a second of the ledger. With \
            --http-listen, /healthz, /readyz, /metrics and /debug/proxy are served as by `serve`. \
            SIGTERM or Ctrl-C: new clients are refused, open tunnels get --shutdown-grace to end \
            (then they are closed; their bytes are kept), every event is appended, and proxy exits 0.
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var databaseOptions: DatabaseOptions
    @OptionGroup var lockOptions: LockOptions
    @OptionGroup var listener: SharedListenerOptions

    @Option(help: ArgumentHelp("The proxy's address; port 0 picks a free one.", valueName: "host:port"))
    var listen: String = "127.0.0.1:8899"

    @Option(help: ArgumentHelp("A JSON settings file over the PROXY_* variables (docs/configuration.md).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Also serve the HTTP API (health, metrics, /debug/proxy) here.", valueName: "host:port"))
    var httpListen: String?

    @Option(help: ArgumentHelp("A file holding the bearer token the HTTP API requires (needed to bind it beyond loopback).", valueName: "file"))
    var authTokenFile: String?

    @Option(help: ArgumentHelp("Seconds open tunnels may run on after SIGTERM before they are closed.", valueName: "seconds"))
    var shutdownGrace: Double = 5

    @OptionGroup var fsyncOptions: FsyncOptions

    func validate() throws {
        _ = try ServeCommand.parseListen(listen)
        if let httpListen { _ = try ServeCommand.parseListen(httpListen) }
        _ = try ShutdownGrace.duration(seconds: shutdownGrace)
    }

    func run() async throws {
        var shared = try listener.options(listen: listen)
        let store = try SettingsStore(configFile: config)
        shared.shutdownGrace = try ShutdownGrace.duration(seconds: shutdownGrace)
        var options = ServeOptions(
            ledgerDirectory: ledgerOptions.ledger, databasePath: databaseOptions.db,
            jobsDatabasePath: SQLiteJobStore.defaultPath, outputDirectory: ".proxy-ledger/transcripts", ytDlpPath: "")
        options.sharedProxy = shared
        options.runsWorkers = false
        options.servesHTTP = httpListen != nil
        if let httpListen { (options.listenHost, options.listenPort) = try ServeCommand.parseListen(httpListen) }
        options.authToken = try authTokenFile.map { try ServeCommand.readToken($0) }
        options.fsyncPolicy = fsyncOptions.fsync
        options.lockTimeout = lockOptions.duration
        do { try options.validate() } catch let error as RuntimeError { throw CommandFailure(error.message) }
        try createParentDirectory(of: databaseOptions.db)
        try createParentDirectory(of: SQLiteJobStore.defaultPath)
        var logger = Logger(label: "proxy-ledger.proxy")
        logger.logLevel = .info
        let host = ServeCommand.display(shared.host)
        try await reportingLedgerErrors { [options, store] in
            let runtime = try await ServeRuntime.start(options: options, settings: { store.settings }, logger: logger)
            Task {
                let port = await runtime.sharedProxyListeningPort()
                printError("metering proxy on http://\(host):\(port) (SIGTERM or Ctrl-C drains and stops)")
            }
            do {
                try await runtime.run(gracefulShutdownSignals: [.sigterm, .sigint])
            } catch let error as RuntimeError {
                throw CommandFailure(error.message)
            }
        }
    }
}
