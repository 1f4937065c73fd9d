import Foundation
public import Jobs
public import Ledger
import ProxyGateway

/// Everything `serve` (and `demo`, which runs the same composition on the lab) is configured
/// with, apart from the proxy settings. Paths may be relative to the working directory.
public struct ServeOptions: Sendable {
    /// The ledger folder (`--ledger`, default `.proxy-ledger/ledger`).
    public var ledgerDirectory: String
    /// The projection's SQLite file (`--db`).
    public var databasePath: String
    /// The job queue's SQLite file (`--jobs-db`).
    public var jobsDatabasePath: String
    /// Where transcripts are written, one file per video (`--output`).
    public var outputDirectory: String
    /// The yt-dlp executable.
    public var ytDlpPath: String
    /// The HTTP server's address (`--listen HOST:PORT`, default `127.0.0.1:8080`; port 0 picks one).
    public var listenHost = "127.0.0.1"
    public var listenPort = 8080
    /// The bearer token every request must carry (`--auth-token-file`); required to bind an
    /// address other than loopback.
    public var authToken: String?
    /// How long jobs in flight may run on after SIGTERM before they are interrupted (`--shutdown-grace`).
    public var shutdownGrace: Duration = .seconds(30)
    /// A running job's lease; renewed every third of it. A crashed worker's jobs run again once it expires.
    public var leaseDuration: Duration = .seconds(60)
    /// How often an idle worker pool asks the queue for work. Jobs enqueued, retried or resumed
    /// through this process wake it at once; the poll finds those that another process enqueued
    /// and retries whose backoff ran out.
    public var pollInterval: Duration = .milliseconds(500)
    /// A deadline per yt-dlp run; then it is stopped and the attempt is a `timeout`.
    public var operationTimeout: Duration = .seconds(600)
    /// The bound on jobs in flight per component when `PROXY_MAX_CONCURRENCY` is 0 (unbounded).
    public var unboundedConcurrencyCap = 32
    /// Arguments added to every yt-dlp run (the lab passes `--no-check-certificates`).
    public var extraYtDlpArguments: [String] = []
    /// Channel-listing targets mapped to the URL yt-dlp lists (the lab maps `@lab-channel-1` to
    /// its feed); others are YouTube `@handle`s or URLs.
    public var channelURLs: [String: String] = [:]
    /// The rate card `/reports/{period}` prices with (`--rate-card`); `nil` = no reports.
    public var rateCardPath: String?
    /// The URL `/debug/connectivity` requests through the gateway.
    public var connectivityTarget = "http://www.youtube.com/"
    /// The queue's backoff and default attempt budget (5 attempts, 5 s doubling to 15 min).
    public var retryPolicy = RetryPolicy()
    /// Rows of `proxy_request_logs` older than this are pruned daily (`--retention-days`,
    /// default 90); `nil` keeps every row. The rollups and the ledger keep everything.
    public var projectionRetention: Duration? = .seconds(90 * 86_400)
    /// The ledger writer's fsync policy and lock wait.
    public var fsyncPolicy: FsyncPolicy = .always
    public var lockTimeout: Duration = .seconds(10)
    /// A shared metering listener for any client (`--proxy-listen`); `nil` runs none.
    public var sharedProxy: SharedProxyOptions?
    /// Whether the worker pools run (`proxy-ledger proxy` runs none).
    public var runsWorkers = true
    /// Whether the HTTP API runs (`proxy-ledger proxy` runs it only with `--http-listen`).
    public var servesHTTP = true
    /// This process's name in job leases (`host:pid` by default).
    public var workerID = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"

    /// Creates options with the given paths and the defaults above.
    public init(ledgerDirectory: String, databasePath: String, jobsDatabasePath: String, outputDirectory: String, ytDlpPath: String) {
        self.ledgerDirectory = ledgerDirectory
        self.databasePath = databasePath
        self.jobsDatabasePath = jobsDatabasePath
        self.outputDirectory = outputDirectory
        self.ytDlpPath = ytDlpPath
    }

    /// Loopback addresses may be bound without a token.
    public static let loopbackHosts: Set<String> = ["127.0.0.1", "::1", "localhost"]

    /// Checks what must hold before anything starts.
    ///
    /// - Throws: ``RuntimeError`` `.invalidConfiguration` for a non-loopback bind without a
    ///   token (of the HTTP API or of an open shared metering listener), an empty token, or a grace or lease that is not positive.
    public func validate() throws {
        if let sharedProxy, case .open = sharedProxy.access, !MeteringProxy.isLoopback(sharedProxy.host) {
            throw RuntimeError(.invalidConfiguration,
                "--no-auth only works on a loopback address: a metering listener on \(sharedProxy.host) would let anyone who reaches it spend the gateway's bandwidth; give --access-token-file FILE, or listen on 127.0.0.1")
        }
        if servesHTTP, !Self.loopbackHosts.contains(listenHost), authToken == nil {
            throw RuntimeError(.invalidConfiguration,
                "binding \(listenHost) exposes the API beyond this host: give --auth-token-file FILE (a bearer token), or listen on 127.0.0.1")
        }
        if let authToken, authToken.isEmpty { throw RuntimeError(.invalidConfiguration, "the auth token file is empty") }
        guard shutdownGrace >= .zero, leaseDuration > .zero, pollInterval > .zero else {
            throw RuntimeError(.invalidConfiguration, "the shutdown grace, lease and poll interval must be positive")
        }
    }
}

/// Why the runtime could not start or stopped.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        /// The options or settings cannot work together.
        public static let invalidConfiguration = Code("invalid_configuration")
        /// The HTTP address could not be bound.
        public static let bindFailed = Code("bind_failed")
        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
