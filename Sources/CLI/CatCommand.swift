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

            Example:
              proxy-ledger cat --ledger ./ledger --since 2026-11-01 --until 2026-12-01 > november.jsonl
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(help: ArgumentHelp("Only events at or after this time.", valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("Only events before this time.", valueName: "time"))
    var until: String?

    @Flag(help: "Wrap each event in an envelope with its schema version and ledger position.")
    var withPosition = false

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
        let reader = try LedgerReader(directory: ledgerOptions.ledger)
        let output = FileHandle.standardOutput
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        try reader.scanAll { records in
            for record in records {
                let time = record.event.timestamp
                if let lower, time < lower { continue }
                if let upper, time >= upper { continue }
                if withPosition {
                    buffer += Array("{\"schema_version\":\(record.schemaVersion),\"partition\":\(record.position.partition),\"sequence\":\(record.position.sequence),\"event\":".utf8)
                    buffer += record.event.jsonLine()
                    buffer.append(UInt8(ascii: "}"))
                } else {
                    buffer += record.event.jsonLine()
                }
                buffer.append(0x0A)
            }
            if buffer.count > 1 << 20 {
                output.write(Data(buffer))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        output.write(Data(buffer))
    }
}
