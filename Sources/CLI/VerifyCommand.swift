import ArgumentParser
import Foundation
import Ledger

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every frame of the ledger; exit 1 with the segment and byte offset of the first fault.",
        discussion: """
            Checks each frame's header and CRC-32C, that its zstd payload decodes to the number of \
            events in the header, that sequences are continuous, and that every frame links to the \
            one before it by SHA-256 (format v2 frames), so a frame removed, reordered or rewritten \
            (even with a recomputed CRC) is found. The ledger is not changed. Ranges that `recover` \
            quarantined are listed, not counted as faults.

            --head prints each partition's head (its next sequence and the SHA-256 of its last \
            frame). Keep that output; later, --expect-head FILE proves every kept head is still \
            part of the ledger, i.e. nothing up to it was changed.

            Examples:
              proxy-ledger verify --ledger ./ledger
              proxy-ledger verify --ledger ./ledger --head > heads-2026-11-30.txt
              proxy-ledger verify --ledger ./ledger --expect-head heads-2026-11-30.txt

            Exit status: 0 clean; 1 a fault (or a kept head no longer matches); 66 no ledger at the path.
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @Flag(help: "Print each partition's head (next sequence and SHA-256 of its last frame) for an auditor to keep.")
    var head = false

    @Option(help: ArgumentHelp("Check that the heads in this file (from --head) are still part of the ledger.", valueName: "file"))
    var expectHead: String?

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    struct Report: Encodable {
        var ledger: String
        var clean: Bool
        var partitions: Int
        var segments: Int
        var frames: Int
        var chainedFrames: Int
        var events: Int
        var bytes: Int64
        var heads: [Head]
        var quarantined: [Quarantined]
        var fault: String?
        var faultFile: String?
        var faultOffset: Int64?
    }

    struct Head: Encodable {
        var partition: Int
        var nextSequence: UInt64
        var sha256: String
    }

    struct Quarantined: Encodable {
        var fromSequence: UInt64
        var toSequence: UInt64
        var file: String
        var recordedAt: String
    }

    func run() async throws {
        let result = try await reportingLedgerErrors {
            let kept = try expectHead.map { path in try LedgerHead.parse(String(decoding: try readKeptHeads(path), as: UTF8.self)) } ?? []
            return try LedgerVerifier.verify(directory: ledgerOptions.ledger, expecting: kept)
        }
        switch format {
        case .json: try printJSON(report(result))
        case .text: printText(result)
        }
        if !result.isClean { throw ExitCode(1) }
    }

    private func readKeptHeads(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("Error: cannot read the kept heads file \(path)")
            throw ExitCode(66)
        }
        return data
    }

    private func printText(_ result: LedgerVerification) {
        if let fault = result.firstFault { printError("verify: FAULT: \(fault)") }
        for range in result.quarantined {
            printError("verify: note: sequences \(range.from)..<\(range.to) were quarantined by recover on "
                + "\(range.recordedAt.rfc3339) (\(range.file))")
        }
        if head {
            for partitionHead in result.heads { print(partitionHead.description) }
            return
        }
        print("\(result.isClean ? "ok" : "FAILED"): \(result.partitions) partitions, \(result.segments) segments, "
            + "\(result.frames) frames (\(result.chainedFrames) hash-chained), \(result.events) events, \(result.bytes) bytes checked"
            + (expectHead == nil || !result.isClean ? "" : "; every kept head is still part of the ledger"))
    }

    private func report(_ result: LedgerVerification) -> Report {
        Report(
            ledger: ledgerOptions.ledger, clean: result.isClean, partitions: result.partitions,
            segments: result.segments, frames: result.frames, chainedFrames: result.chainedFrames,
            events: result.events, bytes: result.bytes,
            heads: result.heads.map { Head(partition: $0.partition, nextSequence: $0.nextSequence, sha256: $0.digest) },
            quarantined: result.quarantined.map {
                Quarantined(fromSequence: $0.from, toSequence: $0.to, file: $0.file, recordedAt: $0.recordedAt.rfc3339)
            },
            fault: result.firstFault?.message, faultFile: result.firstFault?.file, faultOffset: result.firstFault?.offset)
    }
}
