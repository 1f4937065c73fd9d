import Foundation
import GRDB

// Operator actions and queries.
extension SQLiteJobStore {
    /// Cancels the job; see ``JobStore/cancel(jobID:now:)``.
    ///
    /// - Throws: ``JobStoreError`` `.notFound`, `.invalidState`.
    public func cancel(jobID: String, now: Int64) async throws -> Job {
        try await immediateWrite("cancelling job \(jobID)") { db in
            var row = try Self.row(db, id: jobID)
            switch row.state {
            case .cancelled:
                return row.job
            case .completed, .discarded:
                throw JobStoreError(
                    code: .invalidState,
                    message: "job \(jobID) is \(row.state.rawValue); only available, retryable or running jobs can be cancelled")
            case .running:
                try Self.endAttempt(db, row, outcome: .cancelled, errorType: nil, httpStatus: nil, now: now)
            case .available, .retryable:
                break
            }
            row.state = .cancelled
            row.leaseOwner = nil
            row.finishedAt = now
            row.updatedAt = now
            try Self.save(db, row)
            return row.job
        }
    }

    /// Makes a discarded or cancelled job available again; see ``JobStore/retry(jobID:now:)``.
    ///
    /// - Throws: ``JobStoreError`` `.notFound`, `.invalidState`.
    public func retry(jobID: String, now: Int64) async throws -> Job {
        let job = try await immediateWrite("retrying job \(jobID)") { db in
            let row = try Self.row(db, id: jobID)
            guard row.state == .discarded || row.state == .cancelled else {
                throw JobStoreError(
                    code: .invalidState,
                    message: "job \(jobID) is \(row.state.rawValue); only discarded or cancelled jobs can be retried")
            }
            if let other = try Self.activeRow(db, kind: row.kind, target: row.target) {
                throw JobStoreError(
                    code: .invalidState,
                    message: "job \(other.id) for the same \(row.kind.rawValue) target is already \(other.state.rawValue); "
                        + "cancel it first or leave \(jobID) as it is")
            }
            return try Self.makeAvailable(row, db: db, now: now).job
        }
        newlyDue()
        return job
    }

    /// Retries every job in `state`; see ``JobStore/retryAll(state:now:)``.
    ///
    /// - Throws: ``JobStoreError`` `.invalidRequest`, `.writeFailed`.
    public func retryAll(state: JobState, now: Int64) async throws -> Int {
        guard state == .discarded || state == .cancelled else {
            throw JobStoreError.invalidRequest("only discarded or cancelled jobs can be retried, not \(state.rawValue) ones")
        }
        let retried = try await immediateWrite("retrying every \(state.rawValue) job") { db in
            let rows = try JobRow.filter(JobRow.Columns.state == state.rawValue).order(JobRow.Columns.sequence).fetchAll(db)
            var retried = 0
            for row in rows where try Self.activeRow(db, kind: row.kind, target: row.target) == nil {
                _ = try Self.makeAvailable(row, db: db, now: now)
                retried += 1
            }
            return retried
        }
        if retried > 0 { newlyDue() }
        return retried
    }

    /// Makes a terminal row available with a fresh attempt budget (its attempt number keeps growing).
    private static func makeAvailable(_ row: JobRow, db: Database, now: Int64) throws -> JobRow {
        var row = row
        row.state = .available
        row.attemptsUsed = 0
        row.dueAt = now
        row.finishedAt = nil
        row.updatedAt = now
        try Self.save(db, row)
        return row
    }

    /// Pauses claims for `component`, replacing an earlier reason; see ``JobStore/pause(component:reason:now:)``.
    ///
    /// - Throws: ``JobStoreError`` `.writeFailed`.
    public func pause(component: String, reason: String, now: Int64) async throws {
        try await immediateWrite("pausing \(component)") { db in
            try PausedComponentRow(component: component, reason: reason, pausedAt: now).insert(db, onConflict: .replace)
        }
    }

    /// Resumes claims for `component`; see ``JobStore/resume(component:)``.
    ///
    /// - Throws: ``JobStoreError`` `.writeFailed`.
    public func resume(component: String) async throws -> Bool {
        let resumed = try await immediateWrite("resuming \(component)") { db in
            try PausedComponentRow.deleteOne(db, key: component)
        }
        if resumed { newlyDue() }
        return resumed
    }

    /// Jobs in enqueue order; see ``JobStore/list(state:kind:limit:)``.
    ///
    /// - Throws: ``JobStoreError`` `.readFailed`.
    public func list(state: JobState?, kind: JobKind?, limit: Int) async throws -> [Job] {
        try await read("listing jobs") { db in
            var request = JobRow.all()
            if let state { request = request.filter(JobRow.Columns.state == state.rawValue) }
            if let kind { request = request.filter(JobRow.Columns.kind == kind.rawValue) }
            return try request.order(JobRow.Columns.sequence).limit(max(0, limit)).fetchAll(db).map(\.job)
        }
    }

    /// The job with `id`, or `nil`; see ``JobStore/job(id:)``.
    ///
    /// - Throws: ``JobStoreError`` `.readFailed`.
    public func job(id: String) async throws -> Job? {
        try await read("reading job \(id)") { db in
            // A cached statement: the status page, `GET /jobs/ID` and waiting clients read
            // jobs one by one, often, where preparing the statement each time costs more than
            // running it.
            try SQLRequest<JobRow>(sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id], cached: true)
                .fetchOne(db)?.job
        }
    }

    /// The job's attempts, oldest first; see ``JobStore/attempts(jobID:)``.
    ///
    /// - Throws: ``JobStoreError`` `.readFailed`.
    public func attempts(jobID: String) async throws -> [JobAttempt] {
        try await read("reading the attempts of job \(jobID)") { db in
            try JobAttemptRow.filter(JobAttemptRow.Columns.jobID == jobID).order(JobAttemptRow.Columns.attempt)
                .fetchAll(db).map(\.jobAttempt)
        }
    }

    /// Queue statistics at `now` (µs); see ``JobStore/stats(now:)``.
    ///
    /// - Throws: ``JobStoreError`` `.readFailed`.
    public func stats(now: Int64) async throws -> JobStats {
        try await read("computing job statistics") { db in
            var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0.rawValue, 0) })
            let rows = try JobRow.select(JobRow.Columns.state, count(JobRow.Columns.id)).group(JobRow.Columns.state)
                .asRequest(of: Row.self).fetchAll(db)
            for row in rows { counts[row[0]] = row[1] }
            let state = JobRow.Columns.state
            let depth = try JobRow
                .filter(state == JobState.available.rawValue
                    || (state == JobState.retryable.rawValue && JobRow.Columns.dueAt <= now))
                .fetchCount(db)
            let oldest = try JobRow.filter(state == JobState.available.rawValue)
                .select(min(JobRow.Columns.createdAt)).asRequest(of: Int64.self).fetchOne(db)
            let paused = try PausedComponentRow.order(Column("component")).fetchAll(db).map(\.paused)
            return JobStats(
                countsByState: counts, queueDepth: depth,
                oldestAvailableAgeSeconds: oldest.map { Double(now - $0) / 1_000_000 }, pausedComponents: paused)
        }
    }
}
