public import ArgumentParser
import Foundation
import Jobs
import Ledger
import Projections
import Reporting

/// The jobs database option shared by `enqueue` and `jobs`.
struct JobsDatabaseOptions: ParsableArguments {
    @Option(name: .customLong("jobs-db"), help: ArgumentHelp("The SQLite jobs database.", valueName: "file"))
    var jobsDB: String = SQLiteJobStore.defaultPath

    /// Opens the store for a command that writes, creating the parent folder.
    func openForWriting() throws -> SQLiteJobStore {
        try createParentDirectory(of: jobsDB)
        return try SQLiteJobStore(path: jobsDB)
    }

    /// Opens the store for a command that only reads; a missing file is exit 66.
    func openForReading() throws -> SQLiteJobStore {
        guard FileManager.default.fileExists(atPath: jobsDB) else {
            printError("error: no jobs database at \(jobsDB); enqueue a job first (`proxy-ledger enqueue`) or pass --jobs-db")
            throw ExitCode(66)
        }
        return try SQLiteJobStore(path: jobsDB)
    }
}

extension JobState: ExpressibleByArgument {}
extension JobKind: ExpressibleByArgument {}

/// A job as the CLI prints it (see ``JobDocument``).
typealias JobOutput = JobDocument

/// Bytes and cost of one attempt, from its events in the projection.
struct AttemptUsageOutput: Encodable {
    var events: Int
    var requestBytes: Int64
    var responseBytes: Int64
    var estimatedBytes: Int64
    /// Exact decimal text in the rate card's currency, at its first paid tier's unit price.
    var cost: String?
    var currency: String?
}

/// Each attempt's usage from the projection's `proxy_request_logs` (matched on the events'
/// `job_id` and `attempt`), priced with a rate card when one is given.
struct ProjectionAttemptUsage {
    var databasePath: String
    var rateCard: String?

    /// Usage per attempt number; empty when there is no projection yet.
    func usage(jobID: String) throws -> [Int: AttemptUsageOutput] {
        guard FileManager.default.fileExists(atPath: databasePath) else { return [:] }
        let store = try ProjectionStore(path: databasePath, access: .readOnly)
        defer { try? store.close() }
        let schedule = try rateCard.map { try RateCardSchedule.load(path: $0) }
        return try store.attemptUsage(jobID: jobID).mapValues { usage in
            var output = AttemptUsageOutput(
                events: usage.events, requestBytes: usage.requestBytes, responseBytes: usage.responseBytes,
                estimatedBytes: usage.estimatedBytes)
            if let card = schedule?.card(at: usage.firstTimestamp), let price = card.tiers.first(where: { $0.unitPrice > 0 })?.unitPrice {
                let measured = usage.requestBytes + usage.responseBytes
                let units = card.unit.units(bytes: Decimal(measured > 0 ? measured : usage.estimatedBytes))
                output.cost = DecimalText.fixed(units * price, places: 6)
                output.currency = card.currency
            }
            return output
        }
    }
}

/// One attempt as the CLI prints it.
struct AttemptOutput: Encodable {
    var attempt: Int
    var workerId: String
    var startedAt: String
    var endedAt: String?
    var outcome: String
    var errorType: String?
    var httpStatus: Int?
    var usage: AttemptUsageOutput?

    init(_ attempt: JobAttempt, usage: AttemptUsageOutput?) {
        self.attempt = attempt.attempt
        workerId = attempt.workerID
        startedAt = rfc3339(attempt.startedAt)
        endedAt = attempt.endedAt.map(rfc3339)
        outcome = attempt.outcome.rawValue
        errorType = attempt.errorType
        httpStatus = attempt.httpStatus
        self.usage = usage
    }
}

/// µs since the epoch as RFC 3339 UTC.
func rfc3339(_ microseconds: Int64) -> String {
    LedgerTimestamp(microseconds: microseconds).rfc3339
}

/// Pads `text` to `width` columns (never cuts it).
func column(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text.padding(toLength: width, withPad: " ", startingAt: 0)
}

/// Runs a store call, turning an unknown job id into a one-line error with exit status 1.
func withKnownJob<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as JobStoreError where error.code == .notFound || error.code == .invalidState {
        throw CommandFailure(error.message)
    }
}
