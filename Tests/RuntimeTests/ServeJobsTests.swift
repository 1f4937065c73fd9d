import Foundation
import Jobs
import Ledger
import Projections
import ProxyGateway
import ProxyLab
import Runtime
import Testing
import TestSupport
import Reconciliation

/// `serve`'s worker pools on the real lab: jobs from the durable queue through the metering proxy
/// and Squid, one event per attempt.
@Suite(.serialized) struct ServeJobsTests {
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func enqueuedJobsCompleteWithTheirEventsInTheLedgerAndTheProjection() async throws {
        try await ServeLab.with(videos: 3) { lab in
            let queue = try SQLiteJobStore(path: lab.jobsDatabase)
            let requests = lab.lab.fixtures.videos.map { JobRequest(.transcribe(.infoJSON(path: $0.infoJSONPath))) }
                + [JobRequest(.channelListing(channel: "@" + lab.lab.fixtures.channels[0].name, limit: 2))]
            let ids = try await queue.enqueue(requests, now: JobClock.now()).map(\.job.id)

            let runtime = try await ServeRuntime.start(options: try lab.options(), settings: { lab.settings() }, logger: ServeLab.logger)
            let jobs = try await ServeLab.running(runtime) {
                try await ServeLab.waitFor(ids, in: runtime.jobs) { $0.allSatisfy(\.isFinished) }
            }

            #expect(jobs.map(\.state) == [.completed, .completed, .completed, .completed])
            #expect(jobs.allSatisfy { $0.attempt == 1 })
            for job in jobs where job.kind == .transcribe {
                let path = try #require(job.result)
                #expect(path.hasPrefix(lab.root + "/transcripts/") && FileManager.default.fileExists(atPath: path))
            }
            let listing = try #require(jobs.last?.result)
            #expect(listing.contains("\"video_ids\""))
            let events = try ServeLab.events(in: lab.ledger)
            #expect(events.count == 4)
            #expect(Set(events.compactMap(\.jobID)) == Set(ids))
            #expect(events.allSatisfy { $0.success && $0.bytesMeasured && $0.attempt == 1 && ($0.responseBytes ?? 0) > 0 })
            let projection = try ProjectionStore(path: lab.database)
            #expect(try projection.requestLogCount() == 4, "the projector's last pass ran before the ledger closed")
            try projection.close()
        }
    }

