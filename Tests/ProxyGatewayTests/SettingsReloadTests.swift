import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

@testable import ProxyGateway

@Suite("settings reload", .serialized)
struct SettingsReloadTests {
    static let secret = "s3cr3t-P@ss:w/rd%#?"

    func makeStore(_ directory: TemporaryDirectory, _ json: String) throws -> SettingsStore {
        let path = try SettingsFileTests.write(json, in: directory)
        return try SettingsStore(configFile: path, environment: { ["PROXY_USERNAME": "env-user"] })
    }

    @Test func aReloadPicksUpAChangedFileAndCountsGenerations() throws {
        let directory = try TemporaryDirectory("reload")
        let store = try makeStore(directory, #"{"proxy": {"max_concurrency": 2}}"#)
        #expect(store.generation == 1 && store.settings.maxConcurrency == 2 && store.settings.username == "env-user")
        #expect(store.reload() == .unchanged(generation: 1))
        _ = try SettingsFileTests.write(#"{"proxy": {"max_concurrency": 5}}"#, in: directory)
        #expect(store.reload() == .reloaded(generation: 2))
        #expect(store.snapshot == SettingsStore.Snapshot(settings: store.settings, generation: 2))
        #expect(store.settings.maxConcurrency == 5)
        #expect(store.reload().description == "settings unchanged (generation 2)")
    }

    @Test func aBadFileKeepsTheOldSettingsAndNamesNoSecret() throws {
        let directory = try TemporaryDirectory("reload")
        let store = try makeStore(directory, #"{"proxy": {"password": "\#(Self.secret)", "max_concurrency": 2}}"#)
        let before = store.settings
        _ = try SettingsFileTests.write(#"{"proxy": {"password": "\#(Self.secret)", "max_concurency": 3}}"#, in: directory)
        let outcome = store.reload()
        guard case .failed(let message, let kept) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(kept == 1 && store.generation == 1 && store.settings == before)
        #expect(message.contains("max_concurency") && message.contains("did you mean \"max_concurrency\""))
        #expect(!outcome.description.contains(Self.secret) && !outcome.description.contains("s3cr3t"))
        #expect(outcome.description.hasPrefix("settings reload failed: ") && outcome.description.hasSuffix("; keeping generation 1"))
        try FileManager.default.removeItem(atPath: try #require(store.configFile))
        #expect(store.reload().generation == 1, "a vanished file keeps the settings too")
    }

    @Test func subscribersGetEachNewGeneration() async throws {
        let directory = try TemporaryDirectory("reload")
        let store = try makeStore(directory, #"{"proxy": {"max_concurrency": 2}}"#)
        var updates = store.updates().makeAsyncIterator()
        _ = try SettingsFileTests.write(#"{"proxy": {"max_concurrency": 9}}"#, in: directory)
        #expect(store.reload() == .reloaded(generation: 2))
        let next = await updates.next()
        #expect(next?.generation == 2 && next?.settings.maxConcurrency == 9)
    }

    /// Runs `service` in a ServiceGroup, calls `body`, then shuts the group down gracefully and
    /// checks that the service ended.
    func withRunningGroup(
        _ service: SettingsReloadService, logger: Logger, _ body: () async throws -> Void
    ) async throws {
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: logger))
        let running = Task { try await group.run() }
        try await body()
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// Waits (bounded) for the store's next generation, calling `poke` while waiting.
    func nextGeneration(
        of store: SettingsStore, after generation: Int, poke: @Sendable () -> Void = {}
    ) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        while store.generation == generation, ContinuousClock.now < deadline {
            poke()
            try await Task.sleep(for: .milliseconds(50))
        }
        return store.generation
    }

    @Test func theServiceReloadsWhenTheFileChangesAndEndsOnGracefulShutdown() async throws {
        let directory = try TemporaryDirectory("reload-service")
        let store = try makeStore(directory, #"{"proxy": {"max_concurrency": 2}}"#)
        let handler = TestLog()
        let logger = handler.logger(label: "test.reload")
        let service = await SettingsReloadService(
            store: store, logger: logger, pollInterval: .milliseconds(20), reloadsOnSIGHUP: false)
        try await withRunningGroup(service, logger: logger) {
            _ = try SettingsFileTests.write(#"{"proxy": {"max_concurrency": 4}}"#, in: directory, name: "next.json")
            try FileManager.default.removeItem(atPath: directory.file("config.json"))
            try FileManager.default.moveItem(atPath: directory.file("next.json"), toPath: directory.file("config.json"))
            #expect(try await nextGeneration(of: store, after: 1) == 2)
            #expect(store.settings.maxConcurrency == 4)
            _ = try SettingsFileTests.write(#"{"proxy": {"max_concurrency": "many"}}"#, in: directory)
            let deadline = ContinuousClock.now + .seconds(30)
            while !handler.messages.contains(where: { $0.hasPrefix("settings reload failed") }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        #expect(handler.messages.contains("settings reloaded (generation 2)"))
        #expect(handler.messages.contains { $0.hasPrefix("settings reload failed: ") && $0.hasSuffix("keeping generation 2") })
        #expect(store.generation == 2 && store.settings.maxConcurrency == 4)
    }

    /// SIGHUP reloads. The signal is sent only once the service has trapped it (its initializer
    /// returned); the poll interval is too long to be what reloads.
    @Test func sighupTriggersAReload() async throws {
        let directory = try TemporaryDirectory("reload-sighup")
        let store = try makeStore(directory, #"{"proxy": {"max_concurrency": 2}}"#)
        let logger = Logger(label: "test.reload")
        let service = await SettingsReloadService(store: store, logger: logger, pollInterval: .seconds(3600))
        try await withRunningGroup(service, logger: logger) {
            _ = try SettingsFileTests.write(#"{"proxy": {"max_concurrency": 7}}"#, in: directory)
            let generation = try await nextGeneration(of: store, after: 1) { kill(getpid(), SIGHUP) }
            #expect(generation == 2 && store.settings.maxConcurrency == 7)
            // Let a signal still on its way land while the trap is in place.
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
