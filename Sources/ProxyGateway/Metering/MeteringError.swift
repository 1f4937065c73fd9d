/// An error of the metering proxy: a bad upstream configuration, or a listener that cannot start.
///
/// `description` is safe to log: it never contains the gateway password or a lease token.
/// Modelled on NIO's `FileSystemError`: a struct with an extensible ``Code``.
public struct MeteringError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong. A struct with static members, so new codes do not break callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let name: String

        /// The code's stable snake_case name, for logs and JSON output.
        public var description: String { name }

        /// The gateway host, port or username is unusable, or the proxy route is disabled.
        public static let invalidUpstream = Code(name: "invalid_upstream")
        /// The listener could not bind 127.0.0.1 (for example, no free ephemeral port).
        public static let bindFailed = Code(name: "bind_failed")
        /// A shared listener without an access token was asked to listen off loopback.
        public static let openListener = Code(name: "open_listener")
        /// The proxy is shutting down or has shut down; no new leases are handed out.
        public static let shutDown = Code(name: "shut_down")
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable explanation without secrets.
    public var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What went wrong.
    ///   - message: The explanation; callers must not put secrets in it.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `"<code>: <message>"`, safe to log.
    public var description: String { "\(code): \(message)" }
}
