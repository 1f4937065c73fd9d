import Ledger

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
}

extension LedgerReader: LedgerRecordSource {}
