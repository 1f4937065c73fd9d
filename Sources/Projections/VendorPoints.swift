import Foundation
import GRDB
import Ledger

/// One vendor record as the projection stores it: its instant and sizes.
public struct VendorPoint: Sendable, Hashable {
    /// The instants accepted, UTC µs: years 0001 to 9999 (bucket arithmetic cannot overflow).
    public static let times: ClosedRange<Int64> = -62_135_596_800_000_000...253_402_300_799_999_999

    /// The record's instant (a stats hour's start), UTC µs.
    public var time: Int64
    /// Bytes, both directions.
    public var bytes: Int64
    /// Request (upload) bytes, `nil` when the source does not split directions.
    public var requestBytes: Int64?
    /// Response (download) bytes, `nil` when the source does not split directions.
    public var responseBytes: Int64?

    public init(time: Int64, bytes: Int64, requestBytes: Int64?, responseBytes: Int64?) {
        self.time = time
        self.bytes = bytes
        self.requestBytes = requestBytes
        self.responseBytes = responseBytes
    }
}

/// Records and bytes stored for one source over a span.
public struct VendorTally: Sendable, Hashable {
    /// Vendor records (log lines, CSV rows, stats hours).
    public var records: Int64
    /// Their bytes.
    public var bytes: Int64

    public init(records: Int64, bytes: Int64) {
        self.records = records
        self.bytes = bytes
    }
}

/// What one import changed inside its own span.
public struct VendorPointsChange: Sendable, Hashable {
    /// The import's span, `[first record time, last record time]`, UTC µs; `nil` when nothing
    /// was staged (nothing stored).
    public var span: ClosedRange<Int64>?
    /// What the store held for the source inside ``span`` before the import.
    public var before: VendorTally
    /// What it holds there after.
    public var after: VendorTally
    /// Hourly plus daily rows rewritten.
    public var rowsWritten: Int

    /// The change of an import that staged nothing.
    public static let empty = VendorPointsChange(
        span: nil, before: VendorTally(records: 0, bytes: 0), after: VendorTally(records: 0, bytes: 0), rowsWritten: 0)
}

/// One import of vendor figures into the projection's `vendor_usage_points`, and the hourly and
/// daily rows derived from them (``VendorTables``).
///
/// ``stage(_:)`` counts identical points per instant in a temporary table of the store's writer
/// connection (a file SQLite deletes on close; staging locks nothing in the database itself), so
/// that a file of any size is imported with flat memory. ``commit(utcOffsetSeconds:)`` then, in
/// one transaction, replaces the source's stored points inside the import's span
/// `[first staged time, last staged time]` and recomputes the hours and days the span touches (the
/// days at the import's offset and at every offset already stored for the source). With
/// `mergingEnds` (per-request sources), the two end instants are topped up rather than replaced:
/// per identical point the store keeps the larger of the stored and the imported count, so that a
/// log rotated inside one millisecond loses nothing.
public final class VendorPointsImport {
    private let store: ProjectionStore
    /// The source's name in `vendor_usage_*.source`.
    public let source: String
    private let mergingEnds: Bool

    /// Starts an import of `source`'s figures into `store` (opened for writing). The temporary
    /// table starts empty, also when an earlier import used the same store.
    ///
    /// - Throws: ``ProjectionError`` `.writeFailed` when the temporary table cannot be created.
    public init(store: ProjectionStore, source: String, mergingEnds: Bool) throws {
        self.store = store
        self.source = source
        self.mergingEnds = mergingEnds
        try Self.writing(source) {
            try store.databasePool.writeWithoutTransaction { db in
                try db.execute(sql: StagedPoints.schema)
                try db.execute(sql: "DELETE FROM temp.staged_points")
            }
        }
    }

    /// Counts `points` into the import (one transaction on the temporary table).
    ///
    /// - Throws: ``ProjectionError`` `.writeFailed`.
    public func stage(_ points: [VendorPoint]) throws {
        try Self.writing(source) { try store.databasePool.write { db in try StagedPoints.stage(points, in: db) } }
    }

    /// Stores the staged points and recomputes the rows they touch, in one transaction.
    ///
    /// - Parameter utcOffsetSeconds: The offset the import's days are aligned to, seconds east of UTC.
    /// - Returns: What the import changed; ``VendorPointsChange/empty`` when nothing was staged.
    /// - Throws: ``ProjectionError`` `.valueOutOfRange` when a sum does not fit in Int64 (nothing
    ///   is stored); `.writeFailed` when SQLite fails.
    public func commit(utcOffsetSeconds: Int) throws -> VendorPointsChange {
        let (source, mergingEnds) = (source, mergingEnds)
        return try Self.writing(source) {
            try store.databasePool.write { db in
                guard let span = try StagedPoints.span(in: db) else { return .empty }
                return try Self.replace(source, mergingEnds: mergingEnds, span: span, utcOffsetSeconds: utcOffsetSeconds, in: db)
            }
        }
    }

    /// Runs `body`, turning SQLite's errors into ``ProjectionError``.
    private static func writing<T>(_ source: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ProjectionError {
            throw error
        } catch let error as DatabaseError where error.message?.contains("integer overflow") == true {
            throw ProjectionError(
                code: .valueOutOfRange,
                message: "the stored vendor bytes of \(source) add up to more than Int64.max; nothing was stored")
        } catch {
            throw ProjectionError(code: .writeFailed, message: "writing the vendor figures of \(source) failed", underlying: "\(error)")
        }
    }

    /// Replaces `name`'s stored points in `span` with the staged ones and recomputes the hourly
    /// and daily rows the span touches (the body of ``commit(utcOffsetSeconds:)``'s transaction).
    ///
    /// - Throws: ``ProjectionError`` `.valueOutOfRange` when a row's bytes pass Int64.max; `DatabaseError`.
    private static func replace(
        _ name: String, mergingEnds: Bool, span: ClosedRange<Int64>, utcOffsetSeconds: Int, in db: Database
    ) throws -> VendorPointsChange {
        let importedAt = LedgerTimestamp.now.rfc3339
        func stored() throws -> VendorTally {
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(records), 0), COALESCE(SUM(bytes), 0) FROM vendor_usage_points
                    WHERE source = ? AND time_us BETWEEN ? AND ?
                    """,
                arguments: [name, span.lowerBound, span.upperBound])
            return VendorTally(records: row?[0] ?? 0, bytes: row?[1] ?? 0)
        }
        let before = try stored()
        try StagedPoints.store(
            source: name, span: span, mergingEnds: mergingEnds, importedAt: importedAt, in: db)
        var offsets = Set(
            try String.fetchAll(
                db, sql: "SELECT DISTINCT utc_offset FROM vendor_usage_daily WHERE source = ?", arguments: [name]
            ).compactMap(BucketGrid.parseOffset))
        offsets.insert(utcOffsetSeconds)
        var written = try VendorBuckets.rederive(
            BucketGrid(.hour), source: name, span: span, importedAt: importedAt, in: db)
        for offset in offsets.sorted() {
            written += try VendorBuckets.rederive(
                BucketGrid(.day, utcOffsetSeconds: offset), source: name, span: span, importedAt: importedAt, in: db)
        }
        return VendorPointsChange(span: span, before: before, after: try stored(), rowsWritten: written)
    }
}