    /// A listener rule that blocks the caption host for the transcription component: the meter
    /// answers 403, nothing reaches the gateway, and the job is discarded with one zero-byte
    /// `blocked_by_rule` event that names the rule, while another component's job still runs.
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func aBlockRuleRefusesAWorkersRequestBeforeTheGateway() async throws {
        try await ServeLab.with(videos: 1) { lab in
            var settings = lab.settings()
            settings.rules = [TrafficRule(name: "no-captions", components: ["transcribe-worker"], host: "127.0.0.1", action: .block)]
            let current = settings
            let runtime = try await ServeRuntime.start(options: try lab.options(), settings: { current }, logger: ServeLab.logger)
            let job = try await ServeLab.running(runtime) {
                let request = JobRequest(.transcribe(.infoJSON(path: lab.lab.fixtures.videos[0].infoJSONPath)))
                let id = try await runtime.jobs.enqueue(request, now: JobClock.now()).job.id
                return try #require(try await ServeLab.waitFor([id], in: runtime.jobs) { $0.allSatisfy(\.isFinished) }.first)
            }
            #expect(job.state == .discarded && job.attempt == 1, "a blocked request is permanent: no retry")
            let events = try ServeLab.events(in: lab.ledger)
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.errorType == .blockedByRule && !event.success && event.extra["rule"] == .string("no-captions"), "\(event)")
            #expect(event.requestBytes == 0 && event.responseBytes == 0 && event.extra["gateway_status"] == nil)
            let captions = try lab.lab.gateway.accessLogEntries().filter { $0.target?.contains("/captions/") ?? false }
            #expect(captions.isEmpty, "the gateway never saw the caption request")
        }
    }

    /// YouTube answers 429 twice: the job is retried with backoff and completes; each attempt has
    /// its own event.
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func aThrottledJobIsRetriedWithBackoffAndEachAttemptHasItsEvent() async throws {
        try await ServeLab.with(videos: 1) { lab in
            let info = try lab.infoJSON(video: 0, prefix: "/flaky/2/throttled", name: "throttled")
            let runtime = try await ServeRuntime.start(options: try lab.options(), settings: { lab.settings() }, logger: ServeLab.logger)
            let job = try await ServeLab.running(runtime) {
                let id = try await runtime.jobs.enqueue(JobRequest(.transcribe(.infoJSON(path: info))), now: JobClock.now()).job.id
                return try #require(try await ServeLab.waitFor([id], in: runtime.jobs) { $0.allSatisfy(\.isFinished) }.first)
            }
            #expect(job.state == .completed)
            #expect(job.attempt == 3)
            let attempts = try await runtime.jobs.attempts(jobID: job.id)
            #expect(attempts.map(\.outcome) == [.retryScheduled, .retryScheduled, .completed])
            // The lab's backoff is 200 ms, then 400 ms; the origin's `Retry-After: 1` wins.
            #expect(attempts.count == 3 && Self.gaps(attempts).allSatisfy { $0 >= 1_000_000 }, "Retry-After: 1 is honoured")
            let events = try ServeLab.events(in: lab.ledger).filter { $0.jobID == job.id }
            #expect(events.map(\.attempt) == [1, 2, 3])
            #expect(events.map(\.errorType) == [.rateLimited, .rateLimited, nil])
            #expect(events.allSatisfy { ($0.requestBytes ?? 0) > 0 }, "a refused request still costs bytes")
        }
    }

    /// The gateway itself answers 429 twice (Squid's own error page, as Webshare's
    /// `client_connect_high_concurrency`): the attempts are `gateway_throttled`, not blamed on
    /// YouTube, wait for the gateway's `Retry-After`, and the job completes.
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func aGatewayThrottledJobIsRetriedAndCompletes() async throws {
        try await ServeLab.with(videos: 1) { lab in
            let info = try lab.infoJSON(video: 0, prefix: "/gateway-throttle/2/gw", name: "gateway-throttled")
            let runtime = try await ServeRuntime.start(options: try lab.options(), settings: { lab.settings() }, logger: ServeLab.logger)
            let job = try await ServeLab.running(runtime) {
                let id = try await runtime.jobs.enqueue(JobRequest(.transcribe(.infoJSON(path: info))), now: JobClock.now()).job.id
                return try #require(try await ServeLab.waitFor([id], in: runtime.jobs) { $0.allSatisfy(\.isFinished) }.first)
            }
            #expect(job.state == .completed)
            let attempts = try await runtime.jobs.attempts(jobID: job.id)
            #expect(attempts.map(\.outcome) == [.retryScheduled, .retryScheduled, .completed])
            #expect(Self.gaps(attempts).allSatisfy { $0 >= 1_000_000 }, "the gateway's Retry-After: 1 is honoured")
            let events = try ServeLab.events(in: lab.ledger).filter { $0.jobID == job.id }
            #expect(events.map(\.errorType) == [.gatewayThrottled, .gatewayThrottled, nil])
            #expect(events.prefix(2).allSatisfy { $0.extra["gateway_status"] == .integer(429) })
            let squid = try String(contentsOfFile: lab.lab.gateway.accessLogPath, encoding: .utf8)
            #expect(squid.components(separatedBy: "/429 ").count - 1 == 2, "Squid refused exactly two requests")
        }
    }

    /// Microseconds from the end of each attempt to the start of the next.
    static func gaps(_ attempts: [JobAttempt]) -> [Int64] {
        zip(attempts, attempts.dropFirst()).map { $1.startedAt - ($0.endedAt ?? $1.startedAt) }
    }

    /// The gateway refuses the credentials (407): the component pauses after the first failure,
    /// /readyz is 503, and Squid sees no retry storm.
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func aWrongPasswordPausesTheComponentWithoutARetryStorm() async throws {
        try await ServeLab.with(videos: 3) { lab in
            let runtime = try await ServeRuntime.start(
                options: try lab.options(), settings: { lab.settings(password: "wr0ng@pass", maxConcurrency: 1) },
                logger: ServeLab.logger)
            let (jobs, readyz) = try await ServeLab.running(runtime) {
                let requests = lab.lab.fixtures.videos.map { JobRequest(.transcribe(.infoJSON(path: $0.infoJSONPath))) }
                let ids = try await runtime.jobs.enqueue(requests, now: JobClock.now()).map(\.job.id)
                let jobs = try await ServeLab.waitFor(ids, in: runtime.jobs) { jobs in
                    jobs.contains { $0.lastErrorType == "auth_failure" } && !jobs.contains { $0.state == .running }
                }
                try await Task.sleep(for: .seconds(1))  // would-be retries get the chance to show up
                let port = await runtime.listeningPort()
                return (jobs, try Curl.get("http://127.0.0.1:\(port)/readyz"))
            }
            #expect(jobs.allSatisfy { $0.state == .available }, "nothing is discarded for bad credentials")
            #expect(jobs.allSatisfy { $0.attemptsUsed == 0 })
            #expect(readyz.status == 503)
            #expect(readyz.body.contains("transcribe-worker is paused"))
            let events = try ServeLab.events(in: lab.ledger)
            #expect(events.count == 1 && events.first?.errorType == .authFailure)
            let refused = try lab.lab.gateway.accessLogEntries().filter { $0.status == 407 }
            #expect((1...2).contains(refused.count), "one refused attempt, no storm: \(refused.count)")
            let stats = try await runtime.jobs.stats(now: JobClock.now())
            #expect(stats.pausedComponents.map(\.component) == ["transcribe-worker"])
        }
    }
}

