import ArgumentParser
import Foundation
import Ledger
import Projections

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Project new ledger events into the SQLite database (proxy_request_logs and rollups).",
        discussion: """
            Without --rebuild, only events after the database's checkpoint are applied; the checkpoint \
            is written in the same transaction as the rows, so an interrupted replay resumes safely. \
            With --rebuild, the whole ledger is replayed into a fresh file that then replaces the \
            database atomically: readers see the old projection or the new one, never half of one.

            A bad frame in the ledger stops the replay with an error naming the segment and byte \
            offset, after every event before it was applied (a rebuild then keeps the old file). \
            See `proxy-ledger recover`.

            Example:
              proxy-ledger replay --ledger ./ledger --db ./projections.sqlite --rebuild
              proxy-ledger replay --ledger ./ledger --rebuild --archive /mnt/cold/ledger-2025
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @OptionGroup var databaseOptions: DatabaseOptions
    @OptionGroup var archiveOptions: ArchiveOptions

    @Flag(help: "Replay everything into a fresh database and swap it in atomically.")
    var rebuild = false

    @Option(help: "Output format for the result.")
    var format: OutputFormat = .text

    struct Result: Encodable {
        var eventsRead: Int
        var eventsApplied: Int
        var duplicatesSkipped: Int
        var seconds: Double
        var database: String
    }

    func run() async throws {
        let reader = try await reportingLedgerErrors { try LedgerReader(directory: ledgerOptions.ledger, archive: archiveOptions.archive) }
        try createParentDirectory(of: databaseOptions.db)
        let progress = ProgressLine(enabled: format == .text)
        let started = Date()
        let result: ReplayResult
        if rebuild {
            result = try Projector.rebuild(ledger: reader, databasePath: databaseOptions.db) { progress.update($0) }
        } else {
            let store = try databaseOptions.open(.readWrite)
            result = try Projector(store: store).replay(from: reader) { progress.update($0) }
            try store.close()
        }
        progress.finish()
        let output = Result(
            eventsRead: result.eventsRead, eventsApplied: result.eventsApplied,
            duplicatesSkipped: result.duplicatesSkipped, seconds: Date().timeIntervalSince(started),
            database: databaseOptions.db)
        switch format {
        case .json: try printJSON(output)
        case .text:
            print("\(rebuild ? "rebuilt" : "replayed"): \(output.eventsApplied) events applied, "
                + "\(output.duplicatesSkipped) duplicates skipped, \(output.eventsRead) read in "
                + String(format: "%.2f s", output.seconds) + " → \(output.database)")
        }
    }
}

/// Creates the folder a file will live in.
func createParentDirectory(of path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }
}

/// A one-line progress display on standard error, shown only when it is a terminal.
final class ProgressLine: @unchecked Sendable {
    private let enabled: Bool
    private var lastDraw = Date.distantPast
    private var drawn = false

    init(enabled: Bool) {
        self.enabled = enabled && isatty(STDERR_FILENO) == 1
    }

    func update(_ progress: ReplayProgress) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = Date()
        drawn = true
        FileHandle.standardError.write(Data(
            "\r\u{1B}[Kpartition \(progress.partition): \(progress.eventsRead) events read, \(progress.eventsApplied) applied".utf8))
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
