/// An error from the test lab: Squid, the origin server, fixtures or a missing tool.
///
/// The ``description`` is safe to log: it never contains a password or a proxy URL with
/// credentials.
public struct ProxyLabError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name, e.g. `toolMissing`.
        public let rawValue: String

        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// A required binary (squid, htpasswd, yt-dlp) is not installed.
        public static let toolMissing = Code("toolMissing")
        /// A helper process (htpasswd, chown) exited unsuccessfully.
        public static let commandFailed = Code("commandFailed")
        /// Squid exited before it accepted connections.
        public static let gatewayExited = Code("gatewayExited")
        /// Squid did not accept connections within the start timeout.
        public static let gatewayStartTimeout = Code("gatewayStartTimeout")
        /// The origin server could not bind or stop.
        public static let originFailed = Code("originFailed")
        /// Reading or writing a lab file failed.
        public static let fileSystem = Code("fileSystem")
        /// An argument was out of range (e.g. zero videos, an unsafe username).
        public static let invalidArgument = Code("invalidArgument")

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

    /// Code and message; never contains secrets.
    public var description: String { "ProxyLabError(\(code)): \(message)" }
}
