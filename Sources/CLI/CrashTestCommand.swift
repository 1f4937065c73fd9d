import ArgumentParser
import Foundation
import Ledger

/// SIGKILLs `stress-append` at random moments and checks after each restart that every
/// acknowledged event reads back at its acknowledged position and that `verify` is clean.
struct CrashTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crash-test",
        abstract: "Kill appending writers at random moments and check that no acknowledged event is lost.",
        discussion: """
            Each trial starts `proxy-ledger stress-append` (fsync always, small segments so that \
            rotation is exercised), waits until it has acknowledged events, kills it with SIGKILL \
            after a random delay, reopens the partition (recovery), verifies the whole ledger, and \
            checks that every acknowledged event is stored at the acknowledged sequence.

            Example:
              proxy-ledger crash-test --trials 1000

            Exit status: 0 nothing lost and verify always clean; 1 otherwise.
            """,
        shouldDisplay: false
    )

    @Option(help: "Number of kill-and-restart trials.")
    var trials: Int = 100

    @Option(help: ArgumentHelp("Ledger folder to use (default: a new temporary folder, removed afterwards).", valueName: "dir"))
    var ledger: String?

    @Option(help: ArgumentHelp("Longest random delay before the kill, in milliseconds.", valueName: "ms"))
    var maxDelay: Int = 250

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    static let trialsPerLedger = 25

    struct Summary: Encodable {
        var trials = 0
        var acknowledgedEvents = 0
        var lostEvents = 0
        var verifyFailures = 0
        var ledger = ""
    }

    func validate() throws {
        guard (1...1_000_000).contains(trials) else { throw ValidationError("--trials must be 1 to 1000000") }
        guard (0...60_000).contains(maxDelay) else { throw ValidationError("--max-delay must be 0 to 60000 ms") }
    }

    func run() async throws {
        let folder = ledger ?? NSTemporaryDirectory() + "proxy-ledger-crash-\(UUID().uuidString)"
        defer { if ledger == nil { try? FileManager.default.removeItem(atPath: folder) } }
        var summary = Summary(ledger: folder)
        var acknowledged: [UUID: UInt64] = [:]
        var total = 0
        for trial in 1...trials {
            // A fresh ledger every 25 trials keeps each reopen (which reloads a week of event ids)
            // and each full verify small, so 1,000 trials take minutes, not hours.
            let current = folder + "/run-\((trial - 1) / Self.trialsPerLedger)"
            if (trial - 1) % Self.trialsPerLedger == 0 {
                total += acknowledged.count
                acknowledged = [:]
            }
            for (id, sequence) in try await killOneWriter(current) { acknowledged[id] = sequence }
            try await reportingLedgerErrors { try await LedgerWriter.open(LedgerConfiguration(directory: current)).close() }
            let verification = try LedgerVerifier.verify(directory: current)
            if !verification.isClean {
                summary.verifyFailures += 1
                printError("trial \(trial): verify: \(String(describing: verification.firstFault))")
            }
            var stored: [UUID: UInt64] = [:]
            try LedgerReader(directory: current).scanAll(salvage: { _ in }) { records in
                for record in records { stored[record.event.eventID] = record.position.sequence }
            }
            summary.lostEvents = acknowledged.filter { stored[$0.key] != $0.value }.count
            summary.trials = trial
            summary.acknowledgedEvents = total + acknowledged.count
            if format == .text, isatty(STDERR_FILENO) == 1 {
                FileHandle.standardError.write(Data("\r\u{1B}[Ktrial \(trial)/\(trials): \(summary.acknowledgedEvents) acknowledged".utf8))
            }
            if summary.lostEvents > 0 { break }
        }
        if format == .text, isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        switch format {
        case .json: try printJSON(summary)
        case .text:
            print("trials \(summary.trials), acknowledged events \(summary.acknowledgedEvents), lost events "
                + "\(summary.lostEvents), verify failures \(summary.verifyFailures)")
        }
        if summary.lostEvents > 0 || summary.verifyFailures > 0 { throw ExitCode(1) }
    }

    /// Runs one `stress-append` until it acknowledged something, then kills it after a random delay.
    /// - Returns: the event ids it printed as acknowledged, with their sequences.
    private func killOneWriter(_ folder: String) async throws -> [(UUID, UInt64)] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.executablePathOfThisProcess)
        process.arguments = ["stress-append", "--ledger", folder, "--fsync", "always", "--segment-bytes", "16384"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let received = ReceivedBytes()
        let reader = Task.detached {
            while case let chunk = output.fileHandleForReading.availableData, !chunk.isEmpty { received.append(chunk) }
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(60))
        while received.isEmpty, clock.now < deadline, process.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(Int.random(in: 0...maxDelay)))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        await reader.value
        var lines = String(decoding: received.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()  // an unterminated last line was never fully acknowledged
        return lines.compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 2, let id = UUID(uuidString: String(parts[0])), let sequence = UInt64(parts[1]) else { return nil }
            return (id, sequence)
        }
    }
}

/// Bytes collected from a pipe on another thread.
private final class ReceivedBytes: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) { lock.withLock { data.append(chunk) } }
    var isEmpty: Bool { lock.withLock { data.isEmpty } }
    var bytes: Data { lock.withLock { data } }
}

extension CommandLine {
    /// This executable's own path (`/proc/self/exe` on Linux), to start children of the same build.
    static var executablePathOfThisProcess: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}
