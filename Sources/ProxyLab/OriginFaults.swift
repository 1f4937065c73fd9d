import Foundation
import Synchronization

/// Fault-injecting path prefixes of the lab origin, for tests of retries and shutdown:
///
/// - `/delay/MS/REST` answers `/REST` after MS milliseconds (a slow YouTube).
/// - `/flaky/N/KEY/REST` answers `429 Too Many Requests` with `Retry-After: 1` to the first N
///   requests with that KEY (counted across connections), then `/REST` (a throttled YouTube).
/// - `/gateway-throttle/N/KEY/REST` answers `/REST`: the lab's Squid throttles such requests
///   itself (``GatewayThrottle``), and forwards them here once it lets them through.
///
/// Prefixes combine: `/delay/100/flaky/2/k/captions/x.en.json3`.
final class OriginFaults: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// What a request's prefixes ask for.
    struct Plan: Equatable {
        /// The path left once the prefixes are removed, with the query.
        var uri: String
        var delayMilliseconds: Int64 = 0
        var throttled = false
    }

    /// Strips the fault prefixes of `uri`, counting a `flaky` request.
    func plan(for uri: String) -> Plan {
        var plan = Plan(uri: uri)
        while true {
            let parts = plan.uri.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: true)
            if parts.count >= 3, parts[0] == "delay", let ms = Int64(parts[1]), ms >= 0 {
                plan.delayMilliseconds += ms
                plan.uri = "/" + parts[2...].joined(separator: "/")
            } else if parts.count == 4, parts[0] == "flaky", let limit = Int(parts[1]) {
                let key = String(parts[2])
                let seen = counts.withLock { counts -> Int in
                    counts[key, default: 0] += 1
                    return counts[key, default: 0]
                }
                if seen <= limit { plan.throttled = true }
                plan.uri = "/" + parts[3]
            } else if parts.count == 4, "/\(parts[0])/" == GatewayThrottle.prefix {
                plan.uri = "/" + parts[3]
            } else {
                return plan
            }
        }
    }
}
