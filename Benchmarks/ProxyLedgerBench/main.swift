import Foundation
import Ledger
import Projections

// `make bench`: ledger append, rebuild and compression, each beside the original design's way of recording
// (one SQLite INSERT and commit per request) measured in the same run. Targets: docs/benchmarks.md.

let count = Int(ProcessInfo.processInfo.environment["BENCH_EVENTS"] ?? "") ?? 300_000
let root = FileManager.default.temporaryDirectory.appendingPathComponent("proxy-ledger-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: root) }

print("proxy-ledger bench: \(count) events, \(ProcessInfo.processInfo.activeProcessorCount) cores")
/// `BENCH_ONLY=metering` runs only the metering proxy rows (MeteringBench.swift, at the end).
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "metering" { try await MeteringBench.run(); exit(0) }
/// `BENCH_ONLY=listener` runs only the shared metering listener rows (SharedProxyBench.swift).
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "listener" {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("proxy-ledger-bench-\(getpid())").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try await SharedProxyBench.run(directory: directory)
    exit(0)
}
/// `BENCH_ONLY=jobs` runs only the job queue rows (JobsBench.swift).
/// `BENCH_ONLY=workers` runs only the worker concurrency row (WorkerConcurrencyBench.swift).
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "workers" {
    try await WorkerConcurrencyBench.run(directory: root)
    try? FileManager.default.removeItem(atPath: root)
    exit(0)
}
/// `BENCH_ONLY=reconcile` runs only the reconcile memory row (ReconcileBench.swift).
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "reconcile" {
    try ReconcileBench.run(directory: root)
    try? FileManager.default.removeItem(atPath: root)
    exit(0)
}
/// `BENCH_ONLY=report` runs only the monthly report row (ReportBench.swift).
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "report" {
    try ReportBench.run(directory: root)
    try? FileManager.default.removeItem(atPath: root)
    exit(0)
}
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "jobs" {
    try await JobsBench.run(directory: root)
    try? FileManager.default.removeItem(atPath: root)
    exit(0)
}
let stream = try ReferenceStream.load(count: count)
let events = stream.events
print("events: \(stream.source), \(String(format: "%.0f", Double(stream.jsonl.count) / Double(max(1, events.count)))) B of JSON per event")

let originalCount = min(3_000, events.count)
let original = try OriginalBaseline.eventsPerSecond(events[..<originalCount], directory: root, wal: false)
let originalWAL = try OriginalBaseline.eventsPerSecond(events[..<originalCount], directory: root, wal: true)

func row(_ label: String, _ rate: Double, target: String) {
    let padded = label.padding(toLength: 58, withPad: " ", startingAt: 0)
    print(padded + String(format: " %10.0f events/s  %7.1f× original  %6.1f× original-WAL   (target %@)",
        rate, rate / original, rate / originalWAL, target as NSString))
}
print("original      INSERT + commit per request, synchronous=FULL".padding(toLength: 58, withPad: " ", startingAt: 0)
    + String(format: " %10.0f events/s  (rollback journal, as the original design ran)", original))
print("original-WAL  the same in WAL mode".padding(toLength: 58, withPad: " ", startingAt: 0)
    + String(format: " %10.0f events/s", originalWAL))

/// Appends `events` from `producers` tasks, `batch` events per append call. The batches are cut
/// before the clock starts, as zstd alone is given payloads already encoded.
func appendRate(producers: Int, batch: Int, fsync: FsyncPolicy, events: ArraySlice<ProxyRequestEvent>, name: String) async throws -> (Double, String) {
    let directory = root + "/" + name
    let writer = try LedgerWriter.open(LedgerConfiguration(directory: directory, fsyncPolicy: fsync))
    let batches = stride(from: events.startIndex, to: events.endIndex, by: batch).map { Array(events[$0..<min($0 + batch, events.endIndex)]) }
    let started = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for producer in 0..<producers {
            group.addTask {
                for index in stride(from: producer, to: batches.count, by: producers) {
                    _ = try await writer.append(batches[index])
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - started  // every event acknowledged; closing is not timed
    try await writer.close()
    return (Double(events.count) / elapsed.seconds, directory)
}

let (oneInterval, mainLedger) = try await appendRate(producers: 1, batch: 1_000, fsync: .interval(milliseconds: 100), events: events[...], name: "one-interval")
row("append  1 producer, 1,000-event batches, fsync interval", oneInterval, target: "≥ 1,000,000/s")
let (twoInterval, _) = try await appendRate(producers: 2, batch: 1_000, fsync: .interval(milliseconds: 100), events: events[...], name: "two-interval")
row("append  2 producers, 1,000-event batches, fsync interval", twoInterval, target: "≥ 1,000,000/s")
let (oneNone, _) = try await appendRate(producers: 1, batch: 1_000, fsync: .none, events: events[...], name: "one-none")
row("append  1 producer, 1,000-event batches, fsync none", oneNone, target: "—")
let small = events[..<min(100_000, events.count)]
/// `BENCH_ONLY=rebuild` runs the 1,000-event append rows, the rebuild, the CLI append and the
/// compression rows, and stops there (for profiling the rebuild and the CLI);
/// `BENCH_ONLY=append` runs only the 1,000-event append rows and zstd alone.
let only = ProcessInfo.processInfo.environment["BENCH_ONLY"]
/// Ends a partial run: `exit` skips the top-level `defer`, so the scratch folder goes first.
func stopHere() -> Never {
    try? FileManager.default.removeItem(atPath: root)
    exit(0)
}
if only != "rebuild" && only != "append" {
let (oneAlways, _) = try await appendRate(producers: 1, batch: 1, fsync: .always, events: events[..<min(3_000, events.count)], name: "one-always")
row("append  1 producer, 1 event per call, fsync always", oneAlways, target: "—")
let (manyInterval, _) = try await appendRate(producers: 256, batch: 1, fsync: .interval(milliseconds: 100), events: small, name: "many-interval")
row("append  256 producers, 1 event per call, fsync interval", manyInterval, target: "—")
let (manyAlways, manyAlwaysLedger) = try await appendRate(producers: 256, batch: 1, fsync: .always, events: small, name: "many-always")
row("append  256 producers, 1 event per call, fsync always", manyAlways, target: "≥ 100× original")
let groups = try LedgerVerifier.verify(directory: manyAlwaysLedger)
print(String(format: "        group commit: %.1f events per frame (one fsync each)", Double(groups.events) / Double(groups.frames)))
}

let zstdOnly = try EncodingBaseline.zstdOnly(events, batchSize: 1_000)
print("zstd      alone, the same 1,000-event payloads at level 3".padding(toLength: 58, withPad: " ", startingAt: 0)
    + String(format: " %10.0f events/s  in-process append = %.0f %% of it   (target ≥ 60 %%)", zstdOnly.eventsPerSecond,
        100 * oneInterval / zstdOnly.eventsPerSecond))
if only == "append" { stopHere() }

// The machine's speed swings from run to run (shared cores), so each figure and its reference
// are measured in alternating rounds and compared by their medians.
let rounds = 5
var rebuildRates: [Double] = [], rawLoadRates: [Double] = []
var rebuilt = ReplayResult()
for _ in 0..<rounds {
    let rebuildStarted = ContinuousClock.now
    rebuilt = try Projector.rebuild(ledger: try LedgerReader(directory: mainLedger), databasePath: root + "/rebuild.sqlite")
    rebuildRates.append(Double(rebuilt.eventsApplied) / (ContinuousClock.now - rebuildStarted).seconds)
    try? FileManager.default.removeItem(atPath: root + "/raw-load.sqlite")
    rawLoadRates.append(try LoadBaseline.rawLoad(rebuilt: root + "/rebuild.sqlite", into: root + "/raw-load.sqlite"))
}
let rebuildRate = MeteringBench.median(rebuildRates), rawLoad = MeteringBench.median(rawLoadRates)
row("rebuild proxy_request_logs + indexes + rollups", rebuildRate, target: "≥ 90 % of raw sqlite3")
print("sqlite3   C API load of the rebuilt tables and indexes".padding(toLength: 58, withPad: " ", startingAt: 0)
    + String(format: " %10.0f rows/s    rebuild = %.0f %% of it   (target ≥ 90 %%)", rawLoad, 100 * rebuildRate / rawLoad))
ReferenceRows.printRounds(("rebuild", rebuildRates), ("raw load", rawLoadRates))
let projectionBytes = (try? FileManager.default.attributesOfItem(atPath: root + "/rebuild.sqlite")[.size] as? Int) ?? 0
print(String(format: "projection: %.0f B/event (SQLite file after rebuild; JSONL %.0f B/event)   (target ≤ 250 B/event)",
    Double(projectionBytes) / Double(max(1, rebuilt.eventsApplied)), Double(stream.jsonl.count) / Double(events.count)))

let jsonlPath = root + "/reference.jsonl"
try Data(stream.jsonl).write(to: URL(fileURLWithPath: jsonlPath))
ReferenceRows.printCLIAppend(file: jsonlPath, events: events.count, bytes: stream.jsonl.count, directory: root, rounds: rounds)

let verification = try LedgerVerifier.verify(directory: mainLedger)
let ledgerBytes = Double(verification.bytes) / Double(verification.events)
let jsonBytes = Double(stream.jsonl.count) / Double(events.count)
print(String(format: "compression: %.1f B/event on disk (JSONL %.1f B/event, ratio %.2f×)   (target ≤ 72 B/event)",
    ledgerBytes, jsonBytes, jsonBytes / ledgerBytes))
if only == "rebuild" { stopHere() }

// The monthly report (10 M events) from the rollups beside the same report from proxy_request_logs.
try ReportBench.run(directory: root)

// The job queue beside one INSERT or UPDATE per commit.
try await JobsBench.run(directory: root)

// The worker pools of `serve`: 20 jobs against a slow origin, 20 at once beside one at a time.
try await WorkerConcurrencyBench.run(directory: root)

// reconcile on a 1 GiB Squid log: peak memory beside the file size, lines/s beside wc -l.
try ReconcileBench.run(directory: root)

// The metering proxy: 1 GiB through a CONNECT tunnel beside a direct one, and the latency it adds.
try await MeteringBench.run()

// The shared metering listener: 200 clients with keep-alive requests and tunnels, beside direct.
try await SharedProxyBench.run(directory: root)
