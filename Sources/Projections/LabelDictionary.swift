import GRDB

/// The label dictionary `projection_labels` (migration `v4`), cached in memory for one write
/// transaction: component, operation and error type text ↔ small integer ids.
///
/// Ids are handed out in order of first use, so replaying the same ledger gives the same ids.
struct LabelDictionary {
    /// The `kind` column of `projection_labels`.
    enum Kind: String {
        case component
        case operation
        case errorType = "error_type"
    }

    private struct Key: Hashable {
        var kind: Kind
        var text: String
    }

    private var ids: [Key: Int64] = [:]
    /// The text of every id in ``ids``.
    private var texts: [Int64: String] = [:]

    /// Loads every label of `db`.
    ///
    /// - Throws: `DatabaseError`.
    init(_ db: Database) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT id, kind, text FROM projection_labels")
        while let row = try rows.next() {
            guard let kind = Kind(rawValue: row[1]) else { continue }
            let id: Int64 = row[0], text: String = row[2]
            ids[Key(kind: kind, text: text)] = id
            texts[id] = text
        }
    }

    /// The id of `text` as a `kind` label, added to `projection_labels` when new.
    ///
    /// - Throws: `DatabaseError` when the insert fails.
    mutating func id(_ kind: Kind, _ text: String, in db: Database) throws -> Int64 {
        let key = Key(kind: kind, text: text)
        if let id = ids[key] { return id }
        let insert = try db.cachedStatement(sql: "INSERT INTO projection_labels (kind, text) VALUES (?, ?)")
        try insert.execute(arguments: [kind.rawValue, text])
        let id = db.lastInsertedRowID
        ids[key] = id
        texts[id] = text
        return id
    }

    /// The text of label `id`, when it is one of `projection_labels`.
    func text(of id: Int64) -> String? {
        texts[id]
    }
}
