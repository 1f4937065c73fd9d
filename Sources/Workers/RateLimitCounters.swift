public import Ledger

/// Counts failures by `error_type` across all jobs of a worker process (actor state, not globals).
///
/// The original design kept these as module globals; here every producer gets the same actor. With the
/// proxy off, each producer's ``RequestPacer`` reads them: recent `rate_limited` and `bot_check`
/// failures lengthen the pause between yt-dlp runs.
public actor RateLimitCounters {
    private var byType: [ProxyErrorType: Int] = [:]
    private var successes = 0

    /// Creates zeroed counters.
    public init() {}

    /// Records one operation's outcome: `nil` for success, else its `error_type`.
    public func record(_ errorType: ProxyErrorType?) {
        if let errorType { byType[errorType, default: 0] += 1 } else { successes += 1 }
    }

    /// A consistent snapshot of all counters.
    public var snapshot: RateLimitSnapshot {
        RateLimitSnapshot(successes: successes, failuresByType: byType)
    }
}

/// A snapshot of ``RateLimitCounters``.
public struct RateLimitSnapshot: Sendable, Hashable {
    /// Operations that succeeded.
    public var successes: Int
    /// Failed operations by `error_type`.
    public var failuresByType: [ProxyErrorType: Int]

    /// HTTP 429s from YouTube (`rate_limited`).
    public var rateLimited: Int { failuresByType[.rateLimited] ?? 0 }
    /// "Sign in to confirm you're not a bot" pages (`bot_check`).
    public var botChecks: Int { failuresByType[.botCheck] ?? 0 }
    /// Gateway 407s (`auth_failure`).
    public var authFailures: Int { failuresByType[.authFailure] ?? 0 }
    /// All failed operations.
    public var failures: Int { failuresByType.values.reduce(0, +) }
}
