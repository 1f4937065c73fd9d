import Foundation

/// References measured in the same run as the figures they bound: what the machine itself can do.
enum ReferenceRows {
    /// Python's `json.loads` over every line of `file`, timed inside Python (start-up excluded).
    /// - Returns: lines per second, or `nil` when python3 is not there.
    static func pythonJSONLoads(file: String) -> Double? {
        let program = """
            import json, sys, time
            lines = open(sys.argv[1], 'rb').read().splitlines()
            started = time.perf_counter()
            for line in lines:
                json.loads(line)
            print(len(lines) / (time.perf_counter() - started))
            """
        guard let output = run("/usr/bin/env", ["python3", "-c", program, file], stdin: nil) else { return nil }
        return Double(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `proxy-ledger append` reading `file` on standard input into a new ledger (fsync none).
    /// - Returns: events per second of wall time (process start-up included) and the child's peak
    ///   resident memory in bytes, or `nil` when the executable is not beside this one.
    static func cliAppend(file: String, events: Int, directory: String) -> (eventsPerSecond: Double, peakBytes: Int)? {
        let binary = (CommandLine.arguments[0] as NSString).deletingLastPathComponent + "/proxy-ledger"
        guard FileManager.default.isExecutableFile(atPath: binary) else { return nil }
        let started = ContinuousClock.now
        guard let output = run(binary, ["append", "--ledger", directory + "/cli-append", "--fsync", "none"], stdin: file),
            output.status == 0
        else { return nil }
        return (Double(events) / (ContinuousClock.now - started).seconds, output.peakBytes)
    }

    /// Prints the CLI append row beside `json.loads` over the same file, each the median of
    /// `rounds` alternating runs, and the CLI's highest peak memory.
    static func printCLIAppend(file: String, events: Int, bytes: Int, directory: String, rounds: Int) {
        var cliRates: [Double] = [], pythonRates: [Double] = [], peak = 0
        for _ in 0..<rounds {
            try? FileManager.default.removeItem(atPath: directory + "/cli-append")
            guard let cli = cliAppend(file: file, events: events, directory: directory) else {
                print("append    CLI from JSON Lines: proxy-ledger not found beside the bench (make bench builds both)")
                return
            }
            cliRates.append(cli.eventsPerSecond)
            peak = max(peak, cli.peakBytes)
            if let python = pythonJSONLoads(file: file) { pythonRates.append(python) }
        }
        let cli = MeteringBench.median(cliRates)
        let ratio = pythonRates.isEmpty
            ? "python3 missing"
            : String(format: "%.2f× Python's json.loads (%.0f lines/s)", cli / MeteringBench.median(pythonRates), MeteringBench.median(pythonRates))
        print("append    CLI from JSON Lines, fsync none".padding(toLength: 58, withPad: " ", startingAt: 0)
            + String(format: " %10.0f events/s  %@   (target ≥ 2×)", cli, ratio as NSString))
        printRounds(("CLI", cliRates), ("json.loads", pythonRates))
        print(String(format: "          peak memory %.0f MB for %.0f MB of input = %.1f× (target ≤ 2×)", Double(peak) / 1e6,
            Double(bytes) / 1e6, Double(peak) / Double(max(1, bytes))))
    }

    /// Prints the rounds of a figure and of its reference, in thousands per second, under their row.
    static func printRounds(_ figure: (name: String, rates: [Double]), _ reference: (name: String, rates: [Double])) {
        func thousands(_ rates: [Double]) -> String { rates.map { String(format: "%.0f", $0 / 1e3) }.joined(separator: " ") }
        print("          rounds (k/s): \(figure.name) \(thousands(figure.rates)); \(reference.name) \(thousands(reference.rates))")
    }

    private static func run(_ executable: String, _ arguments: [String], stdin: String?) -> (status: Int32, stdout: String, peakBytes: Int)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        if let stdin { process.standardInput = FileHandle(forReadingAtPath: stdin) }
        do { try process.run() } catch { return nil }
        let peak = PeakMemory(pid: process.processIdentifier)
        let watcher = Thread { peak.watch() }
        watcher.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), peak.bytes)
    }
}

/// A child's peak resident memory (`VmHWM` in `/proc/PID/status`), read every 5 ms until it ends.
private final class PeakMemory: @unchecked Sendable {
    private let pid: Int32
    private let lock = NSLock()
    private var peak = 0

    init(pid: Int32) { self.pid = pid }

    var bytes: Int { lock.withLock { peak } }

    func watch() {
        while let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8), !text.contains("State:\tZ") {
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kib = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
            {
                lock.withLock { peak = max(peak, kib * 1024) }
            }
            usleep(5_000)
        }
    }
}
