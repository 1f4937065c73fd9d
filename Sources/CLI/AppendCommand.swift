import ArgumentParser
import Foundation
import Ledger

struct AppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append JSON Lines events from standard input to the ledger as one batch.",
        discussion: """
            Each line is one event of schema v1 (see docs/ledger-format.md). The \
            whole input is one batch: if any line is invalid, the line number and the field at fault \
            are reported and nothing is appended. Blank lines are ignored. An event_id already in the \
            ledger is acknowledged with its original position and not stored again.

            Example:
              proxy-ledger append --ledger ./ledger < events.jsonl
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(help: "The partition to write (0 or more); one writer process per partition.")
    var partition: Int = 0

    @OptionGroup var lockOptions: LockOptions

    @Flag(help: "Accept events stamped before 2000 or more than a day in the future (refused by default).")
    var allowAnyTime = false

    @Flag(help: "Keep an unknown field whose name is close to a schema field's (such as reqest_bytes) as an extra field instead of refusing the line.")
    var allowUnknownFields = false

    @OptionGroup var fsyncOptions: FsyncOptions

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

    /// Reads standard input in 1 MiB chunks, keeping only the parsed events.
    private func readEvents() throws(EventDecodingError) -> [ProxyRequestEvent] {
        var reader = JSONLinesReader(
            rules: AppendRules(plausibleTime: allowAnyTime ? nil : .standard(), allowUnknownFields: allowUnknownFields),
            expectedBytes: Self.regularFileSize(STDIN_FILENO))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { Foundation.read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            try chunk.withUnsafeBytes { buffer in
                Swift.Result { () throws(EventDecodingError) in try reader.consume(UnsafeRawBufferPointer(rebasing: buffer[..<count])) }
            }.get()
        }
        return try reader.finish()
    }

    /// The size of `descriptor` when it is a regular file (input redirected from a file), else `nil`.
    private static func regularFileSize(_ descriptor: Int32) -> Int? {
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(status.st_size)
    }

    func validate() throws {
        guard (0...9_999).contains(partition) else { throw ValidationError("--partition must be 0 to 9999, not \(partition)") }
    }

    func run() async throws {
        let events: [ProxyRequestEvent]
        do {
            events = try readEvents()
        } catch {
            printError("error: \(error); nothing was appended")
            throw ExitCode(65)
        }
        let acks = try await reportingLedgerErrors {
            let writer = try LedgerWriter.open(
                LedgerConfiguration(
                    directory: ledgerOptions.ledger, partition: partition, fsyncPolicy: fsyncOptions.fsync, lockTimeout: lockOptions.duration))
            do {
                let acks = try await writer.append(events)
                try await writer.close()
                return acks
            } catch {
                try? await writer.close()
                throw error
            }
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
