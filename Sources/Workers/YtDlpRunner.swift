import Ledger
import ProxyGateway
import Subprocess
import SystemPackage

/// The result of one yt-dlp process.
struct YtDlpRun: Sendable {
    /// The exit code, `nil` when killed by a signal (or never started because the task was cancelled).
    var exitCode: Int32?
    var standardOutput: [UInt8]
    var standardError: String
    /// When the process was started (or would have been).
    var startedAt: LedgerTimestamp
    /// Wall-clock duration, milliseconds.
    var durationMS: Int64
    /// `true` when the deadline passed and the process was sent SIGTERM.
    var timedOut: Bool
    /// `true` when the calling task was cancelled before yt-dlp started or while it ran (and it
    /// did not finish successfully first): the worker was stopped, the operation did not finish.
    var interrupted = false

    /// The message of an interrupted run's failure.
    static let interruptedMessage = "interrupted: the worker was stopped while yt-dlp ran"

    /// `nil` on success, else the classified failure; `interrupted` for an ``interrupted`` run.
    var failure: YtDlpFailure? {
        if interrupted { return YtDlpFailure(errorType: .interrupted, httpStatus: nil, message: Self.interruptedMessage) }
        return YtDlpFailureClassifier.classify(exitCode: exitCode, standardError: standardError, timedOut: timedOut)
    }

    /// A run that was interrupted before or while yt-dlp ran, with nothing collected.
    static func interrupted(startedAt: LedgerTimestamp, durationMS: Int64) -> YtDlpRun {
        YtDlpRun(
            exitCode: nil, standardOutput: [], standardError: "", startedAt: startedAt, durationMS: durationMS,
            timedOut: false, interrupted: true)
    }
}

/// Runs yt-dlp through swift-subprocess, draining stdout and stderr concurrently.
struct YtDlpRunner: Sendable {
    let executable: String
    let timeout: Duration?

    /// Runs `yt-dlp arguments…` with this process's environment minus every `PROXY_*` variable
    /// (the gateway password must not reach yt-dlp). The arguments hold no credentials: the proxy
    /// URL reaches yt-dlp through an options file (see ``YtDlpOptionsFile``).
    ///
    /// Cancellation is not an error: when the calling task is cancelled before the launch, yt-dlp
    /// is not started; when it is cancelled while yt-dlp runs, swift-subprocess kills it. Both
    /// return a run with ``YtDlpRun/interrupted`` set (its failure is `interrupted`), so that the
    /// caller still records the operation and the bytes it moved.
    /// - Throws: ``WorkerError`` with code `.launchFailed` when the process cannot be started and
    ///   the task was not cancelled.
    func run(_ arguments: [String]) async throws -> YtDlpRun {
        let startedAt = LedgerTimestamp.now
        let clock = ContinuousClock()
        let start = clock.now
        guard !Task.isCancelled else { return .interrupted(startedAt: startedAt, durationMS: 0) }
        do {
            let (exitCode, collected) = try await execute(arguments)
            let durationMS = (clock.now - start).wholeMilliseconds
            let succeeded = exitCode == 0 && !collected.timedOut
            return YtDlpRun(
                exitCode: exitCode, standardOutput: collected.output,
                standardError: String(decoding: collected.error, as: UTF8.self), startedAt: startedAt,
                durationMS: durationMS, timedOut: collected.timedOut, interrupted: Task.isCancelled && !succeeded)
        } catch {
            if Task.isCancelled || error is CancellationError {
                return .interrupted(startedAt: startedAt, durationMS: (clock.now - start).wholeMilliseconds)
            }
            throw WorkerError(.launchFailed, "cannot run yt-dlp at \(executable): \(type(of: error))")
        }
    }

    /// Starts yt-dlp and collects both streams; the exit code is `nil` when a signal ended it.
    private func execute(_ arguments: [String]) async throws -> (Int32?, Collected) {
        let timeout = timeout
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
        return (exitCode, result.closureResult)
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
