import Foundation
import Hummingbird
public import Jobs
import Ledger
public import Logging
import NIOCore
public import Projections
public import ProxyGateway
public import ServiceLifecycle
import Synchronization
public import UnixSignals
import Workers

/// The composition root of `serve`: one ``ServiceGroup`` with a service each for the projector,
/// the HTTP server and the worker pool of every component, around the ledger writer and the
/// metering proxies, which outlive the group.
///
/// ```swift
/// let runtime = try await ServeRuntime.start(options: options, settings: { store.current }, logger: logger)
/// try await runtime.run(gracefulShutdownSignals: [.sigterm, .sigint])
/// ```
///
/// Shutdown: on a signal (or ``triggerGracefulShutdown()``) the worker pools stop claiming and
/// drain (see ``ServeOptions/shutdownGrace``), then the HTTP server stops, the projector makes a
/// last pass, the meters stop and the ledger closes. When the task running ``run(gracefulShutdownSignals:)``
/// is cancelled instead, jobs in flight are interrupted at once; their events are still appended.
public final class ServeRuntime: Sendable {
    /// The job queue the workers claim from.
    public let jobs: any JobStore
    /// The projection the projector keeps up to date.
    public let projection: ProjectionStore
    /// The metrics `/metrics` renders.
    public let metrics: RuntimeMetrics
    /// The ledger sink every operation's event goes to.
    public let sink: LedgerSink
    let state: RuntimeState
    let writer: LedgerWriter
    let meters: MeteringPool
    let projector: ProjectorService
    let options: ServeOptions
    let logger: Logger
    let extraServices: [any Service]
    let settingsStore: SettingsStore?
    /// Wakes the worker pools when a job is enqueued, retried or resumed through ``jobs``.
    let queueSignal: QueueSignal
    private let httpPort = PortAnnouncement()
    private let sharedProxyPort = PortAnnouncement()
    private let group = Mutex<ServiceGroup?>(nil)

    /// Opens the ledger (waiting for its lock), the projection and the job queue.
    ///
    /// - Parameters:
    ///   - settings: Returns the current proxy settings; read at the start of every job, so a
    ///     reload applies from the next one.
    ///   - settingsStore: When given, a reload of it also resumes components paused on
    ///     `auth_failure`.
    ///   - extraServices: More services for the group (the settings reloader).
    /// - Throws: ``RuntimeError`` for invalid options, `LedgerError`, `ProjectionError` or
    ///   `JobStoreError` when a store cannot be opened.
    public static func start(
        options: ServeOptions, settings: @escaping @Sendable () -> ProxySettings, settingsStore: SettingsStore? = nil,
        extraServices: [any Service] = [], logger: Logger
    ) async throws -> ServeRuntime {
        try options.validate()
        let metrics = RuntimeMetrics()
        var configuration = LedgerConfiguration(directory: options.ledgerDirectory, fsyncPolicy: options.fsyncPolicy, lockTimeout: options.lockTimeout)
        configuration.syncObserver = { metrics.recordSync($0) }
        let writer = try await LedgerWriter.opening(configuration, logger: logger)
        do {
            let projection = try ProjectionStore(path: options.databasePath)
            do {
                try projection.bind(to: try LedgerReader(directory: options.ledgerDirectory))
            } catch {
                try? projection.close()
                throw error
            }
            let queueSignal = QueueSignal()
            let jobs = try SQLiteJobStore(
                path: options.jobsDatabasePath, retryPolicy: options.retryPolicy, newlyDue: { queueSignal.signal() })
            return ServeRuntime(
                options: options, settings: settings, writer: writer, projection: projection, jobs: jobs,
                queueSignal: queueSignal, metrics: metrics,
                extraServices: extraServices + (settingsStore.map { [ResumeOnReload(store: $0, jobs: jobs, logger: logger)] } ?? []),
                settingsStore: settingsStore, logger: logger)
        } catch {
            try? await writer.close()
            throw error
        }
    }

    private init(
        options: ServeOptions, settings: @escaping @Sendable () -> ProxySettings, writer: LedgerWriter, projection: ProjectionStore,
        jobs: any JobStore, queueSignal: QueueSignal, metrics: RuntimeMetrics, extraServices: [any Service],
        settingsStore: SettingsStore?, logger: Logger
    ) {
        self.queueSignal = queueSignal
        self.settingsStore = settingsStore
        self.options = options
        self.writer = writer
        self.projection = projection
        self.jobs = jobs
        self.metrics = metrics
        self.logger = logger
        self.extraServices = extraServices
        let wakeups = ProjectorWakeups()
        sink = LedgerSink(writer: writer, metrics: metrics, wakeups: wakeups, logger: logger)
        metrics.recordLedgerBlocked(false)
        meters = MeteringPool(rules: { settings().rules }, logger: logger)
        let channelURLs = options.channelURLs
        let executor = JobExecutor(
            settings: settings, meters: meters, sink: sink, counters: RateLimitCounters(), ytDlpPath: options.ytDlpPath,
            outputDirectory: options.outputDirectory, extraArguments: options.extraYtDlpArguments,
            channelURL: { channelURLs[$0] ?? ChannelURL.resolve($0) }, operationTimeout: options.operationTimeout,
            logger: logger)
        state = RuntimeState(
            jobs: jobs, projection: projection, metrics: metrics, settings: settings,
            ledgerDirectory: options.ledgerDirectory, sink: sink, executor: executor)
        projector = ProjectorService(
            ledgerDirectory: options.ledgerDirectory, partition: 0, store: projection, writer: writer, wakeups: wakeups,
            metrics: metrics, status: state.projector, retention: options.projectionRetention.map(ProjectionRetention.init),
            logger: logger)
    }

