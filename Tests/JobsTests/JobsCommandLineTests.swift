import Foundation
import Testing
import TestSupport
import Ledger

@testable import Jobs

/// `proxy-ledger enqueue` and `jobs` as a user runs them.
@Suite struct JobsCommandLineTests {
    func run(_ arguments: [String], stdin: String = "") throws -> (status: Int32, stdout: String, stderr: String) {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        return try BuiltExecutable.run(arguments, stdin: Array(stdin.utf8))
    }

    @Test func enqueueIsIdempotentAndListShowStatsReadTheQueue() throws {
        let scratch = try TemporaryDirectory("jobs-cli")
        let db = scratch.file("state/jobs.sqlite")  // the folder is created
        let first = try run(["enqueue", "transcribe", videoA, "https://www.youtube.com/watch?v=\(videoB)&t=3", "--jobs-db", db])
        #expect(first.status == 0, "\(first.stderr)")
        let lines = first.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.count == 2 && lines.allSatisfy { $0.count == 4 && $0[1] == "transcribe" && $0[3] == "new" })
        #expect(lines.map { $0[2] } == [videoA, videoB])

        let again = try run(["enqueue", "transcribe", "https://youtu.be/\(videoA)", "--jobs-db", db, "--format", "json"])
        let decoded = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
        let jobs = try #require(decoded?["jobs"] as? [[String: Any]])
        #expect(jobs.count == 1 && jobs[0]["new"] as? Bool == false && jobs[0]["id"] as? String == lines[0][0])

        let listed = try run(["jobs", "list", "--jobs-db", db, "--state", "available"])
        #expect(listed.status == 0 && listed.stdout.split(separator: "\n").count == 2)
        let shown = try run(["jobs", "show", lines[1][0], "--jobs-db", db])
        #expect(shown.status == 0 && shown.stdout.contains("target:    \(videoB)") && shown.stdout.contains("no attempts yet"))
        let stats = try run(["jobs", "stats", "--jobs-db", db, "--format", "json"])
        let statsObject = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        #expect(statsObject?["queue_depth"] as? Int == 2)
    }

    @Test func showListsAttemptsRecordedByAWorker() async throws {
        let scratch = try TemporaryDirectory("jobs-cli-show")
        let db = scratch.file("jobs.sqlite")
        let store = try SQLiteJobStore(path: db)
        let job = try await store.enqueue(JobRequest(.transcribe(.video(id: videoA))), now: t0).job
        let claimed = try #require(try await store.claim(
            component: JobComponent.transcribeWorker, workerID: "worker-7", leaseDuration: .seconds(60), now: t0))
        _ = try await store.fail(jobID: job.id, attempt: claimed.attempt, errorType: .httpError, httpStatus: 503, retryAfter: nil, now: t0)
        try store.close()
        let shown = try run(["jobs", "show", job.id, "--jobs-db", db])
        #expect(shown.stdout.contains("worker-7") && shown.stdout.contains("retry_scheduled http_error HTTP 503"))
        let json = try run(["jobs", "show", job.id, "--jobs-db", db, "--format", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let attempts = try #require(object?["attempts"] as? [[String: Any]])
        #expect(attempts.count == 1 && attempts[0]["http_status"] as? Int == 503 && attempts[0]["worker_id"] as? String == "worker-7")
    }

    @Test func badInputsExitWithTheDocumentedStatuses() throws {
        let scratch = try TemporaryDirectory("jobs-cli-bad")
        let db = scratch.file("jobs.sqlite")
        let badArgument = try run(["enqueue", "metadata", videoA, "not-an-id", "--jobs-db", db])
        #expect(badArgument.status == 64 && badArgument.stderr.contains("argument 2: 'not-an-id'"))
        let badLine = try run(
            ["enqueue", "transcribe", "--file", "-", "--jobs-db", db], stdin: "# ids\n\(videoA)\n\nhttps://example.com/x\n")
        #expect(badLine.status == 65 && badLine.stderr.contains("line 4") && badLine.stderr.contains("nothing was enqueued"))
        let missing = try run(["jobs", "list", "--jobs-db", db])
        #expect(missing.status == 66 && missing.stderr.contains(db))

        let good = try run(["enqueue", "transcribe", "--file", "-", "--jobs-db", db], stdin: "# ids\n\(videoA)\n\n  \(videoB)  \n")
        #expect(good.status == 0 && good.stdout.split(separator: "\n").count == 2)
        let unknown = try run(["jobs", "show", "0000", "--jobs-db", db])
        #expect(unknown.status == 1 && unknown.stderr.split(separator: "\n").count == 1 && unknown.stderr.contains("no job 0000"))
        let cancelUnknown = try run(["jobs", "cancel", "0000", "--jobs-db", db])
        #expect(cancelUnknown.status == 1)
        let badComponent = try run(["jobs", "pause", "nobody", "--jobs-db", db])
        #expect(badComponent.status == 64)
    }

    @Test func processesEnqueueingAtOnceOnANewFileNeitherLockNorDuplicate() async throws {
        let scratch = try TemporaryDirectory("jobs-cli-procs")
        let db = scratch.file("jobs.sqlite")
        let shared = (0..<40).map { String(format: "shared%05d", $0) }
        let results = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
            for process in 0..<4 {
                let own = (0..<40).map { String(format: "p%dvideo%04d", process, $0) }
                let input = (own + shared).joined(separator: "\n")
                group.addTask { let r = try self.run(["enqueue", "transcribe", "--file", "-", "--jobs-db", db], stdin: input); return (r.status, r.stderr) }
            }
            return try await group.reduce(into: [(Int32, String)]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.0 == 0 }, "\(results.map(\.1))")
        let stats = try run(["jobs", "stats", "--jobs-db", db, "--format", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        #expect(object?["queue_depth"] as? Int == 4 * 40 + 40)
    }

    @Test func pauseCancelAndRetryFromTheCommandLine() throws {
        let scratch = try TemporaryDirectory("jobs-cli-admin")
        let db = scratch.file("jobs.sqlite")
        let enqueued = try run(["enqueue", "channel", "@veritasium", "--limit", "5", "--jobs-db", db])
        let id = try #require(enqueued.stdout.split(separator: " ").first.map(String.init))
        #expect(try run(["jobs", "cancel", id, "--jobs-db", db]).stdout.hasSuffix(": cancelled\n"))
        #expect(try run(["jobs", "retry", "--state", "cancelled", "--jobs-db", db]).stdout == "retried 1 cancelled jobs\n")
        #expect(try run(["jobs", "pause", "api-youtube-service", "--jobs-db", db]).status == 0)
        #expect(try run(["jobs", "stats", "--jobs-db", db]).stdout.contains("paused: api-youtube-service"))
        #expect(try run(["jobs", "resume", "api-youtube-service", "--jobs-db", db]).stdout == "resumed api-youtube-service\n")
        let both = try run(["jobs", "retry", id, "--state", "discarded", "--jobs-db", db])
        #expect(both.status == 64)
    }
}
