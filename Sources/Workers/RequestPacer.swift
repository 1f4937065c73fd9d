/// Where a ``RequestPacer`` reads the time and waits; tests inject one that only records.
public protocol PacingClock: Sendable {
    /// The time elapsed since a fixed point of this clock.
    var now: Duration { get }
    /// Waits `duration`.
    /// - Throws: `CancellationError` when the task is cancelled while waiting.
    func sleep(for duration: Duration) async throws
}

/// The monotonic system clock (`ContinuousClock`), waiting with `Task.sleep`.
public struct ContinuousPacingClock: PacingClock {
    private let origin = ContinuousClock.now

    /// Creates the clock; its ``now`` starts at zero.
    public init() {}

    /// The time since this clock was made.
    public var now: Duration { ContinuousClock.now - origin }

    /// `Task.sleep(for:)`.
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// Paces one worker's YouTube requests when the proxy is off (every request then comes from the
/// host's own IP): at least an interval between the end of one request and the start of the
/// next, and between two starts, growing while YouTube pushes back.
///
/// The interval is `minimumInterval × 2^n`, capped at ``maximumInterval``, where `n` is the
/// number of `rate_limited` and `bot_check` failures the shared ``RateLimitCounters`` gained in
/// the last ``failureWindow`` (as this pacer saw them, at each request). A zero minimum interval
/// never waits.
///
/// ```swift
/// let pacer = RequestPacer()
/// try await pacer.waitForTurn(minimumInterval: .seconds(2), counters: counters)
/// … run yt-dlp …
/// await pacer.requestFinished()
/// ```
public actor RequestPacer {
    /// The longest interval, however many recent failures (default 60 s).
    public let maximumInterval: Duration
    /// How long a failure counts as recent (default 10 min).
    public let failureWindow: Duration
    private let clock: any PacingClock
    private var lastStart: Duration?
    private var lastEnd: Duration?
    private var throttlesSeen: Int?
    private var recentThrottles: [Duration] = []

    /// Creates a pacer.
    /// - Parameters:
    ///   - clock: The time source (default the monotonic system clock).
    ///   - maximumInterval: The cap on the grown interval (default 60 s).
    ///   - failureWindow: How long a failure keeps the interval grown (default 10 min).
    public init(
        clock: any PacingClock = ContinuousPacingClock(), maximumInterval: Duration = .seconds(60),
        failureWindow: Duration = .seconds(600)
    ) {
        self.clock = clock
        self.maximumInterval = maximumInterval
        self.failureWindow = failureWindow
    }

    /// The interval in force now for `minimumInterval`, after reading `counters`.
    public func interval(minimumInterval: Duration, counters: RateLimitCounters) async -> Duration {
        let snapshot = await counters.snapshot
        observe(throttles: snapshot.rateLimited + snapshot.botChecks, at: clock.now)
        guard minimumInterval > .zero else { return .zero }
        let grown = minimumInterval * (1 << min(recentThrottles.count, 16))
        return min(grown, maximumInterval)
    }

    /// Waits until the next request may start, and books that start.
    ///
    /// - Parameters:
    ///   - minimumInterval: The interval without recent failures (zero: never wait).
    ///   - counters: The worker process's shared failure counters.
    /// - Returns: How long it waited.
    /// - Throws: `CancellationError` when the task is cancelled while waiting (the start stays booked).
    @discardableResult
    public func waitForTurn(minimumInterval: Duration, counters: RateLimitCounters) async throws -> Duration {
        let interval = await interval(minimumInterval: minimumInterval, counters: counters)
        let now = clock.now
        var start = now
        for previous in [lastStart, lastEnd].compactMap({ $0 }) { start = max(start, previous + interval) }
        lastStart = start
        let wait = start - now
        if wait > .zero { try await clock.sleep(for: wait) }
        return wait
    }

    /// Notes that the request booked by ``waitForTurn(minimumInterval:counters:)`` has ended.
    public func requestFinished() {
        lastEnd = clock.now
    }

    /// Counts new throttling failures as happening `now` and forgets those older than the window.
    private func observe(throttles: Int, at now: Duration) {
        let new = throttles - (throttlesSeen ?? throttles)
        throttlesSeen = throttles
        recentThrottles += Array(repeating: now, count: min(max(new, 0), 16))
        recentThrottles.removeAll { now - $0 >= failureWindow }
        if recentThrottles.count > 16 { recentThrottles.removeFirst(recentThrottles.count - 16) }
    }
}
