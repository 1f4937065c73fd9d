import Foundation
import GRDB

/// The jobs database schema. This module is the only owner of the jobs SQLite file's schema.
enum JobSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-jobs") { db in
            try createJobs(db)
            try createAttempts(db)
            try db.create(table: PausedComponentRow.databaseTableName) { table in
                table.primaryKey("component", .text)
                table.column("reason", .text).notNull()
                table.column("paused_at", .integer).notNull()
            }
        }
        return migrator
    }

    private static func createJobs(_ db: Database) throws {
        try db.create(table: JobRow.databaseTableName) { table in
            table.autoIncrementedPrimaryKey("sequence")
            table.column("id", .text).notNull().unique()
            table.column("kind", .text).notNull()
            table.column("component", .text).notNull()
            table.column("target", .text).notNull()
            table.column("payload", .text).notNull()
            table.column("state", .text).notNull()
            table.column("attempt", .integer).notNull()
            table.column("attempts_used", .integer).notNull()
            table.column("max_attempts", .integer).notNull()
            table.column("due_at", .integer).notNull()
            table.column("lease_owner", .text)
            table.column("last_error_type", .text)
            table.column("last_http_status", .integer)
            table.column("result", .text)
            table.column("created_at", .integer).notNull()
            table.column("updated_at", .integer).notNull()
            table.column("finished_at", .integer)
        }
        // At most one active job per natural key, across processes.
        try db.create(
            index: "jobs_active_target", on: JobRow.databaseTableName, columns: ["kind", "target"],
            options: .unique, condition: JobRow.Columns.state.sqlIn(JobState.active))
        try db.create(index: "jobs_target", on: JobRow.databaseTableName, columns: ["kind", "target"])
        try db.create(index: "jobs_claim", on: JobRow.databaseTableName, columns: ["component", "state", "due_at"])
        try db.create(index: "jobs_state", on: JobRow.databaseTableName, columns: ["state", "created_at"])
    }

    private static func createAttempts(_ db: Database) throws {
        try db.create(table: JobAttemptRow.databaseTableName) { table in
            table.column("job_id", .text).notNull().references(JobRow.databaseTableName, column: "id", onDelete: .cascade)
            table.column("attempt", .integer).notNull()
            table.column("worker_id", .text).notNull()
            table.column("started_at", .integer).notNull()
            table.column("ended_at", .integer)
            table.column("outcome", .text).notNull()
            table.column("error_type", .text)
            table.column("http_status", .integer)
            table.primaryKey(["job_id", "attempt"])
        }
    }
}

extension Column {
    /// `column IN (states…)`, with the states as SQL literals (a partial index condition cannot
    /// use bound parameters).
    func sqlIn(_ states: [JobState]) -> SQL {
        let list = states.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return SQL(sql: "\(name) IN (\(list))")
    }
}

/// A row of `jobs`.
struct JobRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "jobs"

    var sequence: Int64?
    var id: String
    var kind: JobKind
    var component: String
    var target: String
    var payload: JobPayload
    var state: JobState
    var attempt: Int
    var attemptsUsed: Int
    var maxAttempts: Int
    var dueAt: Int64
    var leaseOwner: String?
    var lastErrorType: String?
    var lastHTTPStatus: Int?
    var result: String?
    var createdAt: Int64
    var updatedAt: Int64
    var finishedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case sequence, id, kind, component, target, payload, state, attempt, result
        case attemptsUsed = "attempts_used", maxAttempts = "max_attempts", dueAt = "due_at"
        case leaseOwner = "lease_owner", lastErrorType = "last_error_type", lastHTTPStatus = "last_http_status"
        case createdAt = "created_at", updatedAt = "updated_at", finishedAt = "finished_at"
    }

    enum Columns {
        static let sequence = Column(CodingKeys.sequence)
        static let id = Column(CodingKeys.id)
        static let kind = Column(CodingKeys.kind)
        static let component = Column(CodingKeys.component)
        static let target = Column(CodingKeys.target)
        static let state = Column(CodingKeys.state)
        static let dueAt = Column(CodingKeys.dueAt)
        static let createdAt = Column(CodingKeys.createdAt)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        sequence = inserted.rowID
    }

    init(id: String, request: JobRequest, maxAttempts: Int, now: Int64) {
        self.id = id
        kind = request.payload.kind
        component = kind.component
        target = request.payload.target
        payload = request.payload
        state = .available
        attempt = 0
        attemptsUsed = 0
        self.maxAttempts = maxAttempts
        dueAt = now
        createdAt = now
        updatedAt = now
    }

    var job: Job {
        Job(
            id: id, kind: kind, component: component, payload: payload, target: target, state: state,
            attempt: attempt, attemptsUsed: attemptsUsed, maxAttempts: maxAttempts, dueAt: dueAt,
            leaseOwner: leaseOwner, lastErrorType: lastErrorType, lastHTTPStatus: lastHTTPStatus, result: result,
            createdAt: createdAt, updatedAt: updatedAt, finishedAt: finishedAt)
    }
}

/// A row of `job_attempts`.
struct JobAttemptRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "job_attempts"

    var jobID: String
    var attempt: Int
    var workerID: String
    var startedAt: Int64
    var endedAt: Int64?
    var outcome: JobAttemptOutcome
    var errorType: String?
    var httpStatus: Int?

    enum CodingKeys: String, CodingKey {
        case attempt, outcome
        case jobID = "job_id", workerID = "worker_id", startedAt = "started_at", endedAt = "ended_at"
        case errorType = "error_type", httpStatus = "http_status"
    }

    enum Columns {
        static let jobID = Column(CodingKeys.jobID)
        static let attempt = Column(CodingKeys.attempt)
    }

    var jobAttempt: JobAttempt {
        JobAttempt(
            jobID: jobID, attempt: attempt, workerID: workerID, startedAt: startedAt, endedAt: endedAt,
            outcome: outcome, errorType: errorType, httpStatus: httpStatus)
    }
}

/// A row of `paused_components`.
struct PausedComponentRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "paused_components"

    var component: String
    var reason: String
    var pausedAt: Int64

    enum CodingKeys: String, CodingKey {
        case component, reason
        case pausedAt = "paused_at"
    }

    var paused: PausedComponent { PausedComponent(component: component, reason: reason, pausedAt: pausedAt) }
}
