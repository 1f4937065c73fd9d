public import Foundation
import Synchronization

/// The process's current ``ProxySettings`` and their generation, reloadable from the environment
/// and a settings file (see ``ProxySettings/load(environment:configFile:)``).
///
/// ```swift
/// let store = try SettingsStore(configFile: "/etc/proxy-ledger/config.json")
/// let service = try ProxyService(settings: store.settings, component: .transcribe)
/// for await snapshot in store.updates() { … rebuild what depends on snapshot.settings … }
/// ```
///
/// The first load happens in the initializer (generation 1). ``reload()`` reads everything
/// again: new settings get the next generation; a bad file (or environment) keeps the current
/// settings and generation. Safe to share between tasks; ``SettingsReloadService`` reloads it on
/// SIGHUP and when the file changes.
public final class SettingsStore: Sendable {
    /// Settings and the generation they belong to.
    public struct Snapshot: Sendable, Equatable {
        /// The settings.
        public let settings: ProxySettings
        /// 1 for the first load, one more for each reload that changed the settings.
        public let generation: Int
    }

    private struct State {
        var snapshot: Snapshot
        /// The settings file as it was just before the latest load attempt read it.
        var fileStamp: FileStamp?
        var subscribers: [UInt64: AsyncStream<Snapshot>.Continuation] = [:]
        var nextSubscriber: UInt64 = 0
    }

    /// The settings file, or `nil` when only the environment is read.
    public let configFile: String?
    private let environment: @Sendable () -> [String: String]
    private let state: Mutex<State>

    /// Loads the settings (generation 1).
    ///
    /// - Parameters:
    ///   - configFile: The JSON settings file, or `nil` for the environment alone.
    ///   - environment: Gives the variables at each load; defaults to the process environment.
    /// - Throws: ``ProxyConfigurationError`` as ``ProxySettings/load(environment:configFile:)``.
    public init(
        configFile: String?,
        environment: @escaping @Sendable () -> [String: String] = { ProcessInfo.processInfo.environment }
    ) throws(ProxyConfigurationError) {
        self.configFile = configFile
        self.environment = environment
        let stamp = configFile.map(FileStamp.init(path:))
        let settings = try ProxySettings.load(environment: environment(), configFile: configFile)
        state = Mutex(State(snapshot: Snapshot(settings: settings, generation: 1), fileStamp: stamp))
    }

    /// The settings file as it was just before the latest load attempt read it (`nil` without a
    /// file), so that a watcher notices any change made after that.
    var loadedFileStamp: FileStamp? { state.withLock { $0.fileStamp } }

    /// The current settings and generation, read together.
    public var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// The current settings.
    public var settings: ProxySettings { snapshot.settings }

    /// The current generation (1 after the first load).
    public var generation: Int { snapshot.generation }

    /// Reads the environment and the settings file again.
    ///
    /// - Returns: ``SettingsReloadOutcome/reloaded(generation:)`` with the new generation when
    ///   the settings changed, ``SettingsReloadOutcome/unchanged(generation:)`` when they did
    ///   not, ``SettingsReloadOutcome/failed(message:keptGeneration:)`` when they cannot be
    ///   loaded: the current settings stay, and the message (the error's description) holds no
    ///   secret.
    public func reload() -> SettingsReloadOutcome {
        let settings: ProxySettings
        let stamp = configFile.map(FileStamp.init(path:))
        state.withLock { $0.fileStamp = stamp }
        do {
            settings = try ProxySettings.load(environment: environment(), configFile: configFile)
        } catch {
            return .failed(message: error.description, keptGeneration: generation)
        }
        let (outcome, subscribers) = state.withLock { state -> (SettingsReloadOutcome, [AsyncStream<Snapshot>.Continuation]) in
            guard state.snapshot.settings != settings else { return (.unchanged(generation: state.snapshot.generation), []) }
            state.snapshot = Snapshot(settings: settings, generation: state.snapshot.generation + 1)
            return (.reloaded(generation: state.snapshot.generation), Array(state.subscribers.values))
        }
        if case .reloaded = outcome {
            let current = snapshot
            for subscriber in subscribers { subscriber.yield(current) }
        }
        return outcome
    }

    /// A stream of the snapshots of later generations, from now on (the newest one only when a
    /// reader falls behind). It ends when the reading task is cancelled.
    public func updates() -> AsyncStream<Snapshot> {
        let (stream, continuation) = AsyncStream<Snapshot>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }
}

/// What ``SettingsStore/reload()`` did.
public enum SettingsReloadOutcome: Sendable, Equatable, CustomStringConvertible {
    /// New settings are in force, as generation `generation`.
    case reloaded(generation: Int)
    /// The settings read were the same; `generation` stays.
    case unchanged(generation: Int)
    /// The settings could not be loaded (`message`, secret-free); `keptGeneration` stays in force.
    case failed(message: String, keptGeneration: Int)

    /// The generation in force after the reload.
    public var generation: Int {
        switch self {
        case .reloaded(let generation), .unchanged(let generation): generation
        case .failed(_, let kept): kept
        }
    }

    /// The log line: `settings reloaded (generation N)`, `settings unchanged (generation N)` or
    /// `settings reload failed: …; keeping generation N`.
    public var description: String {
        switch self {
        case .reloaded(let generation): "settings reloaded (generation \(generation))"
        case .unchanged(let generation): "settings unchanged (generation \(generation))"
        case .failed(let message, let kept): "settings reload failed: \(message); keeping generation \(kept)"
        }
    }
}
