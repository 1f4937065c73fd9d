import Foundation
import Ledger
public import Projections

extension VendorUsageStore {
    /// One import in progress, fed one record at a time so that a file of any size can be stored
    /// without holding its records.
    ///
    /// ``add(_:)`` groups the records in `[from, to)` into identical records per instant in a
    /// temporary table of the database's connection (a file SQLite deletes on close; writing it
    /// locks nothing in the database itself); ``commit(utcOffsetSeconds:)`` then replaces the
    /// stored points inside the import's span in one transaction, as
    /// ``VendorUsageStore/saveReportingChange(_:databasePath:from:to:utcOffsetSeconds:)`` does.
    /// Nothing is stored before `commit`; an import dropped without it stores nothing.
    public final class Import {
        /// Where the figures come from.
        public let source: VendorSource
        /// The projection database (created if missing, when the first record in the window is staged).
        public let databasePath: String
        /// Window start, UTC µs, inclusive.
        public let from: Int64
        /// Window end, UTC µs, exclusive.
        public let to: Int64
        private var store: ProjectionStore?
        /// `true` when the import opened ``store`` itself and closes it after ``commit(utcOffsetSeconds:)``.
        private let ownsStore: Bool
        private var staging: VendorPointsImport?
        private var pending: [VendorPoint] = []
        private static let batch = 8_192

        /// Starts an import; the database is not opened until a record in the window is staged.
        public init(source: VendorSource, databasePath: String, from: Int64, to: Int64) {
            self.source = source
            self.databasePath = databasePath
            self.from = from
            self.to = to
            self.ownsStore = true
        }

        /// Starts an import into a store the caller opened for writing and closes (one pool per
        /// file per process, shared with the reads of the same command).
        public init(source: VendorSource, store: ProjectionStore, from: Int64, to: Int64) {
            self.source = source
            self.databasePath = store.path
            self.from = from
            self.to = to
            self.store = store
            self.ownsStore = false
        }

        deinit { if ownsStore { try? store?.close() } }

        /// Stages `record` when its time is in `[from, to)`; ignores it otherwise.
        ///
        /// - Throws: ``ReconciliationError`` `.outOfRange` when it has negative bytes or an
        ///   impossible time; `.storageFailed` when SQLite fails.
        public func add(_ record: VendorRecord) throws(ReconciliationError) {
            let time = record.timestamp.microseconds
            guard (from..<to).contains(time) else { return }
            guard record.bytes >= 0, (record.requestBytes ?? 0) >= 0, (record.responseBytes ?? 0) >= 0,
                VendorPoint.times.contains(time)
            else {
                throw ReconciliationError(
                    .outOfRange,
                    "a vendor record at \(record.timestamp.rfc3339) has negative bytes or an impossible time")
            }
            pending.append(
                VendorPoint(
                    time: time, bytes: record.bytes, requestBytes: record.requestBytes, responseBytes: record.responseBytes))
            if pending.count >= Self.batch { try flush() }
        }

        /// Stores the staged points and recomputes the hourly and daily rows they touch, in one
        /// transaction; see ``VendorUsageStore`` for what an import replaces.
        ///
        /// - Parameter utcOffsetSeconds: The offset days are aligned to, in seconds east of UTC.
        /// - Returns: What the import changed; an empty change when no record was in the window.
        /// - Throws: ``ReconciliationError`` `.outOfRange` when a sum does not fit in Int64
        ///   (nothing is stored); `.storageFailed` when SQLite fails.
        public func commit(utcOffsetSeconds: Int = 0) throws(ReconciliationError) -> Change {
            try flush()
            guard let store, let staging else { return .empty }
            defer {
                if ownsStore {
                    try? store.close()
                    self.store = nil
                }
                self.staging = nil
            }
            return try storing { try staging.commit(utcOffsetSeconds: utcOffsetSeconds) }
        }

        /// Writes the pending records into the temporary table, opening the database first if needed.
        private func flush() throws(ReconciliationError) {
            guard !pending.isEmpty else { return }
            let points = pending
            pending.removeAll(keepingCapacity: true)
            try storing { try (staging ?? openStaging()).stage(points) }
        }

        /// Opens the projection for writing (refusing a file that is not one) and the import's
        /// temporary table.
        private func openStaging() throws -> VendorPointsImport {
            let store = try self.store ?? ProjectionStore(path: databasePath)
            self.store = store
            let staging = try VendorPointsImport(store: store, source: source.rawValue, mergingEnds: source.isPerRequest)
            self.staging = staging
            return staging
        }

        /// Runs `body`, turning its errors into ``ReconciliationError``.
        private func storing<T>(_ body: () throws -> T) throws(ReconciliationError) -> T {
            do {
                return try body()
            } catch let error as ProjectionError where error.code == .valueOutOfRange {
                throw ReconciliationError(.outOfRange, error.message)
            } catch {
                throw ReconciliationError(.storageFailed, "writing vendor usage to \(databasePath) failed: \(error)")
            }
        }
    }
}
