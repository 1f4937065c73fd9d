import Foundation
import Jobs
import Ledger
import ProxyLab
import Runtime
import Testing
import TestSupport
import Reconciliation

/// Shutdown and crash: no operation whose bytes crossed the gateway goes without an event, and no
/// job is lost.
@Suite(.serialized) struct ServeShutdownTests {
    /// SIGTERM to `proxy-ledger serve` with three jobs in flight, two finishing in about 2 s and one
    /// needing 120 s, and a 20 s grace (room for yt-dlp's start-up on a loaded 2-core machine).
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func sigtermDrainsFinishesTwoJobsAndInterruptsTheThird() async throws {
        try await ServeLab.with(videos: 3) { lab in
            let fast = try (0..<2).map { try lab.infoJSON(video: $0, prefix: "/delay/2000", name: "fast\($0)") }
            let slow = try lab.infoJSON(video: 2, prefix: "/delay/120000", name: "slow")
            let queue = try SQLiteJobStore(path: lab.jobsDatabase)
            let ids = try await queue.enqueue((fast + [slow]).map { JobRequest(.transcribe(.infoJSON(path: $0))) }, now: JobClock.now())
                .map(\.job.id)
            let serve = try ServeProcess.start(lab: lab, arguments: ["--shutdown-grace", "20"], environment: lab.environment(maxConcurrency: 3))
            _ = try await ServeLab.waitFor(ids, in: queue, timeout: .seconds(60)) { $0.allSatisfy { $0.state == .running } }
            try await Task.sleep(for: .milliseconds(500))  // yt-dlp is connected through the meter
            kill(serve.processIdentifier, SIGTERM)
            serve.waitUntilExit()
            #expect(serve.terminationReason == .exit && serve.terminationStatus == 0, "serve exits 0 after a clean drain")

            let jobs = try await ids.asyncMap { try #require(try await queue.job(id: $0)) }
            #expect(jobs.map(\.state) == [.completed, .completed, .available])
            #expect(jobs[2].attemptsUsed == 0, "the interrupted attempt is not charged")
            let events = try ServeLab.events(in: lab.ledger)
            #expect(events.count == 3)
            let interrupted = try #require(events.first { $0.jobID == ids[2] })
            #expect(interrupted.errorType == .interrupted && !interrupted.success)
            #expect((interrupted.requestBytes ?? 0) > 0, "the interrupted event carries the bytes sent so far")
            #expect(events.filter(\.success).compactMap(\.jobID).sorted() == Array(ids[0..<2]).sorted())
        }
    }

    /// Twenty graceful shutdowns with a job that outlives the grace: every run records every
    /// operation, and the interrupted job goes back to available each time.
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func twentyShutdownsLoseNoEvent() async throws {
        try await ServeLab.with(videos: 3) { lab in
            let fast = try (0..<2).map { try lab.infoJSON(video: $0, prefix: "/delay/200", name: "fast\($0)") }
            let slow = try lab.infoJSON(video: 2, prefix: "/delay/60000", name: "slow")
            var options = try lab.options()
            options.shutdownGrace = .milliseconds(1500)
            for trial in 1...20 {
                options.ledgerDirectory = lab.root + "/ledger-\(trial)"
                options.jobsDatabasePath = lab.root + "/jobs-\(trial).sqlite"
                options.databasePath = lab.root + "/projection-\(trial).sqlite"
                let runtime = try await ServeRuntime.start(options: options, settings: { lab.settings() }, logger: ServeLab.logger)
                let ids = try await runtime.jobs.enqueue(
                    (fast + [slow]).map { JobRequest(.transcribe(.infoJSON(path: $0))) }, now: JobClock.now()
                ).map(\.job.id)
                try await ServeLab.running(runtime) {
                    _ = try await ServeLab.waitFor(ids, in: runtime.jobs, timeout: .seconds(60)) { jobs in
                        jobs.filter { $0.state == .completed }.count == 2 && jobs[2].state == .running
                    }
                    try await Task.sleep(for: .milliseconds(300))
                }
                let slowJob = try #require(try await runtime.jobs.job(id: ids[2]))
                #expect(slowJob.state == .available && slowJob.attemptsUsed == 0, "trial \(trial)")
                let events = try ServeLab.events(in: options.ledgerDirectory)
                #expect(events.count == 3, "trial \(trial): \(events.map { $0.errorType?.rawValue ?? "ok" })")
                #expect(events.filter { $0.errorType == .interrupted }.count == 1, "trial \(trial)")
            }
        }
    }

    /// `kill -9` of serve in the middle of a job: after a restart the job runs again with a higher
    /// attempt number, and the dead attempt has an event too.
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func aKilledServeLeavesNoJobAndNoOperationBehind() async throws {
        try await ServeLab.with(videos: 1) { lab in
            let info = try lab.infoJSON(video: 0, prefix: "/delay/60000", name: "victim")
            let queue = try SQLiteJobStore(path: lab.jobsDatabase)
            let id = try await queue.enqueue(JobRequest(.transcribe(.infoJSON(path: info))), now: JobClock.now()).job.id
            let first = try ServeProcess.start(lab: lab, arguments: ["--lease", "2"], environment: lab.environment())
            _ = try await ServeLab.waitFor([id], in: queue, timeout: .seconds(60)) { $0.first?.state == .running }
            try await Task.sleep(for: .milliseconds(500))
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            // The video is fast now; the job's target (the info JSON path) is the same.
            _ = try lab.infoJSON(video: 0, prefix: "", name: "victim")

            let second = try ServeProcess.start(lab: lab, arguments: ["--lease", "2"], environment: lab.environment())
            let job = try #require(try await ServeLab.waitFor([id], in: queue, timeout: .seconds(60)) { $0.first?.isFinished == true }.first)
            kill(second.processIdentifier, SIGTERM)
            second.waitUntilExit()
            #expect(second.terminationStatus == 0)

            #expect(job.state == .completed)
            #expect(job.attempt == 2)
            let events = try ServeLab.events(in: lab.ledger).filter { $0.jobID == id }
            #expect(events.map(\.attempt) == [1, 2])
            #expect(events.first?.errorType == .interrupted && events.first?.bytesMeasured == false)
            #expect(events.last?.success == true)
            let caption = "/captions/\(lab.lab.fixtures.videos[0].id).en.json3"
            let logged = try lab.lab.gateway.accessLogEntries().filter { $0.target?.hasSuffix(caption) == true }
            #expect(logged.count <= events.count, "every operation Squid logged has an event: \(logged.count) logged")
        }
    }
}

/// A `proxy-ledger serve` child process on the lab.
enum ServeProcess {
    static func start(lab: ServeLab, arguments: [String], environment: [String: String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltExecutable.proxyLedger)
        process.arguments = [
            "serve", "--listen", "127.0.0.1:0", "--ledger", lab.ledger, "--db", lab.database, "--jobs-db", lab.jobsDatabase,
            "--output", lab.root + "/transcripts",
        ] + arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PROXY_") || $0.key == "PROXY_LEDGER_YTDLP" }
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        let log = lab.root + "/serve-\(UUID().uuidString.prefix(6)).log"
        _ = FileManager.default.createFile(atPath: log, contents: Data())
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        return process
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
