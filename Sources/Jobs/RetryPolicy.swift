import Foundation
public import Ledger
import Synchronization

/// What a failed attempt does to its job.
public enum FailureDisposition: Sendable, Hashable {
    /// Schedule another attempt after a backoff (transient or unknown errors).
    case retry
    /// Discard the job now (`not_found`, `blocked_by_rule`, a 4xx `http_error` other than 429).
    case discard
    /// Pause the component and make the job available again (`auth_failure`).
    case pauseComponent

    /// Classifies an error type and the HTTP status seen with it.
    ///
    /// - Parameters:
    ///   - errorType: The attempt's `error_type`.
    ///   - httpStatus: The last upstream HTTP status, if any.
    public static func of(_ errorType: ProxyErrorType, httpStatus: Int?) -> FailureDisposition {
        switch errorType {
        case .authFailure: return .pauseComponent
        case .notFound: return .discard
        case .blockedByRule:
            // The same rule refuses every retry: only a settings change can help.
            return .discard
        case .httpError:
            guard let status = httpStatus, (400...499).contains(status), status != 429 else { return .retry }
            return .discard
        case .rateLimited, .botCheck, .gatewayThrottled, .connectionError, .timeout, .bandwidthExhausted, .unknown:
            return .retry
        case .interrupted:
            // A runtime releases an interrupted attempt (its attempt is not charged); a caller
            // that fails it instead gets an ordinary retry.
            return .retry
        }
    }
}

/// A source of jitter: numbers in `0...1`.
public protocol JitterSource: Sendable {
    /// The next number in `0...1`.
    func next() -> Double
}

/// Jitter from the system random generator.
public struct SystemJitter: JitterSource {
    /// Creates the source.
    public init() {}

    /// A uniform number in `0...1`.
    public func next() -> Double { Double.random(in: 0...1) }
}

/// The same number every time (tests).
public struct FixedJitter: JitterSource {
    /// The number returned, clamped to `0...1`.
    public let value: Double

    /// Creates the source.
    public init(_ value: Double) { self.value = min(1, max(0, value)) }

    /// ``value``.
    public func next() -> Double { value }
}

/// A reproducible sequence from a seed (SplitMix64), safe to share between tasks.
public final class SeededJitter: JitterSource {
    private let state: Mutex<UInt64>

    /// Creates the source; equal seeds give equal sequences.
    public init(seed: UInt64) { state = Mutex(seed) }

    /// The next number in `0...1`.
    public func next() -> Double {
        let bits = state.withLock { value -> UInt64 in
            value &+= 0x9E37_79B9_7F4A_7C15
            var mixed = value
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            return mixed ^ (mixed >> 31)
        }
        return Double(bits >> 11) / Double(1 << 53)
    }
}

/// When failed jobs are retried and when they are given up.
///
/// The delay after the n-th charged attempt is `min(maxDelay, baseDelay × 2^(n-1))`, of which the
/// share ``jitterFraction`` is randomised downwards (`delay × (1 - jitterFraction × u)`, `u` from
/// the jitter source), and never less than a `Retry-After` the caller passes.
public struct RetryPolicy: Sendable, Hashable {
    /// The delay after the first failed attempt.
    public var baseDelay: Duration
    /// The longest computed delay (a longer `Retry-After` still wins).
    public var maxDelay: Duration
    /// The share of each delay that is random, `0...1` (0: none).
    public var jitterFraction: Double
    /// The attempts a job gets when its request does not say.
    public var maxAttempts: Int

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - baseDelay: The delay after the first failed attempt (default 5 s).
    ///   - maxDelay: The cap on computed delays (default 15 min).
    ///   - jitterFraction: The random share of each delay, clamped to `0...1` (default 0.5).
    ///   - maxAttempts: The default attempts per job (default 5).
    public init(
        baseDelay: Duration = .seconds(5), maxDelay: Duration = .seconds(900),
        jitterFraction: Double = 0.5, maxAttempts: Int = 5
    ) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitterFraction = min(1, max(0, jitterFraction))
        self.maxAttempts = maxAttempts
    }

    /// The delay before the next attempt, in µs.
    ///
    /// - Parameters:
    ///   - attemptsUsed: Charged attempts so far (≥ 1).
    ///   - retryAfter: The server's `Retry-After`, if any; the larger of it and the backoff wins.
    ///   - jitter: A number in `0...1`.
    public func delayMicroseconds(attemptsUsed: Int, retryAfter: Duration?, jitter: Double) -> Int64 {
        let base = Double(baseDelay.wholeMicroseconds)
        let exponent = Double(min(max(attemptsUsed - 1, 0), 62))
        let capped = min(Double(maxDelay.wholeMicroseconds), base * pow(2, exponent))
        let jittered = Int64(capped * (1 - jitterFraction * min(1, max(0, jitter))))
        return max(jittered, retryAfter?.wholeMicroseconds ?? 0)
    }
}
