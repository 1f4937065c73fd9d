import Foundation
import Jobs
import Ledger
import Logging
import ProxyGateway
import ProxyLab
import Runtime
import Testing
import TestSupport

/// The serve composition on the real lab (Squid with Basic auth, the local origin, yt-dlp).
struct ServeLab {
    let root: String
    let lab: LabEnvironment
    let password: String

    /// The serve tests' warnings (grace periods over, full disks, on purpose): kept, not printed.
    static let log = TestLog()
    static let logger = log.logger(label: "test.serve", level: .warning)

    /// Starts the lab with `videos` videos under a new folder, runs `body`, stops the lab.
    static func with<T: Sendable>(
        videos: Int, channels: Int = 1, hosts: [String: String] = [:], _ body: (ServeLab) async throws -> T
    ) async throws -> T {
        let root = try LabSupport.makeTemporaryDirectory(prefix: "serve")
        defer { LabSupport.removeDirectory(root) }
        let password = "lab@" + UUID().uuidString.prefix(8).lowercased() + ":w/rd%#"
        return try await withProxyLab(
            directory: root + "/lab", videoCount: videos, channelCount: channels, username: LabSupport.username,
            password: password, hosts: hosts, logger: logger
        ) { lab in
            try await body(ServeLab(root: root, lab: lab, password: password))
        }
    }

    var ledger: String { root + "/ledger" }
    var database: String { root + "/projections.sqlite" }
    var jobsDatabase: String { root + "/jobs.sqlite" }

    /// Settings that route both components through the lab's gateway.
    func settings(password: String? = nil, maxConcurrency: Int = 4) -> ProxySettings {
        ProxySettings(
            enabled: true, gatewayHost: lab.gateway.host, gatewayPort: lab.gateway.port, username: LabSupport.username,
            password: password ?? self.password, useBackbone: false, maxConcurrency: maxConcurrency)
    }

    /// The `PROXY_*` environment of a `serve` process on this lab.
    func environment(maxConcurrency: Int = 4) -> [String: String] {
        [
            "PROXY_ENABLED": "true", "PROXY_GATEWAY_HOST": lab.gateway.host, "PROXY_GATEWAY_PORT": "\(lab.gateway.port)",
            "PROXY_USERNAME": LabSupport.username, "PROXY_PASSWORD": password, "PROXY_USE_BACKBONE": "false",
            "PROXY_MAX_CONCURRENCY": "\(maxConcurrency)",
        ]
    }

    func options() throws -> ServeOptions {
        var options = ServeOptions(
            ledgerDirectory: ledger, databasePath: database, jobsDatabasePath: jobsDatabase,
            outputDirectory: root + "/transcripts", ytDlpPath: try #require(YtDlp.locate()))
        options.listenPort = 0
        options.pollInterval = .milliseconds(50)
        options.retryPolicy = RetryPolicy(baseDelay: .milliseconds(200), maxDelay: .seconds(1), jitterFraction: 0)
        for channel in lab.fixtures.channels { options.channelURLs["@" + channel.name] = channel.feedURL }
        return options
    }

    /// A copy of video `index`'s info JSON whose caption URL goes through `prefix` on the origin
    /// (`/delay/MS`, `/flaky/N/KEY`), at a path of its own.
    func infoJSON(video index: Int, prefix: String, name: String) throws -> String {
        let video = lab.fixtures.videos[index]
        var text = try String(contentsOfFile: video.infoJSONPath, encoding: .utf8)
        text = text.replacingOccurrences(of: "/captions/", with: prefix + "/captions/")
        let path = root + "/\(name).info.json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `runtime` in the background during `body`, then shuts it down gracefully.
    static func running<T: Sendable>(_ runtime: ServeRuntime, _ body: () async throws -> T) async throws -> T {
        let task = Task { try await runtime.run() }
        do {
            let result = try await body()
            await runtime.triggerGracefulShutdown()
            try await task.value
            return result
        } catch {
            await runtime.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
    }

    /// Polls `store` until `condition` holds for the jobs `ids`, at most `timeout`.
    static func waitFor(
        _ ids: [String], in store: any JobStore, timeout: Duration = .seconds(120),
        _ condition: ([Job]) -> Bool
    ) async throws -> [Job] {
        let deadline = ContinuousClock.now + timeout
        while true {
            var jobs: [Job] = []
            for id in ids { if let job = try await store.job(id: id) { jobs.append(job) } }
            if condition(jobs) { return jobs }
            guard ContinuousClock.now < deadline else {
                Issue.record("jobs did not reach the expected states: \(jobs.map { "\($0.kind.rawValue) \($0.state.rawValue) attempt \($0.attempt)" })")
                return jobs
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The events in the ledger at `directory`.
    static func events(in directory: String) throws -> [ProxyRequestEvent] {
        var events: [ProxyRequestEvent] = []
        try LedgerReader(directory: directory).scanAll { records in events += records.map(\.event) }
        return events
    }
}

extension Job {
    var isFinished: Bool { !JobState.active.contains(state) }
}
