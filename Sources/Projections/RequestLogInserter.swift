import GRDB
internal import GRDBSQLite
import Ledger

/// Binds and steps the `proxy_request_logs` INSERT through the SQLite C API.
///
/// The bulk path's hot loop. Building GRDB `StatementArguments` costs an array, 22 boxed
/// `DatabaseValue`s and a copy of every string per row; here all text of a row is written into
/// one reused byte buffer and bound without copying (`SQLITE_STATIC`), valid until the statement
/// is reset right after its step. The statement is GRDB's cached statement of the connection and
/// runs inside the GRDB-managed write transaction; no GRDB transaction observer is involved.
///
/// Related SQLite documentation: <https://www.sqlite.org/c3ref/bind_blob.html>.
struct RequestLogInserter {
    private let statement: Statement
    private let connection: SQLiteConnection
    /// The UTF-8 text of the current row.
    private var text: [UInt8] = []
    /// Per text parameter index, the byte range in ``text``, or `nil` for NULL.
    private var spans: [(parameter: Int32, range: Range<Int>?)] = []

    /// Prepares (or reuses) the INSERT on `db`.
    ///
    /// - Throws: `DatabaseError` when the statement does not compile; ``ProjectionError``
    ///   `.writeFailed` when the connection is closed.
    init(_ db: Database) throws {
        statement = try db.cachedStatement(sql: ProjectionSchema.insertLogSQL)
        guard let connection = db.sqliteConnection else {
            throw ProjectionError(code: .writeFailed, message: "the database connection is closed")
        }
        self.connection = connection
        text.reserveCapacity(512)
        spans.reserveCapacity(9)
    }

    /// Inserts `record` unless its `event_id` is stored already.
    ///
    /// - Returns: `true` when a row was inserted, `false` for a duplicate `event_id`.
    /// - Throws: `DatabaseError` with the SQLite result code (a CHECK constraint, I/O).
    mutating func insert(_ record: LedgerRecord) throws -> Bool {
        let event = record.event
        text.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        func add(_ parameter: Int32, _ value: String?) {
            guard let value else {
                spans.append((parameter, nil))
                return
            }
            let start = text.count
            text.append(contentsOf: value.utf8)
            spans.append((parameter, start..<text.count))
        }
        var start = text.count
        TextEncoding.appendLowercase(event.eventID, to: &text)
        spans.append((1, start..<text.count))
        start = text.count
        TextEncoding.appendRFC3339(microseconds: event.timestamp.microseconds, to: &text)
        spans.append((2, start..<text.count))
        add(4, event.component)
        add(5, event.operation)
        add(6, event.videoID)
        add(7, event.channelName)
        add(8, event.jobID)
        add(9, event.correlationID)
        add(11, event.errorType?.rawValue)

        let handle = statement.sqliteStatement
        func bind(_ parameter: Int32, _ value: Int64?) {
            if let value {
                sqlite3_bind_int64(handle, parameter, value)
            } else {
                sqlite3_bind_null(handle, parameter)
            }
        }
        bind(3, event.timestamp.microseconds)
        bind(10, event.success ? 1 : 0)
        bind(12, event.estimatedBytes)
        bind(13, event.durationMS)
        bind(14, event.requestBytes)
        bind(15, event.responseBytes)
        bind(16, event.httpStatus.map(Int64.init))
        bind(17, event.bytesMeasured ? 1 : 0)
        bind(18, event.proxied ? 1 : 0)
        bind(19, Int64(event.attempt))
        bind(20, Int64(record.position.partition))
        bind(21, Int64(bitPattern: record.position.sequence))
        bind(22, Int64(record.schemaVersion))

        let code: Int32 = text.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return SQLITE_MISUSE }
            let characters = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
            for span in spans {
                if let range = span.range {
                    sqlite3_bind_text(handle, span.parameter, characters + range.lowerBound, Int32(range.count), nil)
                } else {
                    sqlite3_bind_null(handle, span.parameter)
                }
            }
            let code = sqlite3_step(handle)
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)  // no pointer into `text` outlives this closure
            return code
        }
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code),
                message: String(cString: sqlite3_errmsg(connection)),
                sql: statement.sql
            )
        }
        return sqlite3_changes(connection) > 0
    }
}
