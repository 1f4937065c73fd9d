import Foundation
import GRDB
import Jobs

/// The job queue: `BENCH_JOBS` jobs (default 10,000) enqueued in 500-job batches, then claimed
/// and completed one at a time, beside the original one-row-per-commit way (a plain table, one
/// INSERT or UPDATE per autocommit statement, rollback journal, `synchronous=FULL`) measured in
/// the same run on `BENCH_JOBS_PLAIN` jobs (default 500; set it to `BENCH_JOBS` for the same row
/// count, which takes minutes on a slow or shared disk). Defaults keep the rows near 20 s on a
/// busy 2-core machine.
enum JobsBench {
    static func run(directory: String) async throws {
        let count = Int(ProcessInfo.processInfo.environment["BENCH_JOBS"] ?? "") ?? 10_000
        let ids = (0..<count).map { String(format: "b%010d", $0) }
        let queue = try await queueRates(ids, path: directory + "/jobs-bench.sqlite")
        // As with the original design's rows, the fsync-bound baseline runs on fewer rows (its rate is one
        // commit per statement whatever the count), so that the whole benchmark stays short.
        let plainCount = min(count, Int(ProcessInfo.processInfo.environment["BENCH_JOBS_PLAIN"] ?? "") ?? 500)
        let plain = try plainRates(Array(ids[..<plainCount]), path: directory + "/jobs-plain.sqlite")
        func line(_ label: String, _ ours: Double, _ theirs: Double) {
            print(label.padding(toLength: 58, withPad: " ", startingAt: 0)
                + String(format: " %10.0f jobs/s  %7.1f× one-row-per-commit (%.0f jobs/s)", ours, ours / theirs, theirs))
        }
        print("jobs    \(count) jobs, SQLiteJobStore (WAL, BEGIN IMMEDIATE, synchronous=NORMAL); "
            + "one-row-per-commit on \(plainCount) jobs (rollback journal, synchronous=FULL)")
        line("jobs    enqueue, 500-job batches", queue.enqueue, plain.enqueue)
        line("jobs    claim + complete, one job at a time", queue.claim, plain.claim)
        line("jobs    enqueue + claim + complete", queue.total, plain.total)
    }

    struct Rates {
        var enqueue: Double, claim: Double, total: Double
    }

    static func queueRates(_ ids: [String], path: String) async throws -> Rates {
        let store = try SQLiteJobStore(path: path)
        let now = JobClock.now()
        let started = ContinuousClock.now
        for start in stride(from: 0, to: ids.count, by: 500) {
            let batch = ids[start..<min(start + 500, ids.count)].map { JobRequest(.transcribe(.video(id: $0))) }
            _ = try await store.enqueue(batch, now: now)
        }
        let enqueued = ContinuousClock.now
        var done = 0
        while let job = try await store.claim(
            component: JobComponent.transcribeWorker, workerID: "bench", leaseDuration: .seconds(300), now: now + 1)
        {
            _ = try await store.complete(jobID: job.id, attempt: job.attempt, result: nil, now: now + 2)
            done += 1
        }
        let finished = ContinuousClock.now
        try store.close()
        precondition(done == ids.count, "claimed \(done) of \(ids.count) jobs")
        return rates(ids.count, started, enqueued, finished)
    }

    static func plainRates(_ ids: [String], path: String) throws -> Rates {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let db = try DatabaseQueue(path: path, configuration: configuration)
        try db.writeWithoutTransaction { db in
            try db.execute(sql: """
                CREATE TABLE jobs (id TEXT PRIMARY KEY, video_id TEXT NOT NULL, state TEXT NOT NULL,
                    attempt INTEGER NOT NULL, created_at INTEGER NOT NULL);
                CREATE INDEX jobs_state ON jobs(state, created_at);
                """)
        }
        let started = ContinuousClock.now
        try db.writeWithoutTransaction { db in
            for (index, id) in ids.enumerated() {
                try db.execute(
                    sql: "INSERT INTO jobs VALUES (?, ?, 'available', 0, ?)",
                    arguments: [UUID().uuidString.lowercased(), id, index])
            }
        }
        let enqueued = ContinuousClock.now
        try db.writeWithoutTransaction { db in
            while let id = try String.fetchOne(
                db, sql: "SELECT id FROM jobs WHERE state = 'available' ORDER BY created_at LIMIT 1")
            {
                try db.execute(sql: "UPDATE jobs SET state = 'running', attempt = attempt + 1 WHERE id = ?", arguments: [id])
                try db.execute(sql: "UPDATE jobs SET state = 'completed' WHERE id = ?", arguments: [id])
            }
        }
        return rates(ids.count, started, enqueued, ContinuousClock.now)
    }

    static func rates(_ count: Int, _ started: ContinuousClock.Instant, _ enqueued: ContinuousClock.Instant,
                      _ finished: ContinuousClock.Instant) -> Rates {
        Rates(
            enqueue: Double(count) / (enqueued - started).seconds,
            claim: Double(count) / (finished - enqueued).seconds,
            total: Double(count) / (finished - started).seconds)
    }
}