    /// How far the projection is behind the ledger, as of the projector's last pass.
    public var projectorStatus: ProjectorStatus { state.projector.value.withLock { $0 } }

    /// Returns once the projection holds every event the ledger had acknowledged when it was
    /// called (the projector's passes bring it there within about a second), or when the task is
    /// cancelled. Polls the projection's checkpoint every 50 ms.
    public func projectionCatchesUp() async {
        let head = writer.nextSequence
        while !Task.isCancelled, ((try? projection.checkpoints())?[projector.partition] ?? 0) < head {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The HTTP server's port once it listens (the chosen one when ``ServeOptions/listenPort`` is 0).
    public func listeningPort() async -> Int { await httpPort.value() }

    /// The shared metering listener's port once it listens (see ``ServeOptions/sharedProxy``).
    public func sharedProxyListeningPort() async -> Int { await sharedProxyPort.value() }

    /// Runs every service until a graceful shutdown (a signal in `gracefulShutdownSignals`, or
    /// ``triggerGracefulShutdown()``) or cancellation, then closes the meters, the projection's
    /// last pass and the ledger.
    ///
    /// - Throws: The first service error (the HTTP address could not be bound, for example), after
    ///   the ledger is closed; `LedgerError` when the final close fails.
    public func run(gracefulShutdownSignals: [UnixSignal] = []) async throws {
        let serviceGroup = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services().map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: gracefulShutdownSignals, logger: logger))
        group.withLock { $0 = serviceGroup }
        let failure: (any Error)?
        do {
            try await serviceGroup.run()
            failure = nil
        } catch let error as IOError where error.errnoCode == EADDRINUSE || error.errnoCode == EACCES {
            let reason = error.errnoCode == EADDRINUSE ? "the address is in use" : "permission denied"
            failure = RuntimeError(.bindFailed,
                "cannot listen on \(options.listenHost):\(options.listenPort): \(reason); choose another --listen")
        } catch {
            failure = error
        }
        await projector.pass()
        await meters.shutdown(grace: .seconds(2))
        try await writer.close()
        try? projection.close()
        if let failure { throw failure }
    }

    /// Starts the graceful shutdown of a running ``run(gracefulShutdownSignals:)``.
    public func triggerGracefulShutdown() async {
        await group.withLock { $0 }?.triggerGracefulShutdown()
    }

    /// The group's services in start order; a graceful shutdown stops them in reverse, so the
    /// worker pools drain first, then the shared metering listener appends its last events,
    /// while the HTTP server and the projector still run.
    private func services() -> [any Service] {
        var services: [any Service] = [projector] + extraServices
        if options.servesHTTP {
            services.append(Application(
                router: HTTPRoutes.router(state: state, options: options),
                configuration: ApplicationConfiguration(address: .hostname(options.listenHost, port: options.listenPort), serverName: "proxy-ledger"),
                onServerRunning: { [httpPort] channel in httpPort.announce(channel.localAddress?.port ?? 0) },
                logger: logger))
        }
        if let shared = options.sharedProxy {
            services.append(SharedProxyService(
                options: shared, settings: state.settings, sink: sink, port: sharedProxyPort, logger: logger))
        }
        if options.runsWorkers { services += JobComponent.all.map(workerService) }
        return services
    }

    private func workerService(_ component: String) -> JobWorkerService {
        let settings = state.settings
        let cap = options.unboundedConcurrencyCap
        let proxyComponent = ProxyComponent(rawValue: component) ?? .transcribe
        return JobWorkerService(
            component: component, store: jobs, executor: state.executor,
            concurrency: {
                guard let service = try? ProxyService(settings: settings(), component: proxyComponent) else { return 1 }
                return WorkerConcurrency(proxyService: service).limit ?? cap
            },
            workerID: options.workerID, leaseDuration: options.leaseDuration, pollInterval: options.pollInterval,
            queueSignal: queueSignal, shutdownGrace: options.shutdownGrace,
            mayClaim: { [sink] in sink.blockedReason == nil }, onGraceOver: { [sink] in sink.stopWaitingForSpace() },
            onQueueChange: {}, logger: logger)
    }
}

/// The URL yt-dlp lists for a channel given as an `@handle` or a URL.
enum ChannelURL {
    static func resolve(_ channel: String) -> String {
        if channel.hasPrefix("@") { return "https://www.youtube.com/\(channel)/videos" }
        return channel.contains("://") ? channel : "https://" + channel
    }
}
