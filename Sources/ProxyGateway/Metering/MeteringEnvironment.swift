import Logging
import NIOCore
import Synchronization

/// What every connection handler of one ``MeteringProxy`` shares.
struct MeteringEnvironment: Sendable {
    /// The token → lease map.
    let registry: LeaseRegistry
    /// The gateway to forward to.
    let upstream: MeteringUpstream
    /// The `Proxy-Authorization` value for the gateway. Secret.
    let authorization: String
    /// How long to wait for the TCP connection to the gateway.
    let connectTimeout: TimeAmount
    /// The open channels, for shutdown.
    let tracker: ChannelTracker
    /// The library's logger (from the caller).
    let logger: Logger
    /// For a shared listener: how clients are admitted and where each exchange's event goes;
    /// `nil` for a worker meter, whose clients present lease tokens.
    var shared: SharedAdmission? = nil
    /// The current rules, read for every request, so a settings reload applies to the next one.
    /// A shared listener applies `block` and `direct`; a worker meter applies `block`, recorded
    /// on the lease (``LeaseState/recordBlocked(head:rule:)``).
    var rules: @Sendable () -> [TrafficRule] = { [] }

    /// The first rule that applies to `component`'s request `head` (a tunnel's URL is not seen,
    /// so only host rules can match it), if any.
    func rule(for component: String, head: ProxyRequestHead) -> TrafficRule? {
        TrafficRule.first(in: rules(), component: component, targetHost: head.targetHost, url: head.isTunnel ? nil : head.target)
    }
}

/// The open channels of a proxy (client and gateway side), and whether shutdown is forcing them
/// closed.
final class ChannelTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var forcing = false
        var accepting = true
    }

    private let state = Mutex(State())

    /// Tracks `channel` until it closes; returns `false` (and tracks nothing) after shutdown began.
    @discardableResult
    func add(_ channel: any Channel) -> Bool {
        let key = ObjectIdentifier(channel)
        let added = state.withLock { state in
            guard state.accepting else { return false }
            state.channels[key] = channel
            return true
        }
        if added {
            channel.closeFuture.whenComplete { [self] _ in
                _ = state.withLock { $0.channels.removeValue(forKey: key) }
            }
        }
        return added
    }

    /// Whether shutdown is closing the remaining channels by force.
    var isForcing: Bool { state.withLock { $0.forcing } }

    /// The number of open channels.
    var openCount: Int { state.withLock { $0.channels.count } }

    /// Stops tracking new client connections (they are refused).
    func stopAccepting() { state.withLock { $0.accepting = false } }

    /// Marks the remaining channels as cut short and returns them.
    func forceRemaining() -> [any Channel] {
        state.withLock { state in
            state.forcing = true
            return Array(state.channels.values)
        }
    }
}

/// Canned replies the proxy sends itself (not billed: they never touch the gateway).
enum LocalReply {
    /// `400 Bad Request` for a head that is not a proxy request.
    static let badRequest = make(400, "Bad Request")
    /// `407` with a Basic challenge, for a missing, unknown or ended token (RFC 9110 §11.7.1).
    static let authenticationRequired = make(
        407, "Proxy Authentication Required", extra: "Proxy-Authenticate: Basic realm=\"proxy-ledger\"\r\n")
    /// `502 Bad Gateway` when the gateway cannot be reached.
    static let badGateway = make(502, "Bad Gateway")
    /// `503` when no tunnel slot came free within the queue timeout (`--max-tunnels`).
    static let tooManyTunnels = make(
        503, "Service Unavailable", extra: "X-Proxy-Ledger-Reason: max_tunnels\r\nRetry-After: 1\r\n")
    /// The reply to a CONNECT that a `direct` rule sent straight to its target.
    static let connectionEstablished = Array("HTTP/1.1 200 Connection established\r\n\r\n".utf8)
    /// `403` for a request a ``TrafficRule`` blocks, naming the rule.
    static func blocked(by rule: String) -> [UInt8] {
        let name = String(rule.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.map(Character.init))
        return make(403, "Forbidden", extra: "X-Proxy-Ledger-Reason: blocked_by_rule\r\nX-Proxy-Ledger-Rule: \(name)\r\n")
    }
    /// `503 Service Unavailable` while shutting down.
    static let unavailable = make(503, "Service Unavailable")

    private static func make(_ status: Int, _ reason: String, extra: String = "") -> [UInt8] {
        Array("HTTP/1.1 \(status) \(reason)\r\n\(extra)Content-Length: 0\r\nConnection: close\r\n\r\n".utf8)
    }
}
