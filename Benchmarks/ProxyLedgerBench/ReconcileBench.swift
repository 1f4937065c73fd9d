import Foundation
import Ledger
import Projections

/// `reconcile` on a large Squid log (docs/benchmarks.md: peak memory ≤ 100 MB for a 1 GB log,
/// whatever its size): `BENCH_RECONCILE_BYTES` (default 1 GiB, less when the disk has not three
/// times that free) of lines in the lab's `ledger` logformat over 30 days, and a projection with
/// one event an hour. The release `proxy-ledger reconcile` runs on it as a child process, once
/// with `--no-store` and once storing the figures in the projection; each row gives the child's
/// peak resident memory (``Child``) beside the file size and the target, and its lines per
/// second (wall time, and CPU time, which a busy machine disturbs less) beside `wc -l` over the
/// same file in the same run. The theirs total of the JSON report is checked against the bytes
/// written. The files are deleted afterwards. `BENCH_RECONCILE_BASELINE=PATH` also runs another
/// `proxy-ledger` build on the same log (`--no-store`), for a before/after figure.
enum ReconcileBench {
    /// 2026-11-01T00:00:00Z in Unix seconds.
    private static let start: Int64 = 1_793_491_200
    private static let days: Int64 = 30

    static func run(directory: String) throws {
        let binary = (CommandLine.arguments[0] as NSString).deletingLastPathComponent + "/proxy-ledger"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            print("reconcile: proxy-ledger not found beside the bench (make bench builds both)")
            return
        }
        let wanted = Int64(ProcessInfo.processInfo.environment["BENCH_RECONCILE_BYTES"] ?? "") ?? 1 << 30
        let size = min(wanted, freeBytes(directory) / 3)
        if size < wanted { print("reconcile: \(wanted) B wanted, the disk has room for \(size) B only") }
        let log = directory + "/reconcile-access.log"
        let db = directory + "/reconcile.sqlite"
        defer {
            for path in [log, db, db + "-wal", db + "-shm", directory + "/reconcile.out", directory + "/reconcile.err"]
            {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        let generated = ContinuousClock.now
        let (lines, bytes) = try writeLog(log, size: size)
        try makeProjection(db)
        let megabytes = Double(size) / 1e6
        print(
            String(
                format: "reconcile setup (untimed): %.0f MB Squid log, %d lines, in %.1f s; %lld events",
                megabytes, lines, (ContinuousClock.now - generated).seconds, days * 24))
        guard let wc = Child.run("/usr/bin/wc", ["-l", log], in: directory) else { return print("reconcile: no wc") }
        let run = Run(log: log, db: db, directory: directory, size: size, lines: lines, bytes: bytes, wc: wc)
        for store in [false, true] { run.measure(binary, "reconcile", store: store) }
        if let baseline = ProcessInfo.processInfo.environment["BENCH_RECONCILE_BASELINE"], !baseline.isEmpty {
            run.measure(baseline, "baseline", store: false)
        }
    }

    /// One generated log and its reference, measured with one binary at a time.
    private struct Run {
        var log, db, directory: String
        var size: Int64
        var lines: Int
        var bytes: Int64
        var wc: Child

        /// Runs `binary reconcile` on the log and prints its two lines.
        func measure(_ binary: String, _ name: String, store: Bool) {
            let arguments =
                ["reconcile", "--db", db, "--squid-log", log, "--format", "json"] + (store ? [] : ["--no-store"])
            guard let child = Child.run(binary, arguments, in: directory) else { return print("\(name): spawn failed") }
            let theirs = ReconcileBench.theirsTotal(directory + "/reconcile.out")
            let check =
                child.status != 0
                ? "  FAILED: exit \(child.status)"
                : theirs == bytes ? "" : "  MISMATCH: theirs \(theirs ?? -1) B, wrote \(bytes) B"
            let label = "\(name) \(size / 1_000_000) MB Squid log, " + (store ? "stored in --db" : "--no-store")
            print(
                label.padding(toLength: 58, withPad: " ", startingAt: 0)
                    + String(
                        format: " %10.0f MB peak RSS = %.1f %% of the file (target ≤ 100 MB)%@",
                        Double(child.peakBytes) / 1e6, 100 * Double(child.peakBytes) / Double(size), check as NSString))
            let (rate, cpuRate) = (Double(lines) / child.seconds, Double(lines) / child.cpuSeconds)
            let cpuReference = Double(lines) / wc.cpuSeconds
            print(
                String(
                    format: "          %.2f M lines/s wall (%.1f s), %.2f M lines/s CPU = %.3f× wc -l (%.1f M lines/s CPU)",
                    rate / 1e6, child.seconds, cpuRate / 1e6, cpuRate / cpuReference, cpuReference / 1e6))
        }
    }

    /// Writes about `size` bytes of ledger-format lines, times evenly spread over ``days`` days.
    ///
    /// - Returns: The lines written and their request plus reply bytes.
    private static func writeLog(_ path: String, size: Int64) throws -> (lines: Int, bytes: Int64) {
        let lineEstimate = 92
        let count = max(1, Int(size) / lineEstimate)
        let stepMS = days * 86_400_000 / Int64(count)
        guard
            let handle = FileHandle(forWritingAtPath: path)
                ?? {
                    _ = FileManager.default.createFile(atPath: path, contents: nil)
                    return FileHandle(forWritingAtPath: path)
                }()
        else { throw CocoaError(.fileWriteUnknown) }
        defer { try? handle.close() }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 22)
        var total: Int64 = 0
        for index in 0..<count {
            let ms = start * 1_000 + Int64(index) * stepMS
            let (request, reply) = (Int64(200 + index % 1_800), Int64(3_000 + (index &* 7_919) % 900_000))
            total += request + reply
            append(&buffer, ms / 1_000)
            buffer.append(UInt8(ascii: "."))
            append(&buffer, ms % 1_000, width: 3)
            buffer.append(contentsOf: "    ".utf8)
            append(&buffer, Int64(index % 3_000))
            buffer.append(contentsOf: " 127.0.0.1 TCP_TUNNEL/200 ".utf8)
            append(&buffer, request)
            buffer.append(UInt8(ascii: " "))
            append(&buffer, reply)
            buffer.append(contentsOf: " CONNECT rr3---sn-4g5e6nz7.googlevideo.com:443 user-rotate\n".utf8)
            if buffer.count > (1 << 22) - 256 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: buffer)
        return (count, total)
    }

