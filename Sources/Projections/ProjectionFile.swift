import Foundation
import GRDB

/// How a command opens the projection database.
public enum ProjectionAccess: Sendable, Hashable {
    /// Reads only: the file must be an up-to-date projection; nothing is migrated or written.
    case readOnly
    /// Reads and writes: a missing or empty file becomes a new projection, an older one is migrated.
    case readWrite
}

/// Checks what is at a projection path before any connection that could write to it is opened:
/// a `DatabasePool` switches the file to WAL, and the migrator adds tables, so another
/// application's database must be refused first.
enum ProjectionFile {
    /// What a read-only look at the file found.
    struct Contents {
        var applicationID: Int32
        var tables: [String]
        var migrations: Set<String>
        var isCurrent: Bool
    }

    /// Throws unless `path` may be opened with `access`. With `replacing` (a rebuild, which
    /// replaces the file whole), a file SQLite cannot read passes: a damaged projection must
    /// still be replaceable; another application's database is still refused.
    ///
    /// - Throws: ``ProjectionError`` `.notFound` (read-only: no file); `.notAProjection` (a
    ///   folder, an empty file for reading, a file that is not SQLite, another application's
    ///   database); `.migrationNeeded` (read-only: a projection an older release made);
    ///   `.openFailed` when SQLite cannot read the file for another reason.
    static func check(_ path: String, access: ProjectionAccess, replacing: Bool = false) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            guard access == .readOnly else { return }
            throw ProjectionError.notFound(path)
        }
        guard !isDirectory.boolValue else {
            throw ProjectionError(code: .notAProjection, message: "\(path) is a folder, not a projection database")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if size == 0 {
            guard access == .readOnly else { return }
            throw ProjectionError(
                code: .notAProjection,
                message: "\(path) is an empty file, not a projection database; build one with `proxy-ledger replay --db \(path)`")
        }
        let contents: Contents
        do {
            contents = try read(path)
        } catch let error as ProjectionError where replacing && error.code != .notFound {
            return
        }
        try judge(contents, path: path, access: access)
    }

    private static func judge(_ contents: Contents, path: String, access: ProjectionAccess) throws {
        // Before `v5`: the migrations table, or only the vendor tables an import made on a new path.
        let ours = contents.applicationID == ProjectionMetadata.applicationID
            || (contents.migrations.contains("v1") && contents.tables.contains("proxy_request_logs"))
            || (!contents.tables.isEmpty && contents.tables.allSatisfy { $0.hasPrefix("vendor_usage_") })
        if !ours {
            let empty = contents.tables.isEmpty && contents.migrations.isEmpty && contents.applicationID == 0
            if empty && access == .readWrite { return }
            let what = contents.tables.isEmpty
                ? "an SQLite database without tables"
                : "an SQLite database of another application (tables: \(contents.tables.prefix(5).joined(separator: ", "))"
                    + (contents.tables.count > 5 ? ", …)" : ")")
            throw ProjectionError(
                code: .notAProjection,
                message: "\(path) is \(what), not a proxy-ledger projection; give --db a projection file or a new path")
        }
        if access == .readOnly && !contents.isCurrent {
            throw ProjectionError(
                code: .migrationNeeded,
                message: "the projection \(path) was written by an older proxy-ledger; "
                    + "migrate it once with `proxy-ledger replay --db \(path)`")
        }
    }

    private static func read(_ path: String) throws -> Contents {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "proxy-ledger.projections.check"
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in
                let tables = try String.fetchAll(
                    db,
                    sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                let migrations = tables.contains("grdb_migrations")
                    ? Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")) : []
                return Contents(
                    applicationID: try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                    tables: tables.filter { $0 != "grdb_migrations" },
                    migrations: migrations,
                    isCurrent: try ProjectionSchema.migrator.hasCompletedMigrations(db))
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw ProjectionError(code: .notAProjection, message: "\(path) is not an SQLite database, not a projection")
        } catch {
            throw ProjectionError(code: .openFailed, message: "reading \(path) failed", underlying: String(describing: error))
        }
    }
}
