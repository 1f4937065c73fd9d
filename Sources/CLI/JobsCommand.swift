import ArgumentParser
import Foundation
import Jobs

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Inspect and manage the durable job queue.",
        discussion: """
            States: available → running → completed; a failed attempt goes to retryable (claimable \
            again after a backoff) or discarded; cancelled is set by `jobs cancel`. An auth_failure \
            pauses claims for its component until `jobs resume`. See docs/jobs.md.

            Exit codes: 0 success; 1 an unknown job id or a job in the wrong state; 64 bad options; \
            66 the jobs database does not exist (list, show, stats).

            Examples:
              proxy-ledger jobs stats
              proxy-ledger jobs list --state discarded --kind transcribe
              proxy-ledger jobs show 3f2b…
              proxy-ledger jobs retry --state discarded
              proxy-ledger jobs resume transcribe-worker
            """,
        subcommands: [
            JobsList.self, JobsShow.self, JobsRetry.self, JobsCancel.self, JobsPause.self, JobsResume.self, JobsStats.self,
        ]
    )
}

/// `--jobs-db` and `--format`, shared by every `jobs` subcommand.
struct JobsCommonOptions: ParsableArguments {
    @OptionGroup var database: JobsDatabaseOptions

    @Option(help: "Output format.")
    var format: OutputFormat = .text
}

struct JobsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List jobs in enqueue order.",
        discussion: """
            Columns: id, kind, state, attempt (charged/max), next due time (running: lease expiry), target.

            Example:
              proxy-ledger jobs list --state retryable --limit 20 --format json
            """
    )

    @OptionGroup var options: JobsCommonOptions

    @Option(help: "Only jobs in this state.")
    var state: JobState?

    @Option(help: "Only jobs of this kind.")
    var kind: JobKind?

    @Option(help: "List at most this many jobs.")
    var limit: Int = 100

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1, not \(limit)") }
    }

    func run() async throws {
        let store = try options.database.openForReading()
        let jobs = try await store.list(state: state, kind: kind, limit: limit)
        try store.close()
        switch options.format {
        case .json: try printJSON(jobs.map(JobOutput.init))
        case .text:
            for job in jobs {
                print(column(job.id, 37) + column(job.kind.rawValue, 15) + column(job.state.rawValue, 10)
                    + column("\(job.attemptsUsed)/\(job.maxAttempts)", 6) + column(rfc3339(job.dueAt), 28) + job.target)
            }
            if jobs.isEmpty { print("no jobs") }
        }
    }
}

struct JobsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one job and its attempts.",
        discussion: """
            Every claim is an attempt with its worker, start and end times, outcome, error type and \
            HTTP status; its number is the `attempt` of the ledger events it produced. Each \
            attempt's bytes come from those events in the projection (--db), and with --rate-card \
            its cost, in exact decimals at the card's first paid tier (a tier reached later in a \
            billing period would price the same bytes lower: `report` gives the period's cost).

            Example:
              proxy-ledger jobs show 3f2b9c1e-8d4a-4f6e-9b0a-2c1d3e4f5a6b --format json
            """
    )

    @OptionGroup var options: JobsCommonOptions

    @Argument(help: ArgumentHelp("The job id.", valueName: "id"))
    var id: String

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: ArgumentHelp("A rate card to price each attempt's bytes with (at its first paid tier).", valueName: "file"))
    var rateCard: String?

    struct Output: Encodable {
        var job: JobOutput
        var attempts: [AttemptOutput]
    }

    func run() async throws {
        let store = try options.database.openForReading()
        guard let job = try await store.job(id: id) else {
            throw CommandFailure("no job \(id) in \(options.database.jobsDB); `proxy-ledger jobs list` shows the job ids")
        }
        let attempts = try await store.attempts(jobID: id)
        try store.close()
        let usage = try ProjectionAttemptUsage(databasePath: databaseOptions.db, rateCard: rateCard).usage(jobID: id)
        let output = Output(job: JobOutput(job), attempts: attempts.map { AttemptOutput($0, usage: usage[$0.attempt]) })
        switch options.format {
        case .json: try printJSON(output)
        case .text: print(JobsText.render(output))
        }
    }
}

struct JobsRetry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Make a discarded or cancelled job available again, with its attempts reset.",
        discussion: """
            Give one job id, or --state discarded (or cancelled) for every job in that state; jobs \
            whose target has been enqueued again since are skipped.

            Examples:
              proxy-ledger jobs retry 3f2b9c1e-8d4a-4f6e-9b0a-2c1d3e4f5a6b
              proxy-ledger jobs retry --state discarded
            """
    )

    @OptionGroup var options: JobsCommonOptions

    @Argument(help: ArgumentHelp("The job id.", valueName: "id"))
    var id: String?

    @Option(help: "Retry every job in this state (discarded or cancelled).")
    var state: JobState?

    func validate() throws {
        guard (id == nil) != (state == nil) else { throw ValidationError("give either a job id or --state, not both") }
        if let state, state != .discarded, state != .cancelled {
            throw ValidationError("--state must be discarded or cancelled, not \(state.rawValue)")
        }
    }

    func run() async throws {
        let store = try options.database.openForWriting()
        defer { try? store.close() }
        if let state {
            let count = try await store.retryAll(state: state, now: JobClock.now())
            switch options.format {
            case .json: try printJSON(["retried": count])
            case .text: print("retried \(count) \(state.rawValue) jobs")
            }
        } else if let id {
            let job = try await withKnownJob { try await store.retry(jobID: id, now: JobClock.now()) }
            try printJob(job, verb: "retried", format: options.format)
        }
    }
}

struct JobsCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel an available, retryable or running job.",
        discussion: """
            A running job's worker finds out when it next renews its lease or reports its result, \
            and drops the result.

            Example:
              proxy-ledger jobs cancel 3f2b9c1e-8d4a-4f6e-9b0a-2c1d3e4f5a6b
            """
    )

    @OptionGroup var options: JobsCommonOptions

    @Argument(help: ArgumentHelp("The job id.", valueName: "id"))
    var id: String

    func run() async throws {
        let store = try options.database.openForWriting()
        defer { try? store.close() }
        let job = try await withKnownJob { try await store.cancel(jobID: id, now: JobClock.now()) }
        try printJob(job, verb: "cancelled", format: options.format)
    }
}

/// Prints `<verb> <id> <kind> <target>: <state>` or the job as JSON.
func printJob(_ job: Job, verb: String, format: OutputFormat) throws {
    switch format {
    case .json: try printJSON(JobOutput(job))
    case .text: print("\(verb) \(job.id) \(job.kind.rawValue) \(job.target): \(job.state.rawValue)")
    }
}
