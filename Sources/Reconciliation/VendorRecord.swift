public import Ledger

/// Where vendor-reported figures come from.
public enum VendorSource: String, Sendable, Hashable, Codable, CaseIterable {
    /// A Squid access log in the native `squid` logformat (reply bytes only: compared with our
    /// response bytes, see ``comparedDirection``).
    case squidNative = "squid-native"
    /// A Squid access log in the lab's `ledger` logformat (request and reply bytes).
    case squidLedger = "squid-ledger"
    /// A Webshare activity CSV export (one row per proxy request).
    case webshareActivityCSV = "webshare-activity-csv"
    /// Webshare `/api/v2/stats/` hourly aggregates.
    case webshareStats = "webshare-stats"

    /// Whether the source has one record per request (so records can be matched to ledger events),
    /// rather than hourly aggregates.
    public var isPerRequest: Bool { self != .webshareStats }

    /// Which of our bytes its figures are compared with: ``ComparedDirection/response`` for the
    /// native Squid format (it logs only `%<st`, the reply size), else ``ComparedDirection/both``.
    public var comparedDirection: ComparedDirection { self == .squidNative ? .response : .both }
}

/// Which directions of our metered bytes a reconciliation compares with the vendor's figure.
public enum ComparedDirection: String, Sendable, Hashable, Codable {
    /// Request plus response bytes (the vendor bills and reports both directions).
    case both
    /// Response bytes only (bytes sent to the client), for sources that log reply sizes only.
    case response
}

/// One vendor figure: a request (Squid, activity CSV) or an hour's aggregate (stats API).
public struct VendorRecord: Sendable, Hashable {
    /// The instant the vendor files the bytes under, UTC µs: Squid's log time (`%ts.%03tu`, when
    /// the request ended), the CSV's `Time`, or the start of a stats hour.
    public var timestamp: LedgerTimestamp
    /// Bytes billed, in bytes: request + reply where the source has both, else what it reports.
    public var bytes: Int64
    /// Bytes from the client, when the source reports them (Squid `%>st`).
    public var requestBytes: Int64?
    /// Bytes to the client, when the source reports them (Squid `%<st`).
    public var responseBytes: Int64?
    /// How long the request took, in milliseconds (Squid `%tr`, CSV `Duration`); 3 600 000 for a
    /// stats hour.
    public var durationMS: Int64
    /// The HTTP status (Squid `%>Hs`), if known.
    public var status: Int?
    /// The request method, e.g. `CONNECT`, if known.
    public var method: String?
    /// The target: URL, `host:port`, or the CSV `Hostname`.
    public var target: String?
    /// The vendor's error reason (CSV `Error Reason`; `None` is stored as `nil`).
    public var errorReason: String?
    /// Squid's request status, e.g. `TCP_TUNNEL` or `TCP_DENIED` (`%Ss`), if known.
    public var resultCode: String?
    /// The authenticated (or attempted) user (Squid `%un`, percent-decoded); `nil` for `-`.
    public var user: String?

    /// Creates a record.
    public init(
        timestamp: LedgerTimestamp, bytes: Int64, requestBytes: Int64? = nil, responseBytes: Int64? = nil,
        durationMS: Int64 = 0, status: Int? = nil, method: String? = nil, target: String? = nil,
        errorReason: String? = nil, resultCode: String? = nil, user: String? = nil
    ) {
        self.timestamp = timestamp
        self.bytes = bytes
        self.requestBytes = requestBytes
        self.responseBytes = responseBytes
        self.durationMS = durationMS
        self.status = status
        self.method = method
        self.target = target
        self.errorReason = errorReason
        self.resultCode = resultCode
        self.user = user
    }
}

/// The result of importing one vendor file.
public struct VendorImport: Sendable, Hashable {
    /// Where the figures come from.
    public var source: VendorSource
    /// The parsed records, in file order.
    public var records: [VendorRecord]
    /// Lines that were malformed and skipped (only with `skipBadLines`).
    public var badLines: [BadLine]
    /// Non-blank lines (or CSV records, or JSON entries) read, including bad ones.
    public var linesRead: Int
    /// The file the figures were read from, for messages (`nil` when unknown).
    public var file: String?

    /// Creates an import result.
    public init(
        source: VendorSource, records: [VendorRecord], badLines: [BadLine] = [], linesRead: Int, file: String? = nil
    ) {
        self.source = source
        self.records = records
        self.badLines = badLines
        self.linesRead = linesRead
        self.file = file
    }

    /// The sum of ``VendorRecord/bytes``, in bytes; `nil` when it does not fit in Int64.
    public var totalBytes: Int64? {
        var total: Int64 = 0
        for record in records {
            let (sum, overflow) = total.addingReportingOverflow(record.bytes)
            if overflow { return nil }
            total = sum
        }
        return total
    }
}
