import Foundation
import GRDB
public import Ledger

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Projector {
    /// Replays the whole ledger into a fresh database and atomically swaps it in at `databasePath`.
    ///
    /// Steps: build `<databasePath>.rebuild-<pid>` (migrated schema, secondary indexes dropped
    /// during the bulk load and created after it, `proxy_usage_hourly_by_key` filled in one
    /// upserting pass per kind after it), copy the tables the ledger cannot recreate (the imported vendor
    /// figures, see ``CarriedTables``) from the current file, switch it to WAL and checkpoint,
    /// close and fsync it, `rename(2)` it over `databasePath`, remove the old file's stale
    /// `-wal`/`-shm`, and fsync the directory. Readers see the old projection or the new one,
    /// never a half-built one. Replaying the same ledger twice gives identical rows.
    ///
    /// Stop the projector (and `reconcile` imports) writing to `databasePath` first, and close
    /// open ``ProjectionStore``s on it: an open pool's existing connections keep the replaced file while its new connections
    /// open the new one. Open a new store after the swap.
    ///
    /// - Parameters:
    ///   - ledger: The ledger to replay from sequence 0 of every partition, read ahead on a
    ///     thread of its own while SQLite inserts (``PrefetchingRecordSource``).
    ///   - databasePath: The projection file to replace (it need not exist).
    ///   - progress: Called after each committed transaction.
    /// - Returns: Counts and per-partition checkpoints of the new database.
    /// - Throws: ``ProjectionError`` `.notAProjection` when `databasePath` is a folder or another
    ///   application's SQLite database (a file SQLite cannot read at all is replaced);
    ///   `.ledgerReadFailed`, `.writeFailed`, `.openFailed`, `.fileOperationFailed`; the target
    ///   is then untouched and the temporary file removed.
    @discardableResult
    public static func rebuild(
        ledger: LedgerReader,
        databasePath: String,
        progress: ((ReplayProgress) -> Void)? = nil
    ) throws -> ReplayResult {
        try rebuild(from: PrefetchingRecordSource(ledger), databasePath: databasePath, batchSize: 50_000, progress: progress)
    }

    /// Rebuilds `databasePath` from any record source; see ``rebuild(ledger:databasePath:progress:)``.
    ///
    /// - Parameters:
    ///   - source: The records to replay, for example a `LedgerReader`.
    ///   - databasePath: The projection file to replace.
    ///   - batchSize: Records per write transaction (default 50,000; memory grows with it).
    ///   - progress: Called after each committed transaction.
    /// - Returns: Counts and per-partition checkpoints of the new database.
    /// - Throws: ``ProjectionError`` as for ``rebuild(ledger:databasePath:progress:)``.
    @discardableResult
    public static func rebuild(
        from source: some LedgerRecordSource,
        databasePath: String,
        batchSize: Int = 50_000,
        progress: ((ReplayProgress) -> Void)? = nil
    ) throws -> ReplayResult {
        try ProjectionFile.check(databasePath, access: .readWrite, replacing: true)
        let temporaryPath = "\(databasePath).rebuild-\(getpid())"
        try removeDatabaseFiles(temporaryPath)
        do {
            let result = try buildDatabase(
                at: temporaryPath, replacing: databasePath, from: source, batchSize: batchSize, progress: progress
            )
            try fsyncPath(temporaryPath, flags: O_RDONLY)
            guard rename(temporaryPath, databasePath) == 0 else {
                throw ProjectionError.posix("rename to \(databasePath)", path: temporaryPath, errno: errno)
            }
            // The old file's WAL must not be replayed into the new file.
            for suffix in ["-wal", "-shm"] {
                try removeFile(databasePath + suffix)
            }
            let directory = (databasePath as NSString).deletingLastPathComponent
            try fsyncPath(directory.isEmpty ? "." : directory, flags: O_RDONLY | O_DIRECTORY)
            return result
        } catch {
            try? removeDatabaseFiles(temporaryPath)
            throw error
        }
    }

    /// Creates, fills and closes the database at `path` (which must not exist), carrying the
    /// non-ledger tables of `oldPath` over.
    private static func buildDatabase(
        at path: String,
        replacing oldPath: String,
        from source: some LedgerRecordSource,
        batchSize: Int,
        progress: ((ReplayProgress) -> Void)?
    ) throws -> ReplayResult {
        var configuration = Configuration()
        configuration.label = "proxy-ledger.projections.rebuild"
        configuration.prepareDatabase { db in
            // A private, throw-away file until the rename (any failure deletes it): no rollback
            // journal, no fsync, no file locking per transaction. The file is fsynced once before
            // it is swapped in.
            try db.execute(sql: "PRAGMA page_size = 8192")
            try db.execute(sql: "PRAGMA journal_mode = OFF")
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            try db.execute(sql: "PRAGMA synchronous = OFF")
            try db.execute(sql: "PRAGMA cache_size = -131072")  // KiB: 128 MiB
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        let queue = try ProjectionError.wrapping(.openFailed, "creating the rebuild database \(path) failed") {
            try DatabaseQueue(path: path, configuration: configuration)
        }
        try ProjectionError.wrapping(.migrationFailed, "migrating the rebuild database \(path) failed") {
            try ProjectionSchema.migrator.migrate(queue)
            try queue.write { db in
                for index in ProjectionSchema.secondaryIndexes {
                    try db.execute(sql: "DROP INDEX \(index.name)")
                }
            }
        }
        let result = try ReplayEngine.replay(
            from: source, into: queue, batchSize: batchSize, keyedRollup: false, deferredRollup: true,
            progress: progress)
        try ProjectionError.wrapping(.writeFailed, "finishing the rebuild database \(path) failed") {
            try queue.write { db in
                try ProjectionSchema.fillByKeyRollup(db)
                for index in ProjectionSchema.secondaryIndexes {
                    try db.execute(sql: index.sql)
                }
            }
            try queue.writeWithoutTransaction { db in
                try CarriedTables.copy(from: oldPath, into: db)
                // The same retention as the file replaced: rows before its horizon go again.
                if let horizon = try Retention.horizon(in: db) {
                    try db.inTransaction {
                        _ = try Retention.prune(before: horizon, in: db)
                        return .commit
                    }
                }
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.checkpoint(.truncate)
            }
            try queue.close()
        }
        return result
    }

    /// Removes `path` and its `-wal`, `-shm` and `-journal` companions, when present.
    private static func removeDatabaseFiles(_ path: String) throws {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            try removeFile(path + suffix)
        }
    }

    /// `unlink(2)`, ignoring `ENOENT`.
    private static func removeFile(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw ProjectionError.posix("unlink", path: path, errno: errno)
        }
    }

    /// Opens `path` with `flags`, `fsync(2)`s it and closes it.
    private static func fsyncPath(_ path: String, flags: Int32) throws {
        let descriptor = open(path, flags)
        guard descriptor >= 0 else {
            throw ProjectionError.posix("open", path: path, errno: errno)
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw ProjectionError.posix("fsync", path: path, errno: errno)
        }
    }
}
