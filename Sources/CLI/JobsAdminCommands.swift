import ArgumentParser
import Foundation
import Jobs

/// A component name given on the command line.
struct ComponentArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("transcribe-worker or api-youtube-service.", valueName: "component"))
    var component: String

    func validate() throws {
        guard JobComponent.all.contains(component) else {
            throw ValidationError("unknown component '\(component)'; use one of \(JobComponent.all.joined(separator: ", "))")
        }
    }
}

struct JobsPause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Stop workers of a component from claiming jobs.",
        discussion: """
            Running jobs go on; no new job is claimed until `jobs resume`. Workers pause a component \
            themselves on an auth_failure (wrong gateway credentials).

            Example:
              proxy-ledger jobs pause transcribe-worker --reason "rotating credentials"
            """
    )

    @OptionGroup var options: JobsCommonOptions
    @OptionGroup var target: ComponentArgument

    @Option(help: "Why, shown by `jobs stats`.")
    var reason: String = "paused by an operator"

    func run() async throws {
        let store = try options.database.openForWriting()
        defer { try? store.close() }
        try await store.pause(component: target.component, reason: reason, now: JobClock.now())
        switch options.format {
        case .json: try printJSON(["paused": target.component])
        case .text: print("paused \(target.component): \(reason)")
        }
    }
}

struct JobsResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Let workers of a paused component claim jobs again.",
        discussion: """
            After an auth_failure pause, fix PROXY_USERNAME / PROXY_PASSWORD first; the job that \
            failed is available again with its attempt not charged.

            Example:
              proxy-ledger jobs resume transcribe-worker
            """
    )

    @OptionGroup var options: JobsCommonOptions
    @OptionGroup var target: ComponentArgument

    struct Output: Encodable {
        var component: String
        var wasPaused: Bool
    }

    func run() async throws {
        let store = try options.database.openForWriting()
        defer { try? store.close() }
        let wasPaused = try await store.resume(component: target.component)
        switch options.format {
        case .json: try printJSON(Output(component: target.component, wasPaused: wasPaused))
        case .text: print(wasPaused ? "resumed \(target.component)" : "\(target.component) was not paused")
        }
    }
}

struct JobsStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Counts by state, queue depth, the oldest waiting job's age and paused components.",
        discussion: """
            Queue depth is the number of jobs claimable now: available plus retryable whose time has come.

            Example:
              proxy-ledger jobs stats --format json
            """
    )

    @OptionGroup var options: JobsCommonOptions

    func run() async throws {
        let store = try options.database.openForReading()
        let stats = try await store.stats(now: JobClock.now())
        try store.close()
        switch options.format {
        case .json: try printJSON(StatsOutput(stats))
        case .text: print(JobsText.render(stats))
        }
    }
}

/// `jobs stats --format json`: the statistics with RFC 3339 times.
struct StatsOutput: Encodable {
    var countsByState: [String: Int]
    var queueDepth: Int
    var oldestAvailableAgeSeconds: Double?
    var pausedComponents: [Paused]

    struct Paused: Encodable {
        var component: String, reason: String, pausedAt: String
    }

    init(_ stats: JobStats) {
        countsByState = stats.countsByState
        queueDepth = stats.queueDepth
        oldestAvailableAgeSeconds = stats.oldestAvailableAgeSeconds
        pausedComponents = stats.pausedComponents.map {
            Paused(component: $0.component, reason: $0.reason, pausedAt: rfc3339($0.pausedAt))
        }
    }
}

/// Plain-text renderings for `jobs show` and `jobs stats`.
enum JobsText {
    static func render(_ stats: JobStats) -> String {
        var lines = ["Jobs"]
        for state in JobState.allCases {
            lines.append("  " + column(state.rawValue + ":", 12) + "\(stats.countsByState[state.rawValue] ?? 0)")
        }
        lines.append("  queue depth: \(stats.queueDepth) claimable now")
        lines.append("  oldest available: " + (stats.oldestAvailableAgeSeconds.map { String(format: "%.0f s ago", $0) } ?? "none"))
        for paused in stats.pausedComponents {
            lines.append("  paused: \(paused.component) since \(rfc3339(paused.pausedAt)) (\(paused.reason)); `proxy-ledger jobs resume \(paused.component)`")
        }
        return lines.joined(separator: "\n")
    }

    static func render(_ output: JobsShow.Output) -> String {
        let job = output.job
        var lines = [
            "job \(job.id)",
            "  kind:      \(job.kind) (\(job.component))",
            "  target:    \(job.target)",
            "  state:     \(job.state)" + (job.leaseOwner.map { " on \($0)" } ?? ""),
            "  attempts:  \(job.attemptsUsed) of \(job.maxAttempts) charged, latest attempt number \(job.attempt)",
            "  due:       \(job.dueAt)",
            "  created:   \(job.createdAt), updated \(job.updatedAt)" + (job.finishedAt.map { ", finished \($0)" } ?? ""),
        ]
        if let error = job.lastErrorType { lines.append("  last error: \(error)" + (job.lastHttpStatus.map { " (HTTP \($0))" } ?? "")) }
        if let result = job.result { lines.append("  result:    \(result)") }
        lines.append(output.attempts.isEmpty ? "  no attempts yet" : "  attempt  worker            started                      outcome")
        for attempt in output.attempts {
            var line = "  " + column("#\(attempt.attempt)", 9) + column(attempt.workerId, 18) + column(attempt.startedAt, 29) + attempt.outcome
            if let error = attempt.errorType { line += " \(error)" + (attempt.httpStatus.map { " HTTP \($0)" } ?? "") }
            if let usage = attempt.usage {
                line += " \(usage.requestBytes) B up \(usage.responseBytes) B down"
                if let cost = usage.cost, let currency = usage.currency { line += " \(cost) \(currency)" }
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
