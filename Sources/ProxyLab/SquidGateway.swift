import Foundation
public import Logging
import ProxyGateway
public import Reconciliation
public import Subprocess
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A real Squid on 127.0.0.1 with Basic auth: the lab's stand-in for the vendor gateway.
///
/// Start it with ``start(_:logger:)`` and stop it with ``stop()``, or scope it with
/// ``withSquidGateway(_:logger:_:)``. Its access log (``accessLogPath``, parsed by
/// ``accessLogEntries()``) is the "vendor-reported usage" the ledger is reconciled against.
///
/// ```swift
/// try await withSquidGateway(SquidConfiguration(directory: dir, username: "lab-user", password: pw)) {
///     gateway in
///     let proxy = gateway.proxyURL()   // http://lab-user:<percent-encoded>@127.0.0.1:PORT
/// }
/// ```
public actor SquidGateway: CustomStringConvertible {
    /// Always `127.0.0.1`.
    public nonisolated let host: String
    /// The TCP port Squid listens on.
    public nonisolated let port: Int
    /// The Basic-auth user Squid accepts.
    public nonisolated let username: String
    /// The user's password. Never part of ``description``.
    public nonisolated let password: String
    /// The configuration the gateway was started with.
    public nonisolated let configuration: SquidConfiguration

    private let stopSignal: AsyncStream<Void>.Continuation
    private let process: Task<TerminationStatus, any Error>
    private let logger: Logger

    private init(
        port: Int, configuration: SquidConfiguration, stopSignal: AsyncStream<Void>.Continuation,
        process: Task<TerminationStatus, any Error>, logger: Logger
    ) {
        self.host = LoopbackPort.host
        self.port = port
        self.username = configuration.username
        self.password = configuration.password
        self.configuration = configuration
        self.stopSignal = stopSignal
        self.process = process
        self.logger = logger
    }

    /// `true` when the Squid binary, its Basic-auth helper and `htpasswd` are installed at their
    /// default paths, so tests can skip with a clear message otherwise.
    public static var isAvailable: Bool { missingTools().isEmpty }

    /// The default-path tools that are missing (empty when ``isAvailable``).
    public static func missingTools(_ configuration: SquidConfiguration? = nil) -> [String] {
        let probe = configuration ?? SquidConfiguration(directory: "/", username: "u", password: "")
        return [probe.squidPath, probe.authHelperPath, probe.htpasswdPath]
            .filter { !FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Squid's access log in the `ledger` format.
    public nonisolated var accessLogPath: String { configuration.accessLogPath }
    /// Squid's cache.log.
    public nonisolated var cacheLogPath: String { configuration.cacheLogPath }

    /// The proxy URL for yt-dlp's `--proxy`, with the password percent-encoded like Python's
    /// `urllib.parse.quote(pw, safe='')`.
    ///
    /// - Important: the result contains credentials; never log it.
    /// - Parameter password: a password to use instead of the right one (for auth-failure tests).
    public nonisolated func proxyURL(password override: String? = nil) -> String {
        let user = PercentEncoding.encodeUserinfo(username)
        let secret = PercentEncoding.encodeUserinfo(override ?? password)
        return "http://\(user):\(secret)@\(host):\(port)"
    }

    /// Host, port and user, with the password redacted.
    public nonisolated var description: String {
        "SquidGateway(\(host):\(port), user: \(username), password: <redacted>)"
    }

    /// Reads and parses the access log written so far (the `ledger` logformat, with
    /// Reconciliation's ``SquidAccessLogParser``); an absent log yields `[]`.
    /// - Throws: ``ProxyLabError`` with code `.fileSystem` when the log cannot be read.
    public nonisolated func accessLogEntries() throws -> [VendorRecord] {
        try Self.readAccessLog(path: accessLogPath)
    }

    /// Parses the lab's access log at `path`, skipping malformed lines; an absent file yields `[]`.
    /// - Throws: ``ProxyLabError`` with code `.fileSystem` when the file exists but cannot be read.
    public static func readAccessLog(path: String) throws -> [VendorRecord] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return try SquidAccessLogParser.parse(text, format: .ledger, skipBadLines: true, file: path).records
        } catch {
            throw ProxyLabError(.fileSystem, "cannot read access log \(path): \(error)")
        }
    }

    /// Writes the password file and config, starts `squid -f CONF -N -d1`, and waits until the
    /// port accepts connections.
    ///
    /// - Throws: ``ProxyLabError`` with code `.toolMissing` when Squid or htpasswd is missing,
    ///   `.commandFailed` when htpasswd fails, `.gatewayExited` when Squid exits during start-up,
    ///   `.gatewayStartTimeout` when it does not accept within
    ///   ``SquidConfiguration/startTimeout`` (both carry the tail of cache.log).
    ///
    /// Start-up is not cut short by the cancellation of the calling task (a Ctrl-C): it runs to
    /// the end in a task of its own, so that the caller gets the gateway and can stop it, rather
    /// than leaving a Squid without an owner (or cancelling htpasswd while it reads its stdin).
    ///
    /// When the port was chosen here (``SquidConfiguration/port`` is `nil`) and Squid exits during
    /// start-up, it is started twice more on new ports: between finding a free port and Squid
    /// binding it, a test running beside it may take that port.
    public static func start(_ configuration: SquidConfiguration, logger: Logger) async throws -> SquidGateway {
        try await Task {
            var attempt = 1
            while true {
                do {
                    return try await startUncancelled(configuration, logger: logger)
                } catch let error as ProxyLabError where error.code == .gatewayExited && configuration.port == nil && attempt < 3 {
                    logger.warning("squid exited during start-up; trying a new port", metadata: ["lab.attempt": "\(attempt)"])
                    attempt += 1
                }
            }
        }.value
    }

    private static func startUncancelled(_ configuration: SquidConfiguration, logger: Logger) async throws -> SquidGateway {
        let missing = missingTools(configuration)
        guard missing.isEmpty else {
            throw ProxyLabError(
                .toolMissing, "missing: \(missing.joined(separator: ", ")) (apt-get install squid apache2-utils)")
        }
        try SquidConfiguration.validate(username: configuration.username, directory: configuration.directory)
        guard let port = configuration.port ?? LoopbackPort.freePort() else {
            throw ProxyLabError(.fileSystem, "no free port on 127.0.0.1")
        }
        try await SquidSetup.prepare(configuration, port: port)

        let (readyStream, ready) = AsyncStream<Int32>.makeStream()
        let (stopStream, stopSignal) = AsyncStream<Void>.makeStream()
        let process = Task<TerminationStatus, any Error> {
            let result = try await Subprocess.run(
                .path(.init(configuration.squidPath)),
                arguments: ["-f", configuration.configPath, "-N", "-d1"],
                environment: .inheritedWithoutProxySettings,
                input: .none, output: .discarded, error: .discarded
            ) { execution in
                ready.yield(execution.processIdentifier.value)
                ready.finish()
                for await _ in stopStream { break }
                try? execution.send(signal: .terminate)
            }
            ready.finish()
            return result.terminationStatus
        }
        var iterator = readyStream.makeAsyncIterator()
        guard let pid = await iterator.next() else {
            _ = try await process.value
            throw ProxyLabError(.gatewayExited, "squid did not start")
        }
        let gateway = SquidGateway(
            port: port, configuration: configuration, stopSignal: stopSignal, process: process, logger: logger)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: configuration.startTimeout)
        while !LoopbackPort.isAccepting(port: port) {
            if SquidSetup.hasExited(pid: pid) {
                _ = try? await gateway.stop()
                throw ProxyLabError(
                    .gatewayExited, "squid exited during start-up; cache.log tail:\n\(gateway.cacheLogTail())")
            }
            if clock.now >= deadline {
                _ = try? await gateway.stop()
                throw ProxyLabError(
                    .gatewayStartTimeout,
                    "squid did not accept on \(LoopbackPort.host):\(port) within \(configuration.startTimeout); "
                        + "cache.log tail:\n\(gateway.cacheLogTail())")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        logger.info("squid gateway started", metadata: ["lab.port": "\(port)", "lab.pid": "\(pid)"])
        return gateway
    }

    /// Sends SIGTERM and waits until Squid has exited (about 1–2 s with `shutdown_lifetime 1 seconds`).
    /// Calling it again is harmless.
    /// - Returns: Squid's termination status.
    /// - Throws: the `SubprocessError` if Squid could not be run at all.
    @discardableResult
    public func stop() async throws -> TerminationStatus {
        stopSignal.yield()
        stopSignal.finish()
        let status = try await process.value
        logger.info("squid gateway stopped", metadata: ["lab.port": "\(port)", "lab.status": "\(status)"])
        return status
    }

    /// The last `lines` lines of cache.log, for error messages.
    public nonisolated func cacheLogTail(lines: Int = 20) -> String {
        guard let text = try? String(contentsOfFile: cacheLogPath, encoding: .utf8) else { return "(no cache.log)" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// Starts a ``SquidGateway``, runs `body` with it, and stops it again, also when `body` throws.
///
/// - Throws: what ``SquidGateway/start(_:logger:)`` throws, or what `body` throws.
public func withSquidGateway<Result: Sendable>(
    _ configuration: SquidConfiguration,
    logger: Logger = Logger(label: "proxy-ledger.lab.squid"),
    _ body: (SquidGateway) async throws -> Result
) async throws -> Result {
    let gateway = try await SquidGateway.start(configuration, logger: logger)
    do {
        let result = try await body(gateway)
        try await gateway.stop()
        return result
    } catch {
        _ = try? await gateway.stop()
        throw error
    }
}
