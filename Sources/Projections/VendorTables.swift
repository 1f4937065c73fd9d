import GRDB

/// The tables of vendor figures that `proxy-ledger reconcile` imports (module Reconciliation
/// fills them; see `VendorUsageStore` there for what an import replaces):
///
/// - `vendor_usage_points`: the figures as imported, per source and instant (UTC µs);
/// - `vendor_usage_hourly`: their sums per UTC hour and source;
/// - `vendor_usage_daily`: their sums per calendar day at a UTC offset and source.
///
/// They do not come from the ledger, so a rebuild copies their rows from the file it replaces
/// (``CarriedTables``). Before migration `v6` they were created by the first import, with the
/// same layout, so the migration creates only what is missing. See docs/projection.md.
enum VendorTables {
    /// Migration `v6`: the three tables and the points' index.
    static func v6(_ db: Database) throws {
        try db.execute(sql: ddl)
    }

    private static let ddl = """
        CREATE TABLE IF NOT EXISTS vendor_usage_points (
            source TEXT NOT NULL,
            time_us INTEGER NOT NULL,
            bytes INTEGER NOT NULL CHECK (bytes >= 0),
            request_bytes INTEGER,
            response_bytes INTEGER,
            records INTEGER NOT NULL CHECK (records > 0),
            imported_at TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS vendor_usage_points_time ON vendor_usage_points(source, time_us);
        CREATE TABLE IF NOT EXISTS vendor_usage_daily (
            date TEXT NOT NULL,
            utc_offset TEXT NOT NULL,
            day_start_us INTEGER NOT NULL,
            source TEXT NOT NULL,
            bytes INTEGER NOT NULL CHECK (bytes >= 0),
            request_bytes INTEGER,
            response_bytes INTEGER,
            records INTEGER NOT NULL,
            imported_at TEXT NOT NULL,
            PRIMARY KEY (date, utc_offset, source)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS vendor_usage_hourly (
            hour_start TEXT NOT NULL,
            hour_start_us INTEGER NOT NULL,
            utc_offset TEXT NOT NULL,
            source TEXT NOT NULL,
            bytes INTEGER NOT NULL CHECK (bytes >= 0),
            request_bytes INTEGER,
            response_bytes INTEGER,
            records INTEGER NOT NULL,
            imported_at TEXT NOT NULL,
            PRIMARY KEY (hour_start_us, source)
        ) WITHOUT ROWID;
        """
}
