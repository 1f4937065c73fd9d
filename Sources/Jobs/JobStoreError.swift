import Foundation

/// An error thrown by a ``JobStore``.
///
/// A struct with an extensible ``Code``, like the projection store's errors, so new kinds of
/// failure do not break callers that switch over codes. The ``description`` is safe to log: it
/// holds job ids, file paths and SQLite result codes, never payload secrets or bound values.
public struct JobStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        /// A stable, lowercase identifier such as `"lease_lost"`.
        public var rawValue: String

        /// Creates a code from its identifier.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// No job has the given id.
        public static let notFound = Code(rawValue: "not_found")
        /// The caller's attempt no longer holds the job (its lease was taken over, or the job was
        /// cancelled): stop working on it and drop its result.
        public static let leaseLost = Code(rawValue: "lease_lost")
        /// The job is in a state that does not allow the operation (for example retrying a completed job).
        public static let invalidState = Code(rawValue: "invalid_state")
        /// A request is malformed (a bad video id, a limit below 1, max attempts below 1).
        public static let invalidRequest = Code(rawValue: "invalid_request")
        /// The jobs database could not be opened or configured.
        public static let openFailed = Code(rawValue: "open_failed")
        /// A schema migration failed.
        public static let migrationFailed = Code(rawValue: "migration_failed")
        /// A write transaction failed and was rolled back.
        public static let writeFailed = Code(rawValue: "write_failed")
        /// A read query failed.
        public static let readFailed = Code(rawValue: "read_failed")

        /// The raw identifier.
        public var description: String { rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation that says what to do; safe to log.
    public var message: String
    /// The description of the underlying error (GRDB `DatabaseError`), if any.
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

    /// `"<code>: <message> (<underlying>)"`.
    public var description: String {
        if let underlying {
            return "\(code): \(message) (\(underlying))"
        }
        return "\(code): \(message)"
    }

    static func invalidRequest(_ message: String) -> JobStoreError {
        JobStoreError(code: .invalidRequest, message: message)
    }

    static func notFound(_ id: String) -> JobStoreError {
        JobStoreError(code: .notFound, message: "no job \(id); `proxy-ledger jobs list` shows the job ids")
    }

    /// Runs `body`, converting any non-`JobStoreError` into one with `code`.
    static func wrapping<T>(
        _ code: Code, _ message: @autoclosure () -> String, _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch let error as JobStoreError {
            throw error
        } catch {
            throw JobStoreError(code: code, message: message(), underlying: String(describing: error))
        }
    }

    /// The synchronous form of ``wrapping(_:_:_:)``.
    static func wrappingSync<T>(_ code: Code, _ message: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as JobStoreError {
            throw error
        } catch {
            throw JobStoreError(code: code, message: message(), underlying: String(describing: error))
        }
    }
}
