import Foundation
import GRDB

/// An error thrown by the projection store, the projector and rebuild.
///
/// Modelled on GRDB's `DatabaseError` and NIO's `FileSystemError`: a struct with an extensible
/// ``Code``, so new kinds of failure do not break callers that switch over codes. The
/// ``description`` is safe to log: it holds file paths, SQL text and SQLite result codes, never
/// bound values (GRDB hides statement arguments unless `publicStatementArguments` is set).
public struct ProjectionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        /// A stable, lowercase identifier such as `"write_failed"`.
        public var rawValue: String

        /// Creates a code from its identifier.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// The database file could not be opened or configured (SQLite error, missing directory).
        public static let openFailed = Code(rawValue: "open_failed")
        /// A schema migration failed; the database is left at the last completed migration.
        public static let migrationFailed = Code(rawValue: "migration_failed")
        /// A write transaction failed and was rolled back: no rows and no checkpoint changed.
        public static let writeFailed = Code(rawValue: "write_failed")
        /// A read query failed.
        public static let readFailed = Code(rawValue: "read_failed")
        /// A record cannot be represented (for example a sequence above `Int64.max`).
        public static let invalidRecord = Code(rawValue: "invalid_record")
        /// Reading the ledger failed; the underlying `LedgerError` is described.
        public static let ledgerReadFailed = Code(rawValue: "ledger_read_failed")
        /// A file operation of rebuild failed (create, fsync, rename, remove).
        public static let fileOperationFailed = Code(rawValue: "file_operation_failed")
        /// There is no projection database at the path (a read-only open).
        public static let notFound = Code(rawValue: "not_found")
        /// The path holds something other than a projection: a folder, an empty file (for
        /// reading), a file that is not SQLite, or another application's database.
        public static let notAProjection = Code(rawValue: "not_a_projection")
        /// A read-only open found a projection an older release made; a writing command migrates it.
        public static let migrationNeeded = Code(rawValue: "migration_needed")
        /// The projection was built from another ledger (see ``ProjectionStore/bind(to:)``).
        public static let ledgerMismatch = Code(rawValue: "ledger_mismatch")
        /// A value does not fit: imported vendor bytes whose sum passes Int64.max (nothing was stored).
        public static let valueOutOfRange = Code(rawValue: "value_out_of_range")
        /// A replay stopped at a transaction boundary because its task was cancelled (used
        /// internally; ``ReplayResult/stoppedEarly`` reports it).
        public static let interrupted = Code(rawValue: "interrupted")

        /// The raw identifier.
        public var description: String { rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation, safe to log.
    public var message: String
    /// The description of the underlying error (GRDB `DatabaseError`, `LedgerError`, errno text), if any.
    public var underlying: String?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: A human-readable explanation; must not contain secrets.
    ///   - underlying: The description of the cause, if any.
    public init(code: Code, message: String, underlying: String? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// `"<message> (<underlying>)"`, or the message alone: what a command prints after `Error: `.
    public var explanation: String {
        underlying.map { "\(message) (\($0))" } ?? message
    }

    /// `"<code>: <message> (<underlying>)"`.
    public var description: String { "\(code): \(explanation)" }

    /// `.notFound` for `path`, saying how to build the projection.
    public static func notFound(_ path: String) -> ProjectionError {
        ProjectionError(code: .notFound, message: "no projection database at \(path); build it with `proxy-ledger replay --db \(path)`")
    }

    /// Runs `body`, converting any non-`ProjectionError` into one with `code`.
    static func wrapping<T>(_ code: Code, _ message: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ProjectionError {
            throw error
        } catch {
            throw ProjectionError(code: code, message: message(), underlying: String(describing: error))
        }
    }

    /// An error for a failed POSIX call, with `strerror(errno)` as the underlying description.
    static func posix(_ operation: String, path: String, errno code: Int32) -> ProjectionError {
        ProjectionError(
            code: .fileOperationFailed,
            message: "\(operation) failed for \(path)",
            underlying: String(cString: strerror(code))
        )
    }
}
