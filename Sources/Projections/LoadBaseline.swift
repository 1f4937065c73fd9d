import Foundation
import GRDB
import Ledger
internal import GRDBSQLite

/// The ceiling for a rebuild on this machine, for `make bench`: everything a rebuild produces
/// loaded the fastest plain way, through the SQLite C API.
///
/// The target file gets the schema from ``ProjectionSchema/migrator`` (the same DDL as a
/// rebuild), with the same secondary indexes dropped (not timed). Every table's final rows
/// (`proxy_request_logs`, `projection_labels`, both hourly rollups, the checkpoints and any other
/// table of the migrator) are read from a rebuilt projection into memory as typed columns first
/// (not timed); then, inside one transaction with the journal and fsync off, one prepared INSERT
/// per table is bound (`sqlite3_bind_int64`, `sqlite3_bind_text` with `SQLITE_STATIC`) and stepped
/// per row, and the secondary indexes are created after the load. The rate is
/// `proxy_request_logs` rows per second of that whole load, so it compares with a rebuild's
/// events per second.
///
/// Related SQLite documentation: <https://www.sqlite.org/c3ref/bind_blob.html>.
public enum LoadBaseline {
    /// One table's rows, read from the rebuilt file.
    private struct TableRows {
        var name: String
        var columns: [String]
        var rows: [[Cell]]
    }

    /// - Parameters:
    ///   - rebuilt: A projection file (from `replay --rebuild`) whose rows to load.
    ///   - target: A path for the throw-away file the rows are loaded into.
    /// - Returns: `proxy_request_logs` rows per second of loading every table and index.
    /// - Throws: `DatabaseError` when a statement fails.
    public static func rawLoad(rebuilt: String, into target: String) throws -> Double {
        let source = try DatabaseQueue(path: rebuilt)
        let (tables, indexes) = try source.read { db in
            let names = try String.fetchAll(
                db,
                sql: """
                    SELECT name FROM sqlite_master WHERE type = 'table'
                    AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations' ORDER BY name
                    """)
            let tables = try names.map { name in
                let columns = try db.columns(in: name).map(\.name)
                let list = columns.map { "\"\($0)\"" }.joined(separator: ",")
                let rows = try Row.fetchAll(db, sql: "SELECT \(list) FROM \"\(name)\"").map { row in
                    Array(row.databaseValues).map(Cell.init)
                }
                return TableRows(name: name, columns: columns, rows: rows)
            }
            let indexes = try Row.fetchAll(
                db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).map { row -> (name: String, sql: String) in (row[0], row[1]) }
            return (tables, indexes)
        }
        try source.close()
        defer { for table in tables { for row in table.rows { for cell in row { cell.deallocate() } } } }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA page_size = 8192; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF")
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY")
        }
        let queue = try DatabaseQueue(path: target, configuration: configuration)
        defer { try? queue.close() }
        try ProjectionSchema.migrator.migrate(queue)
        try queue.write { db in
            for table in tables { try db.execute(sql: "DELETE FROM \"\(table.name)\"") }
            for index in indexes { try db.execute(sql: "DROP INDEX IF EXISTS \"\(index.name)\"") }
        }
        let started = ContinuousClock.now
        try queue.writeWithoutTransaction { db in
            try db.inTransaction {
                for table in tables where !table.rows.isEmpty {
                    let columns = table.columns.map { "\"\($0)\"" }.joined(separator: ",")
                    let parameters = Array(repeating: "?", count: table.columns.count).joined(separator: ",")
                    let insert = try db.makeStatement(sql: "INSERT INTO \"\(table.name)\" (\(columns)) VALUES (\(parameters))")
                    for row in table.rows { try step(insert, row) }
                }
                return .commit
            }
            for index in indexes { try db.execute(sql: index.sql) }
        }
        let elapsed = ContinuousClock.now - started
        let requestRows = tables.first { $0.name == "proxy_request_logs" }?.rows.count ?? 0
        return Double(requestRows) / elapsed.inSeconds
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