extension ServeJobsTests {
    /// With the proxy off, a component's jobs keep the original design's pacing: at least the
    /// minimum interval (2 s) from the end of one yt-dlp run to the start of the next.
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func withTheProxyOffAComponentsRunsArePaced() async throws {
        try await ServeLab.with(videos: 2) { lab in
            var settings = lab.settings()
            settings.enabled = false
            let runtime = try await ServeRuntime.start(options: try lab.options(), settings: { [settings] in settings }, logger: ServeLab.logger)
            let events = try await ServeLab.running(runtime) {
                let requests = lab.lab.fixtures.videos.map { JobRequest(.transcribe(.infoJSON(path: $0.infoJSONPath))) }
                let ids = try await runtime.jobs.enqueue(requests, now: JobClock.now()).map(\.job.id)
                _ = try await ServeLab.waitFor(ids, in: runtime.jobs) { $0.allSatisfy(\.isFinished) }
                return try ServeLab.events(in: lab.ledger)
            }
            #expect(events.count == 2 && events.allSatisfy { $0.success && !$0.proxied })
            let sorted = events.sorted { $0.timestamp < $1.timestamp }
            let firstEnd = sorted[0].timestamp.microseconds + sorted[0].durationMS * 1_000
            #expect(sorted[1].timestamp.microseconds - firstEnd >= 1_900_000, "the second run waited its turn")
        }
    }
}

/// `curl`, as a user would call the HTTP API.
enum Curl {
    struct Reply {
        var status: Int
        var body: String
    }

    static func get(_ url: String, headers: [String] = []) throws -> Reply {
        try run(["-sS", url] + headers.flatMap { ["-H", $0] })
    }

    static func post(_ url: String, json: String, headers: [String] = []) throws -> Reply {
        try run(["-sS", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", json, url] + headers.flatMap { ["-H", $0] })
    }

    private static func run(_ arguments: [String]) throws -> Reply {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-m", "60", "-w", "\n%{http_code}"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var text = String(decoding: data, as: UTF8.self)
        let statusLine = text.split(separator: "\n").last.map(String.init) ?? ""
        text = String(text.dropLast(statusLine.count))
        return Reply(status: Int(statusLine) ?? 0, body: text)
    }
}
