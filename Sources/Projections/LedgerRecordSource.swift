public import Ledger

/// Something the projector can replay: partitions of records in sequence order.
///
/// `LedgerReader` conforms; tests and tools can provide records from memory. The requirements
/// mirror `LedgerReader.partitions()` and `LedgerReader.scan(partition:from:_:)`.
public protocol LedgerRecordSource {
    /// The partition numbers present, ascending.
    ///
    /// - Throws: Whatever the source throws (for `LedgerReader`, `LedgerError`).
    func partitions() throws -> [Int]

    /// Calls `body` with the records of `partition` whose sequence is `>= sequence`, in sequence
    /// order, one batch at a time.
    ///
    /// - Throws: Whatever the source throws, and any error `body` throws.
    func scan(partition: Int, from sequence: UInt64, _ body: ([LedgerRecord]) throws -> Void) throws

    /// The ledger the records come from, which a projection is bound to (see
    /// ``ProjectionStore/bind(to:)``); `nil` when the source has no id, as records held in memory
    /// do. The default is `nil`.
    ///
    /// - Throws: Whatever the source throws.
    func ledgerIdentity() throws -> LedgerIdentity?
}

extension LedgerRecordSource {
    public func ledgerIdentity() throws -> LedgerIdentity? { nil }
}

/// A ledger's id and where it was read from, as a projection records it.
public struct LedgerIdentity: Sendable, Hashable {
    /// The id in the ledger's `LEDGER` marker (a lower-case UUID).
    public var id: String
    /// The ledger folder, for messages.
    public var path: String

    /// Creates an identity.
    public init(id: String, path: String) {
        self.id = id
        self.path = path
    }
}

extension LedgerReader: LedgerRecordSource {
    /// The ledger's id and folder; `nil` for a ledger made before markers existed that has not
    /// been written since.
    public func ledgerIdentity() throws -> LedgerIdentity? {
        try ledgerID().map { LedgerIdentity(id: $0, path: directory) }
    }
}
