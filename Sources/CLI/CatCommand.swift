import ArgumentParser
import Foundation
import Ledger

struct CatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Write the ledger's events as JSON Lines on standard output.",
        discussion: """
            Events come partition by partition in sequence order. --since and --until select the \
            half-open window [since, until) of event timestamps; both take RFC 3339 times with an \
            offset, or a date (midnight UTC).

            A bad frame (failed checksum, or a sequence gap such as a deleted segment) stops the \
            output after every event before it, with an error naming the segment and byte offset \
            (exit 1). With --salvage, each bad frame is reported on standard error (segment, \
            offset, the sequences lost) and the events after it are written too (exit 0).

            Examples:
              proxy-ledger cat --ledger ./ledger --since 2026-11-01 --until 2026-12-01 > november.jsonl
              proxy-ledger cat --ledger ./damaged --salvage > readable.jsonl
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var archiveOptions: ArchiveOptions

    @Option(help: ArgumentHelp("Only events at or after this time.", valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("Only events before this time.", valueName: "time"))
    var until: String?

    @Flag(help: "Wrap each event in an envelope with its schema version and ledger position.")
    var withPosition = false

    @Option(help: "jsonl: one event per line (the format `append` reads); json: one JSON array.")
    var format: CatFormat = .jsonl

    @Flag(help: "Skip bad frames (reported on standard error) and go on with the good frames after them.")
    var salvage = false

    func validate() throws {
        if let lower = try parseInstant(since, option: "since"), let upper = try parseInstant(until, option: "until"),
            lower >= upper
        {
            throw ValidationError("--since must be before --until")
        }
        _ = try parseInstant(until, option: "until")
    }

    func run() async throws {
        let lower = try parseInstant(since, option: "since")
        let upper = try parseInstant(until, option: "until")
        var output = LineOutput(format: format)
        var skipped: [SkippedFrame] = []
        try await reportingLedgerErrors {
            let reader = try LedgerReader(directory: ledgerOptions.ledger, archive: archiveOptions.archive)
            let report: ((SkippedFrame) -> Void)? = salvage ? { frame in
                printError("cat: \(frame)")
                skipped.append(frame)
            } : nil
            defer { output.finish() }
            try reader.scanAll(salvage: report) { records in
                for record in records {
                    let time = record.event.timestamp
                    if let lower, time < lower { continue }
                    if let upper, time >= upper { continue }
                    output.write(record, withPosition: withPosition)
                }
            }
        }
        if !skipped.isEmpty {
            let lost = skipped.compactMap(\.lostSequences).reduce(0) { $0 + $1.count }
            printError("cat: skipped \(skipped.count) bad frame(s), \(lost) events unreadable; the rest was written")
        }
    }
}

/// `cat`'s output formats.
enum CatFormat: String, ExpressibleByArgument, CaseIterable {
    case jsonl, json
}

/// Buffered JSON Lines (or one JSON array) on standard output, flushed every MiB and at the end
/// (also when a later frame fails, so every good event before it is written).
private struct LineOutput {
    private var buffer: [UInt8] = []
    private let handle = FileHandle.standardOutput
    private let format: CatFormat
    private var count = 0

    init(format: CatFormat) {
        self.format = format
        buffer.reserveCapacity(1 << 20)
    }

    mutating func write(_ record: LedgerRecord, withPosition: Bool) {
        if format == .json { buffer += Array((count == 0 ? "[\n" : ",\n").utf8) }
        count += 1
        if withPosition {
            buffer += Array("{\"schema_version\":\(record.schemaVersion),\"partition\":\(record.position.partition),\"sequence\":\(record.position.sequence),\"event\":".utf8)
            buffer += record.event.jsonLine()
            buffer.append(UInt8(ascii: "}"))
        } else {
            buffer += record.event.jsonLine()
        }
        if format == .jsonl { buffer.append(0x0A) }
        if buffer.count > 1 << 20 { flush() }
    }

    /// Ends the output (closes the JSON array) and flushes it.
    mutating func finish() {
        if format == .json { buffer += Array((count == 0 ? "[]\n" : "\n]\n").utf8) }
        flush()
    }

    mutating func flush() {
        handle.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
