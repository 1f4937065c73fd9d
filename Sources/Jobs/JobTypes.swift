import Foundation

/// What a job does; each kind is run by one component.
public enum JobKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// Fetch and store a video's transcript (`transcribe-worker`).
    case transcribe
    /// List a channel's videos (`api-youtube-service`).
    case channelListing = "channel-listing"
    /// Fetch one video's metadata (`api-youtube-service`).
    case videoMetadata = "video-metadata"
    /// Fetch the metadata of several videos in one request (`api-youtube-service`).
    case batchMetadata = "batch-metadata"

    /// The component whose workers claim jobs of this kind (the `component` of their ledger events).
    public var component: String {
        switch self {
        case .transcribe: JobComponent.transcribeWorker
        case .channelListing, .videoMetadata, .batchMetadata: JobComponent.apiYouTubeService
        }
    }
}

/// The components that claim jobs.
public enum JobComponent {
    /// Runs ``JobKind/transcribe`` jobs.
    public static let transcribeWorker = "transcribe-worker"
    /// Runs ``JobKind/channelListing``, ``JobKind/videoMetadata`` and ``JobKind/batchMetadata`` jobs.
    public static let apiYouTubeService = "api-youtube-service"
    /// Every component, in a stable order.
    public static let all = [transcribeWorker, apiYouTubeService]
}

/// Where a job is in its life.
///
/// `available → running → completed`; a failed attempt goes to `retryable` (claimable again once
/// its time is due) or `discarded`; `cancelled` is set by an operator. See `docs/jobs.md`.
public enum JobState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Waiting to be claimed.
    case available
    /// Claimed by a worker that holds a lease.
    case running
    /// Finished successfully; terminal.
    case completed
    /// Failed transiently; claimable again from its due time.
    case retryable
    /// Failed permanently or out of attempts; terminal until retried by an operator.
    case discarded
    /// Cancelled by an operator; terminal until retried by an operator.
    case cancelled

    /// The states in which a job still counts as queued (its target cannot be enqueued twice).
    public static let active: [JobState] = [.available, .retryable, .running]
}

/// What a transcription job reads.
public enum TranscribeSource: Sendable, Hashable {
    /// A YouTube video id (11 characters `[A-Za-z0-9_-]`).
    case video(id: String)
    /// A yt-dlp info-JSON file on this host (offline and lab use); an absolute path.
    case infoJSON(path: String)
}

/// The input of a job. The kind follows from the case.
public enum JobPayload: Sendable, Hashable, Codable {
    /// Transcribe one video.
    case transcribe(TranscribeSource)
    /// List a channel (a URL or an `@handle`), at most `limit` videos (`nil`: all).
    case channelListing(channel: String, limit: Int?)
    /// The metadata of one video id.
    case videoMetadata(videoID: String)
    /// The metadata of several video ids.
    case batchMetadata(videoIDs: [String])

    /// The kind of job this payload belongs to.
    public var kind: JobKind {
        switch self {
        case .transcribe: .transcribe
        case .channelListing: .channelListing
        case .videoMetadata: .videoMetadata
        case .batchMetadata: .batchMetadata
        }
    }

    /// The natural key: at most one active job of a kind has a given target.
    ///
    /// A video id, an info-JSON path, the channel text, or the batch's sorted, distinct ids
    /// joined by commas. A channel's limit is not part of its key.
    public var target: String {
        switch self {
        case .transcribe(.video(let id)): id
        case .transcribe(.infoJSON(let path)): path
        case .channelListing(let channel, _): channel
        case .videoMetadata(let id): id
        case .batchMetadata(let ids): Set(ids).sorted().joined(separator: ",")
        }
    }

    /// Checks ids, the channel and the limit.
    ///
    /// - Throws: ``JobStoreError`` `.invalidRequest` naming the field at fault.
    public func validate() throws {
        switch self {
        case .transcribe(.video(let id)), .videoMetadata(let id):
            try Self.requireVideoID(id)
        case .transcribe(.infoJSON(let path)):
            guard path.hasPrefix("/") else { throw JobStoreError.invalidRequest("the info-JSON path \(path) must be absolute") }
        case .channelListing(let channel, let limit):
            guard YouTubeInput.isChannel(channel) else {
                throw JobStoreError.invalidRequest("\(channel) is not a YouTube channel URL or @handle")
            }
            if let limit, limit < 1 { throw JobStoreError.invalidRequest("the channel limit must be at least 1, not \(limit)") }
        case .batchMetadata(let ids):
            guard !ids.isEmpty else { throw JobStoreError.invalidRequest("a metadata batch needs at least one video id") }
            for id in ids { try Self.requireVideoID(id) }
        }
    }

