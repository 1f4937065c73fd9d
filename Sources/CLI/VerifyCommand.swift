import ArgumentParser
import Foundation
import Ledger

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every frame of the ledger; exit 1 with the segment and byte offset of the first fault.",
        discussion: """
            Checks each frame's header and CRC-32C, that its zstd payload decodes to the number of \
            events in the header, and that sequences are continuous. The ledger is not changed.
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    struct Report: Encodable {
        var ledger: String
        var clean: Bool
        var partitions: Int
        var segments: Int
        var frames: Int
        var events: Int
        var bytes: Int64
        var fault: String?
        var faultFile: String?
        var faultOffset: Int64?
    }

    func run() async throws {
        let result = try LedgerVerifier.verify(directory: ledgerOptions.ledger)
        let report = Report(
            ledger: ledgerOptions.ledger, clean: result.isClean, partitions: result.partitions,
            segments: result.segments, frames: result.frames, events: result.events, bytes: result.bytes,
            fault: result.firstFault?.message, faultFile: result.firstFault?.file, faultOffset: result.firstFault?.offset)
        switch format {
        case .json: try printJSON(report)
        case .text:
            if let fault = result.firstFault {
                printError("verify: FAULT: \(fault)")
            }
            print("\(result.isClean ? "ok" : "FAILED"): \(result.partitions) partitions, \(result.segments) segments, "
                + "\(result.frames) frames, \(result.events) events, \(result.bytes) bytes checked")
        }
        if !result.isClean { throw ExitCode(1) }
    }
}
