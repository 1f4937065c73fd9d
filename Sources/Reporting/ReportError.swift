/// An error thrown while loading a rate card, reading the projection or writing a report.
///
/// A struct with an extensible ``Code`` (as GRDB's `DatabaseError` and NIO's `FileSystemError`),
/// so new kinds of failure do not break callers that switch over codes. The ``description`` is
/// safe to log: it names files, fields and SQL failures, never credentials.
public struct ReportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        /// A stable, lowercase identifier such as `"invalid_rate_card"`.
        public var rawValue: String

        /// Creates a code from its identifier.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// The rate card file could not be read (missing file, permissions).
        public static let rateCardUnreadable = Code(rawValue: "rate_card_unreadable")
        /// The rate card is not valid JSON, or a field is missing or invalid; ``ReportError/field``
        /// names the field.
        public static let invalidRateCard = Code(rawValue: "invalid_rate_card")
        /// No rate card version is effective for part of the report period.
        public static let noEffectiveRateCard = Code(rawValue: "no_effective_rate_card")
        /// The requested period is invalid (end not after start, bad month, unknown time zone).
        public static let invalidPeriod = Code(rawValue: "invalid_period")
        /// A query on the projection database failed.
        public static let databaseReadFailed = Code(rawValue: "database_read_failed")
        /// Writing the rendered report failed.
        public static let writeFailed = Code(rawValue: "write_failed")
        /// The period's byte or request sums do not fit in a 64-bit integer: the projection holds
        /// impossible values (from a ledger written before append checked its ranges).
        public static let usageOutOfRange = Code(rawValue: "usage_out_of_range")

        /// The raw identifier.
        public var description: String { rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation, safe to log.
    public var message: String
    /// For ``Code/invalidRateCard``: the path of the offending field, such as `tiers[1].unit_price`
    /// (prefixed with `[index].` when the file holds a list of cards).
    public var field: String?
    /// The description of the underlying error (GRDB `DatabaseError`, POSIX error), if any.
    public var underlying: String?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: A human-readable explanation, safe to log.
    ///   - field: The offending rate card field, if any.
    ///   - underlying: The description of the underlying error, if any.
    public init(code: Code, message: String, field: String? = nil, underlying: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.underlying = underlying
    }

    /// `"<code>: <message>"`, then the underlying error when present.
    public var description: String {
        var text = "\(code): \(message)"
        if let underlying { text += " (\(underlying))" }
        return text
    }

    /// Runs `body`, wrapping any non-``ReportError`` error as `code` with `message`.
    static func wrapping<T>(_ code: Code, _ message: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ReportError {
            throw error
        } catch {
            throw ReportError(code: code, message: message(), underlying: String(describing: error))
        }
    }
}
