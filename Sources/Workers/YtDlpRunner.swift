import Ledger
import ProxyGateway
import Subprocess

/// The result of one yt-dlp process.
struct YtDlpRun: Sendable {
    /// The exit code, `nil` when killed by a signal.
    var exitCode: Int32?
    var standardOutput: [UInt8]
    var standardError: String
    /// When the process was started.
    var startedAt: LedgerTimestamp
    /// Wall-clock duration, milliseconds.
    var durationMS: Int64
    /// `true` when the deadline passed and the process was sent SIGTERM.
    var timedOut: Bool

    /// `nil` on success, else the classified failure.
    var failure: YtDlpFailure? {
        YtDlpFailureClassifier.classify(exitCode: exitCode, standardError: standardError, timedOut: timedOut)
    }
}

/// Runs yt-dlp through swift-subprocess, draining stdout and stderr concurrently.
struct YtDlpRunner: Sendable {
    let executable: String
    let timeout: Duration?

    /// Runs `yt-dlp arguments…` with this process's environment minus every `PROXY_*` variable
    /// (the gateway password must not reach yt-dlp). The arguments may hold a proxy URL with
    /// credentials: they are never logged or put into errors.
    /// - Throws: ``WorkerError`` with code `.launchFailed` when the process cannot be started.
    func run(_ arguments: [String]) async throws -> YtDlpRun {
        let startedAt = LedgerTimestamp.now
        let clock = ContinuousClock()
        let start = clock.now
        let timeout = timeout
        do {
            let result = try await Subprocess.run(
                .path(.init(executable)), arguments: Arguments(arguments),
                environment: .inheritedWithoutProxySettings,
                input: .none, output: .sequence, error: .sequence
            ) { execution in
                try await withThrowingTaskGroup(of: StreamPart.self) { group in
                    group.addTask { .output(try await Self.collect(execution.standardOutput)) }
                    group.addTask { .error(try await Self.collect(execution.standardError)) }
                    if let timeout {
                        group.addTask {
                            try await Task.sleep(for: timeout)
                            try? execution.send(signal: .terminate)
                            return .timedOut
                        }
                    }
                    var collected = Collected()
                    var streamsOpen = 2
                    while streamsOpen > 0, let part = try await group.next() {
                        switch part {
                        case .output(let bytes):
                            collected.output = bytes
                            streamsOpen -= 1
                        case .error(let bytes):
                            collected.error = bytes
                            streamsOpen -= 1
                        case .timedOut: collected.timedOut = true
                        }
                    }
                    group.cancelAll()
                    return collected
                }
            }
            let exitCode: Int32? =
                switch result.terminationStatus {
                case .exited(let code): code
                default: nil
                }
            return YtDlpRun(
                exitCode: exitCode, standardOutput: result.closureResult.output,
                standardError: String(decoding: result.closureResult.error, as: UTF8.self), startedAt: startedAt,
                durationMS: milliseconds(clock.now - start), timedOut: result.closureResult.timedOut)
        } catch {
            throw WorkerError(.launchFailed, "cannot run yt-dlp at \(executable): \(type(of: error))")
        }
    }

    private enum StreamPart: Sendable {
        case output([UInt8])
        case error([UInt8])
        case timedOut
    }

    private struct Collected: Sendable {
        var output: [UInt8] = []
        var error: [UInt8] = []
        var timedOut = false
    }

    private static func collect(_ sequence: SubprocessOutputSequence) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in sequence {
            chunk.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        return bytes
    }
}
