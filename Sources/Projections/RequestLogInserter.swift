import GRDB
internal import GRDBSQLite
import Ledger
import Foundation

/// Binds and steps the `proxy_request_logs` INSERT (the `v4` layout) through the SQLite C API.
///
/// The bulk path's hot loop. Building GRDB `StatementArguments` costs an array, 22 boxed
/// `DatabaseValue`s and a copy of every string per row; here the `event_id` bytes and all text of a
/// row are written into one reused byte buffer and bound without copying (`SQLITE_STATIC`), valid until the statement
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
    private var spans: [(parameter: Int32, range: Range<Int>?, blob: Bool)] = []

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
        spans.reserveCapacity(4)
    }

    /// Inserts `record` unless its `event_id` is stored already, with its labels as the
    /// `projection_labels` ids `component`, `operation` and `errorType` (from ``LabelDictionary``).
    ///
    /// - Returns: `true` when a row was inserted, `false` for a duplicate `event_id`.
    /// - Throws: `DatabaseError` with the SQLite result code (a CHECK constraint, I/O).
    mutating func insert(_ record: LedgerRecord, component: Int64, operation: Int64, errorType: Int64?) throws -> Bool {
        let event = record.event
        text.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        func add(_ parameter: Int32, _ value: String?, identifier: Bool = false) {
            guard let value else {
                spans.append((parameter, nil, false))
                return
            }
            let start = text.count
            if identifier && TextEncoding.appendUUIDBytes(of: value, to: &text) {
                spans.append((parameter, start..<text.count, true))
                return
            }
            text.append(contentsOf: value.utf8)
            spans.append((parameter, start..<text.count, false))
        }
        withUnsafeBytes(of: event.eventID.uuid) { text.append(contentsOf: $0) }  // ?1, a BLOB
        add(5, event.videoID)
        add(6, event.channelName)
        add(7, event.jobID, identifier: true)
        add(8, event.correlationID, identifier: true)

        let handle = statement.sqliteStatement
        func bind(_ parameter: Int32, _ value: Int64?) {
            if let value {
                sqlite3_bind_int64(handle, parameter, value)
            } else {
                sqlite3_bind_null(handle, parameter)
            }
        }
        bind(2, event.timestamp.microseconds)
        bind(3, component)
        bind(4, operation)
        bind(9, event.success ? 1 : 0)
        bind(10, errorType)
        bind(11, event.estimatedBytes)
        bind(12, event.durationMS)
        bind(13, event.requestBytes)
        bind(14, event.responseBytes)
        bind(15, event.httpStatus.map(Int64.init))
        bind(16, event.bytesMeasured ? 1 : 0)
        bind(17, event.proxied ? 1 : 0)
        bind(18, Int64(event.attempt))
        bind(19, Int64(record.position.partition))
        bind(20, Int64(bitPattern: record.position.sequence))
        bind(21, Int64(record.schemaVersion))

        let code: Int32 = text.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return SQLITE_MISUSE }
            sqlite3_bind_blob(handle, 1, base, 16, nil)
            let characters = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
            for span in spans {
                if let range = span.range, span.blob {
                    sqlite3_bind_blob(handle, span.parameter, base + range.lowerBound, Int32(range.count), nil)
                } else if let range = span.range {
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
