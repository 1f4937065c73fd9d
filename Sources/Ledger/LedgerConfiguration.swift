/// When appended frames are made durable with `fdatasync(2)`.
public enum FsyncPolicy: Sendable, Equatable, CustomStringConvertible {
    /// Acknowledge a group commit only after its frame is fsynced. Survives power loss.
    case always
    /// Acknowledge after `write(2)`; fsync in the background every `milliseconds`. Survives a
    /// process crash; a power loss may lose up to one interval.
    case interval(milliseconds: Int)
    /// Never fsync; the operating system writes back when it likes. Survives a process crash.
    case none

    /// Parses `always`, `none`, `interval` (100 ms) or `interval:MS`.
    public init?(argument: String) {
        switch argument {
        case "always": self = .always
        case "none": self = .none
        case "interval": self = .interval(milliseconds: 100)
        default:
            guard argument.hasPrefix("interval:"), let ms = Int(argument.dropFirst("interval:".count)), ms > 0
            else { return nil }
            self = .interval(milliseconds: ms)
        }
    }

    public var description: String {
        switch self {
        case .always: "always"
        case .none: "none"
        case .interval(let ms): "interval:\(ms)"
        }
    }
}

/// How a ledger partition is written.
public struct LedgerConfiguration: Sendable {
    /// The ledger directory; created when missing.
    public var directory: String
    /// The partition this writer owns. One writer process per partition (lock file).
    public var partition: Int
    public var fsyncPolicy: FsyncPolicy
    /// A segment is sealed and a new one started once it reaches this many bytes.
    public var segmentMaxBytes: Int
    /// A segment older than this many seconds is sealed at the next append; `nil` = no age limit.
    public var segmentMaxAgeSeconds: Int?
    /// Event ids of frames appended within this many microseconds (by the writer's clock, not
    /// the events' own timestamps) are kept for idempotent append (default 7 days).
    public var dedupeWindowMicroseconds: Int64
    /// How long ``LedgerWriter/open(_:logger:)`` waits for another writer to release the
    /// partition's lock before failing with `locked` (default 10 s).
    public var lockTimeout: Duration
    /// Test seam (internal): the 1-based number of the fsync that fails with EIO, as a disk
    /// failing under the writer would.
    var failingSyncNumber: Int?
    /// zstd level for frame payloads (1–19).
    public var compressionLevel: Int32
    /// Called after every successful fsync of a segment with its duration (for an fsync latency
    /// histogram). Runs on the writer's thread: keep it short and non-blocking.
    public var syncObserver: (@Sendable (Duration) -> Void)?

    public init(
        directory: String,
        partition: Int = 0,
        fsyncPolicy: FsyncPolicy = .always,
        segmentMaxBytes: Int = 64 << 20,
        segmentMaxAgeSeconds: Int? = nil,
        dedupeWindowMicroseconds: Int64 = 7 * 86_400 * 1_000_000,
        compressionLevel: Int32 = 3,
        lockTimeout: Duration = .seconds(10)
    ) {
        self.lockTimeout = lockTimeout
        self.directory = directory
        self.partition = partition
        self.fsyncPolicy = fsyncPolicy
        self.segmentMaxBytes = segmentMaxBytes
        self.segmentMaxAgeSeconds = segmentMaxAgeSeconds
        self.dedupeWindowMicroseconds = dedupeWindowMicroseconds
        self.compressionLevel = compressionLevel
    }
}
