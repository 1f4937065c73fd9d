/// An error from the ledger: opening, appending, reading or verifying segments.
///
/// `description` names the file and byte offset when there is one, and never holds event payloads.
public struct LedgerError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong. A struct with static members, so new codes do not break callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate let name: String
        public var description: String { name }

        /// The directory holds no ledger (reading), or cannot be created (writing).
        public static let notFound = Code(name: "not_found")
        /// Another writer process holds the partition's lock file.
        public static let locked = Code(name: "locked")
        /// A frame fails its checksum, has a bad header, or its payload does not decode.
        public static let corruptFrame = Code(name: "corrupt_frame")
        /// Sequences are not continuous between frames or segments.
        public static let sequenceGap = Code(name: "sequence_gap")
        /// An event line or event value is not valid schema v1.
        public static let invalidEvent = Code(name: "invalid_event")
        /// A system call failed (`errno` in the message).
        public static let io = Code(name: "io")
        /// The writer was closed, or failed earlier and refuses further appends.
        public static let closed = Code(name: "closed")
        /// A v2 frame does not link to the frame before it (SHA-256 chain), or a kept head no
        /// longer matches: a frame was removed, reordered or rewritten.
        public static let chainBroken = Code(name: "chain_broken")
        /// The sequences asked for were archived (`proxy-ledger archive`) and no archive was given.
        public static let archived = Code(name: "archived")
        /// An argument is out of range (a negative partition, …).
        public static let invalidArgument = Code(name: "invalid_argument")
        /// zstd reported an error.
        public static let compression = Code(name: "compression")
    }

    public var code: Code
    public var message: String
    /// The segment file, when the error concerns one.
    public var file: String?
    /// The byte offset within ``file``, when known.
    public var offset: Int64?

    public init(_ code: Code, _ message: String, file: String? = nil, offset: Int64? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.offset = offset
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let file { text += " (file \(file)" + (offset.map { ", byte offset \($0)" } ?? "") + ")" }
        return text
    }
}