    private static func requireVideoID(_ id: String) throws {
        guard YouTubeInput.isVideoID(id) else {
            throw JobStoreError.invalidRequest("\(id) is not a YouTube video id (11 characters A-Z a-z 0-9 _ -)")
        }
    }
}

/// A job to enqueue.
public struct JobRequest: Sendable, Hashable {
    /// What to do.
    public var payload: JobPayload
    /// Attempts charged before the job is discarded; `nil` uses the store's ``RetryPolicy/maxAttempts``.
    public var maxAttempts: Int?

    /// Creates a request.
    public init(_ payload: JobPayload, maxAttempts: Int? = nil) {
        self.payload = payload
        self.maxAttempts = maxAttempts
    }
}

/// A job as stored. Times are µs since the Unix epoch (UTC).
public struct Job: Sendable, Hashable, Codable {
    /// A lowercase UUID.
    public var id: String
    /// The kind (follows from the payload).
    public var kind: JobKind
    /// The component whose workers claim it.
    public var component: String
    /// The input.
    public var payload: JobPayload
    /// The natural key (``JobPayload/target``).
    public var target: String
    /// The current state.
    public var state: JobState
    /// The attempt number of the latest claim (0 before the first); the `attempt` of its ledger events.
    public var attempt: Int
    /// Attempts charged toward ``maxAttempts`` (a released or auth-paused attempt is not charged).
    public var attemptsUsed: Int
    /// Charged attempts after which a failure discards the job.
    public var maxAttempts: Int
    /// When the job is claimable (available, retryable) or its lease expires (running), µs.
    public var dueAt: Int64
    /// The worker holding the lease while running.
    public var leaseOwner: String?
    /// The last failure's error type (`error_type` code).
    public var lastErrorType: String?
    /// The last failure's HTTP status, if any.
    public var lastHTTPStatus: Int?
    /// The result recorded on completion (a path, JSON text).
    public var result: String?
    /// Enqueued at, µs.
    public var createdAt: Int64
    /// Last changed at, µs.
    public var updatedAt: Int64
    /// Completed, discarded or cancelled at, µs.
    public var finishedAt: Int64?
}

/// What became of one attempt.
public enum JobAttemptOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// Still running (or its worker died and nobody has re-claimed the job yet).
    case running
    /// Completed the job.
    case completed
    /// Failed; the job was scheduled for a retry.
    case retryScheduled = "retry_scheduled"
    /// Failed; the job was discarded (permanent error or attempts exhausted).
    case discarded
    /// Failed with `auth_failure`; the component was paused and the job made available again.
    case paused
    /// Interrupted (shutdown); the job was made available again without charging the attempt.
    case released
    /// The lease expired and the job was re-claimed or discarded.
    case leaseExpired = "lease_expired"
    /// The job was cancelled while the attempt ran.
    case cancelled
}

/// One claim of a job, from `job_attempts`. Times are µs since the Unix epoch (UTC).
public struct JobAttempt: Sendable, Hashable, Codable {
    /// The job.
    public var jobID: String
    /// The attempt number (the `attempt` of the attempt's ledger events).
    public var attempt: Int
    /// The worker that claimed it.
    public var workerID: String
    /// Claimed at, µs.
    public var startedAt: Int64
    /// Ended at, µs (`nil` while running).
    public var endedAt: Int64?
    /// What became of it.
    public var outcome: JobAttemptOutcome
    /// The failure's `error_type` code, if it failed.
    public var errorType: String?
    /// The failure's HTTP status, if any.
    public var httpStatus: Int?
}

/// The result of enqueueing one request.
public struct EnqueueResult: Sendable, Hashable {
    /// The new job, or the active job that already had the same kind and target.
    public var job: Job
    /// `true` when the job was created by this call.
    public var isNew: Bool
}

/// A component whose claims are paused.
public struct PausedComponent: Sendable, Hashable, Codable {
    /// The component name.
    public var component: String
    /// Why (for example `auth_failure on job …`).
    public var reason: String
    /// Paused at, µs since the Unix epoch (UTC).
    public var pausedAt: Int64
}

/// Queue statistics at one instant.
public struct JobStats: Sendable, Hashable, Codable {
    /// Jobs per state (every state present, raw values as keys).
    public var countsByState: [String: Int]
    /// Jobs claimable now: available plus retryable whose time is due.
    public var queueDepth: Int
    /// Seconds since the oldest available job was enqueued; `nil` when none is available.
    public var oldestAvailableAgeSeconds: Double?
    /// Paused components.
    public var pausedComponents: [PausedComponent]
}
