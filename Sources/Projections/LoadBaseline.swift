import Foundation
import GRDB
internal import GRDBSQLite

/// The ceiling for a rebuild on this machine, for `make bench`: the rows of `proxy_request_logs`
/// loaded the fastest plain way, through the SQLite C API.
///
/// The rows are read from a rebuilt projection into memory as typed columns first (not timed);
/// then one prepared INSERT is bound (`sqlite3_bind_int64`, `sqlite3_bind_text` with
/// `SQLITE_STATIC`) and stepped per row inside one transaction, with the journal and fsync off, and
/// the table's indexes are created after the load.
///
/// Related SQLite documentation: <https://www.sqlite.org/c3ref/bind_blob.html>.
public enum LoadBaseline {
    /// - Parameters:
    ///   - rebuilt: A projection file (from `replay --rebuild`) whose rows to load.
    ///   - target: A path for the throw-away file the rows are loaded into.
    /// - Returns: Rows per second.
    /// - Throws: `DatabaseError` when a statement fails.
    public static func rawLoad(rebuilt: String, into target: String) throws -> Double {
        let source = try DatabaseQueue(path: rebuilt)
        let (table, indexes, columns, rows) = try source.read { db in
            let table = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'proxy_request_logs'") ?? ""
            let indexes = try String.fetchAll(
                db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'proxy_request_logs' AND sql IS NOT NULL")
            let columns = try db.columns(in: "proxy_request_logs").count
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM proxy_request_logs").map { row in Array(row.databaseValues).map(Cell.init) }
            return (table, indexes, columns, rows)
        }
        try source.close()
        defer { for row in rows { for cell in row { cell.deallocate() } } }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA page_size = 8192; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF")
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY")
        }
        let queue = try DatabaseQueue(path: target, configuration: configuration)
        defer { try? queue.close() }
        let started = ContinuousClock.now
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: table)
            try db.inTransaction {
                let insert = try db.makeStatement(sql: "INSERT INTO proxy_request_logs VALUES (\(Array(repeating: "?", count: columns).joined(separator: ",")))")
                for row in rows { try step(insert, row) }
                return .commit
            }
            for index in indexes { try db.execute(sql: index) }
        }
        let elapsed = ContinuousClock.now - started
        return Double(rows.count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// One column value, kept as the C API binds it (text in memory of its own, freed after the
    /// load, so `SQLITE_STATIC` binding is sound).
    private enum Cell {
        case null
        case integer(Int64)
        case real(Double)
        case text(UnsafeMutableBufferPointer<UInt8>)
        case blob(UnsafeMutableBufferPointer<UInt8>)

        init(_ value: DatabaseValue) {
            switch value.storage {
            case .null: self = .null
            case .int64(let number): self = .integer(number)
            case .double(let number): self = .real(number)
            case .string(let text): self = .text(Self.copy(Array(text.utf8)))
            case .blob(let data): self = .blob(Self.copy(Array(data)))
            }
        }

        /// Frees the bytes of a text or blob cell.
        func deallocate() {
            switch self {
            case .text(let buffer), .blob(let buffer): buffer.deallocate()
            case .null, .integer, .real: break
            }
        }

        private static func copy(_ bytes: [UInt8]) -> UnsafeMutableBufferPointer<UInt8> {
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, bytes.count))
            _ = buffer.initialize(from: bytes)
            return UnsafeMutableBufferPointer(rebasing: buffer[..<bytes.count])
        }
    }

    private static func step(_ statement: Statement, _ row: [Cell]) throws {
        let handle = statement.sqliteStatement
        for (index, cell) in row.enumerated() {
            let parameter = Int32(index + 1)
            switch cell {
            case .null: sqlite3_bind_null(handle, parameter)
            case .integer(let number): sqlite3_bind_int64(handle, parameter, number)
            case .real(let number): sqlite3_bind_double(handle, parameter, number)
            case .text(let buffer):
                buffer.baseAddress.map { base in
                    base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                        _ = sqlite3_bind_text(handle, parameter, $0, Int32(buffer.count), nil)
                    }
                }
            case .blob(let buffer):
                _ = sqlite3_bind_blob(handle, parameter, buffer.baseAddress, Int32(buffer.count), nil)
            }
        }
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else { throw DatabaseError(resultCode: ResultCode(rawValue: code)) }
    }
}
