import Foundation
import Ledger
import Logging
import ProxyGateway
import Testing

@testable import Workers

/// Stand-in yt-dlp scripts for tests: a shell prelude sets `$cfg` to the `--config-locations`
/// file and `$proxy` to the `--proxy` value read from it, then the test's body runs.
enum FakeYtDlp {
    static let prelude = #"""
        #!/bin/sh
        cfg=""
        previous=""
        for argument in "$@"; do
            if [ "$previous" = "--config-locations" ]; then cfg="$argument"; fi
            previous="$argument"
        done
        proxy=""
        if [ -n "$cfg" ]; then proxy=$(sed -n "s/^--proxy '\(.*\)'\$/\1/p" "$cfg"); fi

        """#

    /// Writes `prelude + body` as an executable script `name` in `directory`.
    static func write(in directory: String, name: String = "yt-dlp", body: String) throws -> String {
        let path = directory + "/" + name
        try (prelude + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// Polls until `path` exists (the script reached a point), for at most `limit`.
    static func waitForFile(_ path: String, limit: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + limit
        while !FileManager.default.fileExists(atPath: path), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(FileManager.default.fileExists(atPath: path), "the stand-in yt-dlp never reached \(path)")
    }

    /// A route enabled for `component` towards `host:port` with `password`.
    static func service(
        _ component: ProxyComponent, host: String = "127.0.0.1", port: Int = 9, username: String = "lab-user",
        password: String
    ) throws -> ProxyService {
        let settings = ProxySettings(
            enabled: true, gatewayHost: host, gatewayPort: port, username: username, password: password,
            useBackbone: false)
        return try ProxyService(settings: settings, component: component)
    }

    /// A metering proxy whose upstream is never contacted (port 9 on loopback).
    static func idleMeter(logger: Logger) async throws -> MeteringProxy {
        try await MeteringProxy.start(
            upstream: MeteringUpstream(host: "127.0.0.1", port: 9, username: "lab-user", password: "unused"),
            logger: logger)
    }
}

/// A sink that refuses appends from a cancelled task, as a sink checking cancellation would.
struct CancellationCheckingSink: EventAppending {
    let inner: any EventAppending

    func append(_ events: [ProxyRequestEvent]) async throws -> [AppendAcknowledgement] {
        try Task.checkCancellation()
        return try await inner.append(events)
    }
}

/// Runs `body` in a task that is cancelled before `body` starts.
func runCancelledBeforeStart<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error> {
    let task = Task {
        withUnsafeCurrentTask { $0?.cancel() }
        return try await body()
    }
    return await task.result
}
