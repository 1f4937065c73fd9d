import Foundation
import GRDB

/// Tables that live in the projection file but do not come from the ledger, so a rebuild cannot
/// recreate them: it copies them from the file it replaces instead.
///
/// These are the vendor figures that `proxy-ledger reconcile` imports (``VendorTables``:
/// `vendor_usage_points` and the hourly and daily rows derived from it) and the retention state
/// (`projection_retention`, `proxy_pruned_event_ids`). The migrator creates every one of them in
/// the new file; a table of the old file that the new one lacks is created from the old file's
/// own `CREATE TABLE` text, with its indexes. A table missing from the old file is skipped.
///
/// Related SQLite documentation: <https://www.sqlite.org/lang_attach.html>,
/// <https://www.sqlite.org/schematab.html>.
enum CarriedTables {
    /// The names of the carried tables.
    static let names = [
        "vendor_usage_points", "vendor_usage_daily", "vendor_usage_hourly", "projection_retention", "proxy_pruned_event_ids",
    ]

    /// Copies the carried tables of the database at `oldPath` into `db` (the new file), in one
    /// transaction. Does nothing when `oldPath` does not exist or is not a readable SQLite
    /// database (a rebuild must still be able to replace a damaged projection; re-import the
    /// vendor figures then).
    ///
    /// - Parameters:
    ///   - oldPath: The projection file being replaced.
    ///   - db: A connection to the new file, outside any transaction.
    /// - Returns: Rows copied per table.
    /// - Throws: `DatabaseError` when copying fails after the old schema was read.
    @discardableResult
    static func copy(from oldPath: String, into db: Database) throws -> [String: Int] {
        guard FileManager.default.fileExists(atPath: oldPath) else { return [:] }
        let placeholders = names.map { _ in "?" }.joined(separator: ", ")
        let definitions: [(type: String, name: String, sql: String)]
        do {
            try db.execute(sql: "ATTACH DATABASE ? AS carried", arguments: [oldPath])
            definitions = try Row.fetchAll(
                db,
                sql: """
                    SELECT type, name, sql FROM carried.sqlite_master
                    WHERE type IN ('table', 'index') AND tbl_name IN (\(placeholders)) AND sql IS NOT NULL
                    ORDER BY type = 'index', name
                    """,
                arguments: StatementArguments(names)
            ).map { (type: $0[0], name: $0[1], sql: $0[2]) }
        } catch {
            try? db.execute(sql: "DETACH DATABASE carried")
            return [:]  // not a database, or unreadable: nothing to carry
        }
        defer { try? db.execute(sql: "DETACH DATABASE carried") }
        func existsInMain(_ name: String) throws -> Bool {
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM main.sqlite_master WHERE name = ?)", arguments: [name]
            ) == true
        }
        var copied: [String: Int] = [:]
        try db.inTransaction {
            for definition in definitions {
                if definition.type == "table" {
                    if try !existsInMain(definition.name) {
                        try db.execute(sql: definition.sql)
                    }
                    let quoted = definition.name.quotedDatabaseIdentifier
                    try db.execute(sql: "INSERT INTO main.\(quoted) SELECT * FROM carried.\(quoted)")
                    copied[definition.name] = db.changesCount
                } else if try !existsInMain(definition.name) {
                    try db.execute(sql: definition.sql)
                }
            }
            return .commit
        }
        return copied
    }
}
