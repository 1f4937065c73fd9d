import GRDB

/// What a projection file says about itself: the SQLite `application_id` that marks it as a
/// proxy-ledger projection, and `projection_metadata`, which names the ledger it was built from.
///
/// - `PRAGMA application_id` is ``applicationID`` (the bytes `PrLg`), set by migration `v5`.
///   A file made before `v5` is recognised by its migrations table instead, and gets the id on its
///   next write.
/// - `projection_metadata(key TEXT PRIMARY KEY, value TEXT NOT NULL)` holds `ledger_id` (the
///   id in the ledger's `LEDGER` marker) and `ledger_path` (where that ledger was when the
///   projection was bound, for messages).
///
/// Related SQLite documentation: <https://www.sqlite.org/pragma.html#pragma_application_id>.
enum ProjectionMetadata {
    /// `application_id` of every projection file: `0x50724C67`, the ASCII bytes `PrLg`.
    static let applicationID: Int32 = 0x5072_4C67

    /// Migration `v5`: the metadata table and the application id.
    static func v5(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE projection_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                PRAGMA application_id = \(applicationID);
                """)
    }

    /// The ledger the projection is bound to, if any.
    static func boundLedger(in db: Database) throws -> LedgerIdentity? {
        let rows = try Row.fetchAll(
            db, sql: "SELECT key, value FROM projection_metadata WHERE key IN ('ledger_id', 'ledger_path')")
        let values = Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as String, $0[1] as String) })
        return values["ledger_id"].map { LedgerIdentity(id: $0, path: values["ledger_path"] ?? "an unknown folder") }
    }

    /// Binds the projection to `ledger` when it is bound to none; does nothing when it is bound to
    /// the same id.
    ///
    /// - Throws: ``ProjectionError`` `.ledgerMismatch` naming both ledgers when it is bound to
    ///   another one; `DatabaseError`.
    static func bind(to ledger: LedgerIdentity, databasePath: String, in db: Database) throws {
        if let bound = try boundLedger(in: db) {
            guard bound.id != ledger.id else { return }
            throw ProjectionError(
                code: .ledgerMismatch,
                message: """
                    the projection \(databasePath) was built from the ledger \(bound.path) (id \(bound.id)), \
                    not from \(ledger.path) (id \(ledger.id)); give this ledger its own --db, or rebuild the \
                    projection from it with `proxy-ledger replay --rebuild`
                    """)
        }
        try db.execute(
            sql: "INSERT OR REPLACE INTO projection_metadata (key, value) VALUES ('ledger_id', ?), ('ledger_path', ?)",
            arguments: [ledger.id, ledger.path])
    }
}