    /// Appends `value` in decimal, zero-padded to `width` digits.
    private static func append(_ buffer: inout [UInt8], _ value: Int64, width: Int = 1) {
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0 || digits.count < width
        buffer.append(contentsOf: digits.reversed())
    }

    /// A projection with one measured event at the start of every hour of the log's span.
    private static func makeProjection(_ path: String) throws {
        let store = try ProjectionStore(path: path)
        defer { try? store.close() }
        let records = (0..<Int(days * 24)).map { hour in
            LedgerRecord(
                schemaVersion: 1, position: .init(partition: 0, sequence: UInt64(hour)),
                event: ProxyRequestEvent(
                    timestamp: LedgerTimestamp(microseconds: (start + Int64(hour) * 3_600) * 1_000_000),
                    component: "transcribe-worker", operation: "subtitle-download", success: true, requestBytes: 1_000,
                    responseBytes: 400_000, estimatedBytes: 401_000, bytesMeasured: true, durationMS: 2_000,
                    proxied: true))
        }
        _ = try Projector(store: store).apply(records)
    }

    /// The report's `total.theirs`, or `nil` when the output is not the JSON report.
    private static func theirsTotal(_ path: String) -> Int64? {
        guard let data = FileManager.default.contents(atPath: path),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let total = json["total"] as? [String: Any]
        else { return nil }
        return (total["theirs"] as? NSNumber)?.int64Value
    }

    private static func freeBytes(_ directory: String) -> Int64 {
        var status = statvfs()
        guard statvfs(directory, &status) == 0 else { return 0 }
        return Int64(status.f_bavail) * Int64(status.f_frsize)
    }
}

/// A child process run to its end: exit status, wall time and peak resident memory.
///
/// The peak is the child's `VmHWM` (`/proc/PID/status`, a high-water mark, sampled every 2 ms
/// until it exits). `wait4`'s `ru_maxrss` is only the fallback: on Linux it also counts the
/// resident memory of this process, whose address space the child shares until `execve`.
struct Child {
    var status: Int32
    var seconds: Double
    /// User plus system CPU time, in seconds (steadier than wall time on a shared machine).
    var cpuSeconds: Double
    var peakBytes: Int

    /// Runs `executable` with standard output and error in `directory`/reconcile.out and .err.
    ///
    /// - Returns: `nil` when it cannot be started.
    static func run(_ executable: String, _ arguments: [String], in directory: String) -> Child? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let output = O_WRONLY | O_CREAT | O_TRUNC
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, directory + "/reconcile.out", output, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, directory + "/reconcile.err", output, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let started = ContinuousClock.now
        guard posix_spawn(&pid, executable, &actions, nil, argv, environ) == 0 else { return nil }
        let highWater = HighWater(pid: pid)
        let watcher = Thread { highWater.watch() }
        watcher.start()
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0, errno == EINTR {}
        let seconds = (ContinuousClock.now - started).seconds
        let sampled = highWater.stop()
        let exit = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let cpu = [usage.ru_utime, usage.ru_stime].reduce(0.0) { $0 + Double($1.tv_sec) + Double($1.tv_usec) / 1e6 }
        return Child(
            status: exit, seconds: seconds, cpuSeconds: cpu, peakBytes: sampled > 0 ? sampled : usage.ru_maxrss * 1_024)
    }
}

/// A child's `VmHWM`, read every 2 ms until ``stop()``.
private final class HighWater: @unchecked Sendable {
    private let pid: pid_t
    private let lock = NSLock()
    private var peak = 0
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    init(pid: pid_t) { self.pid = pid }

    func watch() {
        defer { finished.signal() }
        while !lock.withLock({ stopped }) {
            if let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kib = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
            {
                lock.withLock { peak = max(peak, kib * 1_024) }
            }
            usleep(2_000)
        }
    }

    /// Ends the watch; the peak in bytes, 0 when none was read.
    func stop() -> Int {
        lock.withLock { stopped = true }
        finished.wait()
        return lock.withLock { peak }
    }
}
