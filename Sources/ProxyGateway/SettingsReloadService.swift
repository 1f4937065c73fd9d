import Foundation
public import Logging
public import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// A swift-service-lifecycle `Service` that reloads a ``SettingsStore`` on SIGHUP and when its
/// settings file changes, until graceful shutdown.
///
/// ```swift
/// let store = try SettingsStore(configFile: path)
/// let reloader = await SettingsReloadService(store: store, logger: logger)
/// let group = ServiceGroup(configuration: .init(services: [.init(service: reloader), …], logger: logger))
/// try await group.run()
/// ```
///
/// Each reload logs `settings reloaded (generation N)` (info), `settings unchanged (generation
/// N)` (debug) or `settings reload failed: …; keeping generation N` (error), with metadata
/// `settings.trigger` (`SIGHUP` or `file`). A failed reload keeps the settings in force; no log
/// line holds a secret.
///
/// The file is polled every ``pollInterval``: a change of its modification time (ns), size or
/// inode (an editor's rename) since the store last read it triggers a reload; the file
/// disappearing does too (it fails, keeps the settings, and is not retried until the file
/// changes again).
public struct SettingsReloadService: Service {
    /// The store to reload.
    public let store: SettingsStore
    /// How often the settings file is checked for a change.
    public let pollInterval: Duration
    private let signals: UnixSignalsSequence?
    private let logger: Logger

    /// Creates the service. With `reloadsOnSIGHUP`, SIGHUP is trapped before this returns (from
    /// then on the signal no longer ends the process, and is queued until ``run()`` reads it).
    ///
    /// - Parameters:
    ///   - store: The store to reload.
    ///   - logger: Receives one line per reload.
    ///   - pollInterval: How often to check the settings file (default 1 s).
    ///   - reloadsOnSIGHUP: Whether SIGHUP triggers a reload (default `true`). Only one trap
    ///     per signal should exist in a process.
    public init(
        store: SettingsStore, logger: Logger, pollInterval: Duration = .seconds(1), reloadsOnSIGHUP: Bool = true
    ) async {
        self.store = store
        self.logger = logger
        self.pollInterval = pollInterval
        self.signals = reloadsOnSIGHUP ? await UnixSignalsSequence(trapping: .sighup) : nil
    }

    /// Watches for SIGHUP and file changes until graceful shutdown (or cancellation), then returns.
    public func run() async throws {
        let service = self
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if let signals = service.signals {
                    group.addTask {
                        for await _ in signals { service.reload(trigger: "SIGHUP") }
                    }
                }
                if let path = service.store.configFile {
                    group.addTask { await service.watchFile(path) }
                }
                await group.waitForAll()
            }
        }
    }

    /// Polls `path` until cancelled, reloading when it changes.
    private func watchFile(_ path: String) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: pollInterval) } catch { return }
            guard FileStamp(path: path) != store.loadedFileStamp else { continue }
            reload(trigger: "file")
        }
    }

    /// Reloads the store and logs the outcome.
    func reload(trigger: String) {
        let outcome = store.reload()
        let metadata: Logger.Metadata = ["settings.trigger": "\(trigger)", "settings.generation": "\(outcome.generation)"]
        switch outcome {
        case .reloaded: logger.info("\(outcome)", metadata: metadata)
        case .unchanged: logger.debug("\(outcome)", metadata: metadata)
        case .failed: logger.error("\(outcome)", metadata: metadata)
        }
    }
}

/// What identifies one version of a file: modification time, size and inode (all `-1`/`0` when
/// the file is missing).
struct FileStamp: Sendable, Equatable {
    var seconds: Int = -1
    var nanoseconds: Int = -1
    var size: Int64 = -1
    var inode: UInt64 = 0

    init(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        seconds = Int(info.st_mtim.tv_sec)
        nanoseconds = Int(info.st_mtim.tv_nsec)
        size = Int64(info.st_size)
        inode = UInt64(info.st_ino)
    }
}
