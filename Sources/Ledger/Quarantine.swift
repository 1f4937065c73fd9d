import Foundation

/// A range of sequences that `proxy-ledger recover` moved out of a partition, with the file that
/// still holds the original bytes.
///
/// Recorded in `partition-N/quarantine/QUARANTINE`, one line per range, fields separated by tabs:
/// `gap <from> <to> <quarantined file> <byte offset of the damaged frame> <recorded at, RFC 3339>`.
/// Readers accept a sequence gap `[from, to)` only when such a line covers it; any other gap is a
/// fault.
public struct QuarantinedRange: Sendable, Hashable {
    /// The first sequence no longer in the partition.
    public var from: UInt64
    /// The sequence after the last one no longer in the partition (exclusive).
    public var to: UInt64
    /// The quarantined segment file, relative to the partition folder (`quarantine/…`).
    public var file: String
    /// Byte offset of the damaged frame in that file.
    public var offset: Int64
    /// When `recover` recorded the range.
    public var recordedAt: LedgerTimestamp

    /// Sequences in the range.
    public var count: UInt64 { to - from }
}

/// Reads and appends a partition's quarantine manifest.
struct QuarantineManifest {
    static let folderName = "quarantine"
    static let fileName = "QUARANTINE"

    let partitionPath: String

    var folder: String { "\(partitionPath)/\(Self.folderName)" }
    var path: String { "\(folder)/\(Self.fileName)" }

    /// The recorded ranges, in file order (empty when there is no manifest).
    /// - Throws: `LedgerError` `.io` naming the manifest and line when a line does not parse.
    func ranges() throws -> [QuarantinedRange] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = String(decoding: try POSIXFile.readAll(path), as: UTF8.self)
        var ranges: [QuarantinedRange] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 6, fields[0] == "gap", let from = UInt64(fields[1]), let to = UInt64(fields[2]),
                from <= to, let offset = Int64(fields[4]), let time = LedgerTimestamp(rfc3339: fields[5])
            else {
                throw LedgerError(.io, "line \(index + 1) of the quarantine manifest does not parse", file: path)
            }
            ranges.append(QuarantinedRange(from: from, to: to, file: fields[3], offset: offset, recordedAt: time))
        }
        return ranges
    }

    /// Appends `range` and fsyncs the manifest (created, with its folder, when missing).
    func append(_ range: QuarantinedRange) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try POSIXFile.appendDurably(
            "gap\t\(range.from)\t\(range.to)\t\(range.file)\t\(range.offset)\t\(range.recordedAt.rfc3339)\n", to: path)
    }
}

/// Where the sequences of one partition are allowed to jump: the ranges `recover` quarantined.
struct SequenceChain {
    private var allowed: [UInt64: UInt64] = [:]

    init(_ ranges: [QuarantinedRange]) {
        for range in ranges where range.to > range.from { allowed[range.from] = max(allowed[range.from] ?? 0, range.to) }
    }

    /// The first sequence at or after `sequence` that no quarantined range covers: where the
    /// writer continues, so that no sequence recorded in a quarantined file is used again.
    func skipping(from sequence: UInt64) -> UInt64 {
        var next = sequence
        while let end = allowed[next] { next = end }
        return next
    }

    /// `true` when the partition may continue at `actual` after `expected`: the same sequence, or
    /// a jump over quarantined ranges that start exactly where the previous one ended.
    func accepts(expected: UInt64, actual: UInt64) -> Bool {
        var next = expected
        while next < actual, let end = allowed[next] { next = end }
        return next == actual
    }
}
