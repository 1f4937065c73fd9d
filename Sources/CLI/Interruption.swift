import ArgumentParser
import Foundation
import Synchronization
import UnixSignals

/// Runs long commands so that Ctrl-C (SIGINT) or SIGTERM stops them cleanly.
///
/// The first signal cancels the work: structured clean-up runs (child processes such as the lab's
/// Squid and yt-dlp are stopped, temporary folders removed, events already appended stay), and the
/// command then exits with 128 + the signal number (130 for SIGINT, 143 for SIGTERM), as shells
/// expect. A second signal exits at once. Signals are trapped with swift-service-lifecycle's
/// `UnixSignalsSequence`.
enum Interruption {
    /// Runs `body`; see the type's documentation for what a signal does.
    ///
    /// - Parameters:
    ///   - what: What is being stopped, for the one-line notice on stderr.
    ///   - body: The work.
    /// - Returns: What `body` returns, and the exit code the command must end with when a signal
    ///   interrupted it (128 + the signal number), so that it can still print what did happen.
    /// - Throws: `ExitCode(128 + signal)` when `body` throws after an interruption, else what
    ///   `body` throws.
    static func run<Result: Sendable>(
        stopping what: String, _ body: @escaping @Sendable () async throws -> Result
    ) async throws -> (result: Result, interruptedExitCode: ExitCode?) {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let received = Atomic<Int32>(0)
        let work = Task { try await body() }
        let watcher = Task {
            for await signal in signals {
                if received.compareExchange(expected: 0, desired: signal.rawValue, ordering: .acquiringAndReleasing).exchanged {
                    FileHandle.standardError.write(Data("\ninterrupted (\(signal)): stopping \(what); press Ctrl-C again to quit at once\n".utf8))
                    work.cancel()
                } else {
                    exit(128 + received.load(ordering: .acquiring))
                }
            }
        }
        defer { watcher.cancel() }
        let outcome = await work.result
        let signal = received.load(ordering: .acquiring)
        let interrupted = signal == 0 ? nil : ExitCode(128 + signal)
        switch outcome {
        case .success(let result): return (result, interrupted)
        case .failure(let error): throw interrupted ?? error
        }
    }
}
