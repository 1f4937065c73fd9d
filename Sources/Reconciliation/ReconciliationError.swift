/// An error while importing vendor figures or reading our own.
///
/// `description` names the file and line at fault and never contains credentials (vendor
/// exports hold none that are copied into messages; a bad line is quoted at most 80 characters).
/// Modelled on NIO's `FileSystemError`: a struct with an extensible ``Code``.
public struct ReconciliationError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong. A struct with static members, so new codes do not break callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let name: String

        /// The code's stable snake_case name.
        public var description: String { name }

        /// A file could not be read.
        public static let unreadable = Code(name: "unreadable")
        /// A line or record does not have the expected shape (see ``ReconciliationError/line``).
        public static let malformedLine = Code(name: "malformed_line")
        /// The input as a whole has the wrong shape (missing CSV column, JSON not a list).
        public static let malformedInput = Code(name: "malformed_input")
        /// An argument is out of range (an empty window, a negative tolerance).
        public static let invalidArgument = Code(name: "invalid_argument")
        /// Reading the ledger or the projection database failed, or writing the vendor tables.
        public static let storageFailed = Code(name: "storage_failed")
        /// A sum of bytes or a time does not fit in 64 bits (an absurd input, or a poisoned ledger event).
        public static let outOfRange = Code(name: "out_of_range")
    }

    /// What went wrong.
    public var code: Code
    /// The explanation.
    public var message: String
    /// The file at fault, if any.
    public var file: String?
    /// The 1-based line (or CSV record) number at fault, if any.
    public var line: Int?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What went wrong.
    ///   - message: The explanation, without secrets.
    ///   - file: The file at fault.
    ///   - line: The 1-based line number at fault.
    public init(_ code: Code, _ message: String, file: String? = nil, line: Int? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// `"<code>: <file>:<line>: <message>"` (file and line when known).
    public var description: String {
        var location = file ?? ""
        if let line { location += location.isEmpty ? "line \(line)" : ":\(line)" }
        return "\(code): " + (location.isEmpty ? "" : "\(location): ") + message
    }
}

/// A line that could not be parsed and was skipped (with `--skip-bad-lines`).
public struct BadLine: Sendable, Hashable, Codable {
    /// The 1-based line (or CSV record) number.
    public var line: Int
    /// Why it was rejected.
    public var reason: String
    /// The start of the line, at most 80 characters.
    public var excerpt: String

    /// Creates a record of a skipped line.
    public init(line: Int, reason: String, text: some StringProtocol) {
        self.line = line
        self.reason = reason
        self.excerpt = String(text.prefix(80))
    }
}
