/// An error from the test lab: Squid, the origin server, fixtures or a missing tool.
///
/// The ``description`` is safe to log: it never contains a password or a proxy URL with
/// credentials.
public struct ProxyLabError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable snake_case name, e.g. `tool_missing`.
        public let rawValue: String

        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// A required binary (squid, htpasswd, yt-dlp) is not installed.
        public static let toolMissing = Code("tool_missing")
        /// A helper process (htpasswd, chown) exited unsuccessfully.
        public static let commandFailed = Code("command_failed")
        /// Squid exited before it accepted connections.
        public static let gatewayExited = Code("gateway_exited")
        /// Squid did not accept connections within the start timeout.
        public static let gatewayStartTimeout = Code("gateway_start_timeout")
        /// The origin server could not bind or stop.
        public static let originFailed = Code("origin_failed")
        /// Reading or writing a lab file failed.
        public static let fileSystem = Code("file_system")
        /// An argument was out of range (e.g. zero videos, an unsafe username).
        public static let invalidArgument = Code("invalid_argument")

        /// The code's name.
        public var description: String { rawValue }
    }

    /// The error class.
    public var code: Code
    /// A human-readable explanation, free of secrets.
    public var message: String

    /// Creates an error; `message` must not contain secrets.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `"<code>: <message>"`, like the package's other errors; never contains secrets.
    public var description: String { "\(code): \(message)" }
}
