public import Ledger

/// An error from a worker or producer. ``description`` never contains a password or a proxy URL
/// with credentials (yt-dlp output is redacted by ``YtDlpFailureClassifier/redact(_:)``).
public struct WorkerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's stable name.
        public let rawValue: String

        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// yt-dlp ran and failed, or the worker was stopped before or while it ran (then
        /// ``WorkerError/isInterrupted``); see ``WorkerError/failure`` and ``WorkerError/event``.
        public static let operationFailed = Code("operationFailed")
        /// yt-dlp could not be started (missing executable, bad working directory, an options
        /// file that cannot be written). No event, unless the operation's lease had already
        /// metered bytes (an earlier run of a batch): then ``WorkerError/event`` is the
        /// `connection_error` event recording them.
        public static let launchFailed = Code("launchFailed")
        /// yt-dlp succeeded but its JSON output could not be parsed.
        public static let invalidOutput = Code("invalidOutput")
        /// The operation's event could not be appended to the ledger sink.
        public static let ledgerAppendFailed = Code("ledgerAppendFailed")
        /// An argument was invalid (e.g. an empty batch).
        public static let invalidArgument = Code("invalidArgument")

        /// The code's name.
        public var description: String { rawValue }
    }

    /// The error class.
    public var code: Code
    /// A safe-to-log explanation.
    public var message: String
    /// The classified yt-dlp failure for ``Code/operationFailed``.
    public var failure: YtDlpFailure?
    /// The ledger event recorded for the failed operation, when one was appended.
    public var event: ProxyRequestEvent?

    /// Creates an error; `message` must not contain secrets.
    public init(_ code: Code, _ message: String, failure: YtDlpFailure? = nil, event: ProxyRequestEvent? = nil) {
        self.code = code
        self.message = message
        self.failure = failure
        self.event = event
    }

    /// The ledger `error_type` for this error (``YtDlpFailure/errorType`` or `unknown`).
    public var errorType: ProxyErrorType { failure?.errorType ?? .unknown }

    /// `true` when the operation was interrupted: the task was cancelled (a worker being
    /// stopped) before or while yt-dlp ran. The code is then ``Code/operationFailed``, the
    /// failure's type `interrupted`, and ``event`` the appended event with the bytes metered up
    /// to then; a job queue should `release` such an attempt rather than fail it.
    public var isInterrupted: Bool { failure?.errorType == .interrupted }

    /// Code and message; never contains secrets.
    public var description: String {
        "WorkerError(\(code)): \(message)" + (failure.map { " [\($0)]" } ?? "")
    }
}
