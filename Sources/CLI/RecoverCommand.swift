import ArgumentParser
import Foundation
import Ledger

struct RecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Move damaged segments aside so a partition can be written again; nothing is deleted.",
        discussion: """
            When a frame is damaged (it fails its checksum but is complete, or good frames follow \
            it), the writer refuses to open the partition rather than cut acknowledged events off. \
            recover copies the segment's good frames, before and after the damage, into a new file \
            of the same name, moves the original into partition-N/quarantine/, and records the \
            sequences only the quarantined file holds in partition-N/quarantine/QUARANTINE. Readers \
            accept exactly those gaps (verify lists them); the writer continues after them, so no \
            sequence is used twice. A torn final write is not damage: the writer cuts it off itself.

            Run it with no writer on the partition. Afterwards, `replay` projects what is readable; \
            `cat --salvage` can still read the good parts of a quarantined file copied into a \
            ledger folder of its own.

            Example:
              proxy-ledger recover --ledger ./ledger

            Exit status: 0 done (or nothing was damaged); 1 a file could not be written or the \
            partition is locked; 66 no ledger at the path.
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var lockOptions: LockOptions

    @Option(help: "Only this partition (default: every partition).")
    var partition: Int?

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    struct Entry: Encodable {
        var partition: Int
        var segment: String
        var quarantinedFile: String
        var eventsKept: Int
        var lost: [Lost]
    }

    struct Lost: Encodable {
        var fromSequence: UInt64
        var toSequence: UInt64
        var events: UInt64
        var damagedFrameOffset: Int64
    }

    func validate() throws {
        if let partition, partition < 0 { throw ValidationError("--partition must be 0 or more") }
    }

    func run() async throws {
        let entries = try await reportingLedgerErrors {
            let partitions = try partition.map { [$0] } ?? LedgerReader(directory: ledgerOptions.ledger).partitions()
            return try partitions.flatMap { number in
                try LedgerRecovery.recover(directory: ledgerOptions.ledger, partition: number, lockTimeout: lockOptions.duration)
            }
        }
        let output = entries.map { entry in
            Entry(partition: entry.partition, segment: entry.segment, quarantinedFile: entry.quarantinedFile,
                eventsKept: entry.eventsKept,
                lost: entry.lostRanges.map { Lost(fromSequence: $0.from, toSequence: $0.to, events: $0.count, damagedFrameOffset: $0.offset) })
        }
        switch format {
        case .json: try printJSON(output)
        case .text: printText(output)
        }
    }

    private func printText(_ entries: [Entry]) {
        guard !entries.isEmpty else {
            print("nothing to recover: no damaged frame in \(ledgerOptions.ledger)")
            return
        }
        for entry in entries {
            print("partition \(entry.partition): \(entry.segment) keeps \(entry.eventsKept) events of good frames; "
                + "the original is at \(entry.quarantinedFile)")
            for lost in entry.lost {
                if lost.events == 0 {
                    print("  damaged frame at byte offset \(lost.damagedFrameOffset) from sequence \(lost.fromSequence): "
                        + "its extent is unknown; if a projection was built past it, run `replay --rebuild`")
                } else {
                    print("  sequences \(lost.fromSequence)..<\(lost.toSequence) (\(lost.events) events) are only in the "
                        + "quarantined file (damaged frame at byte offset \(lost.damagedFrameOffset))")
                }
            }
        }
    }
}
