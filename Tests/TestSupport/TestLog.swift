public import Logging
import Synchronization

/// Where tests log: the lines are kept in memory instead of printed, so that a failing test's
/// output stands out, and a test can read them (to find a message, or to check that no line
/// holds a secret).
///
/// ```swift
/// let log = TestLog()
/// let logger = log.logger(label: "test.workers")
/// …
/// #expect(!log.text.contains(password))
/// ```
public final class TestLog: Sendable {
    private struct Line {
        var message: String
        var rendered: String
    }

    private let lines = Mutex<[Line]>([])

    public init() {}

    /// A logger at `level` that writes to this log.
    public func logger(label: String, level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { _ in TestLogHandler(log: self) }
        logger.logLevel = level
        return logger
    }

    /// The messages, in order.
    public var messages: [String] { lines.withLock { $0.map(\.message) } }

    /// Every line as `LEVEL message metadata`, one per line.
    public var text: String { lines.withLock { $0.map(\.rendered).joined(separator: "\n") } }

    fileprivate func append(message: String, rendered: String) {
        lines.withLock { $0.append(Line(message: message, rendered: rendered)) }
    }
}

private struct TestLogHandler: LogHandler {
    let log: TestLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        log.append(message: "\(event.message)", rendered: "\(event.level) \(event.message) \(all)")
    }
}
