import ArgumentParser
import Foundation
import Ledger

struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Move sealed segments whose events are all older than a time to an archive folder.",
        discussion: """
            Oldest first, each sealed segment whose every event is stamped before --before is copied \
            to --to (a ledger folder of its own, with the same ledger id), fsynced, read back and \
            checked (same SHA-256, every frame passes its checksum and decodes), recorded in \
            partition-N/ARCHIVED, and only then removed from the ledger. The newest segment of a \
            partition is never archived, and the ledger is never pruned silently: afterwards `cat` \
            and `replay` refuse to read the archived sequences unless given --archive DIR \
            (`replay --rebuild --archive DIR` reads the archive first). Run it with no writer on \
            the ledger.

            Example:
              proxy-ledger archive --ledger ./ledger --before 2026-01-01 --to /mnt/cold/ledger-2025
              proxy-ledger verify --ledger /mnt/cold/ledger-2025

            Exit status: 0 done (also when nothing was old enough); 1 a copy failed or a segment is \
            damaged (nothing of it was removed); 64 bad options; 66 no ledger at the path.
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var lockOptions: LockOptions

    @Option(help: ArgumentHelp("Archive segments whose events are all before this time (RFC 3339 or a date).", valueName: "time"))
    var before: String

    @Option(help: ArgumentHelp("The archive folder (created if missing).", valueName: "dir"))
    var to: String

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    struct Entry: Encodable {
        var segment: String
        var fromSequence: UInt64
        var toSequence: UInt64
        var sha256: String
    }

    func validate() throws {
        _ = try parseInstant(before, option: "before")
        guard !to.isEmpty else { throw ValidationError("--to must name a folder") }
    }

    func run() async throws {
        guard let cutoff = try parseInstant(before, option: "before") else { return }
        let archived = try await reportingLedgerErrors {
            try LedgerArchiver.archive(directory: ledgerOptions.ledger, before: cutoff, to: to, lockTimeout: lockOptions.duration)
        }
        let entries = archived.map { Entry(segment: $0.name, fromSequence: $0.from, toSequence: $0.to, sha256: $0.digest) }
        switch format {
        case .json: try printJSON(entries)
        case .text:
            let events = archived.reduce(UInt64(0)) { $0 + ($1.to - $1.from) }
            print("archived \(archived.count) segments (\(events) events) before \(cutoff.rfc3339) to \(to)")
            if archived.isEmpty { print("nothing was old enough: every sealed segment holds an event at or after \(cutoff.rfc3339)") }
        }
    }
}

/// The archive folder option of commands that read the ledger.
struct ArchiveOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The folder `archive --to` wrote: read archived segments from it first.", valueName: "dir"))
    var archive: String?
}
