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
