import ArgumentParser
import Foundation
import Ledger

struct AppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append JSON Lines events from standard input to the ledger as one batch.",
        discussion: """
            Each line is one event of schema v1 (see docs/ledger-format.md and DESIGN.md §3). The \
            whole input is one batch: if any line is invalid, the line number and the field at fault \
            are reported and nothing is appended. Blank lines are ignored. An event_id already in the \
            ledger is acknowledged with its original position and not stored again.

            Example:
              proxy-ledger append --ledger ./ledger < events.jsonl
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(help: "The partition to write; one writer process per partition.")
    var partition: Int = 0

    @Option(help: ArgumentHelp("When appends are made durable: always, interval[:MS] or none.", valueName: "policy"))
    var fsync: FsyncPolicy = .always

    @Option(help: "Output format for the result.")
    var format: OutputFormat = .text

    struct Result: Encodable {
        var received: Int
        var appended: Int
        var duplicates: Int
        var firstSequence: UInt64?
        var lastSequence: UInt64?
        var ledger: String
    }

    func run() async throws {
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let events: [ProxyRequestEvent]
        do {
            events = try JSONLines.parse([UInt8](input))
        } catch {
            printError("error: \(error); nothing was appended")
            throw ExitCode(65)
        }
        let writer = try LedgerWriter.open(
            LedgerConfiguration(directory: ledgerOptions.ledger, partition: partition, fsyncPolicy: fsync))
        let acks: [AppendAcknowledgement]
        do {
            acks = try await writer.append(events)
            try await writer.close()
        } catch {
            try? await writer.close()
            throw error
        }
        let fresh = acks.filter { !$0.duplicate }
        let result = Result(
            received: events.count, appended: fresh.count, duplicates: acks.count - fresh.count,
            firstSequence: fresh.first?.position.sequence, lastSequence: fresh.last?.position.sequence,
            ledger: ledgerOptions.ledger)
        switch format {
        case .json: try printJSON(result)
        case .text:
            var line = "appended \(result.appended) events (\(result.duplicates) duplicates) to \(result.ledger)"
            if let first = result.firstSequence, let last = result.lastSequence {
                line += ", partition \(partition) sequences \(first)…\(last)"
            }
            print(line)
        }
    }
}
