public import ArgumentParser
import Foundation
public import Ledger
import Projections

/// The ledger directory option shared by every command that reads or writes a ledger.
struct LedgerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The ledger directory.", valueName: "dir"))
    var ledger: String = LedgerOptions.defaultDirectory

    /// The ledger every command uses without `--ledger`.
    static let defaultDirectory = ".proxy-ledger/ledger"
}

/// How long a writing command waits for another writer of the same partition.
/// `--fsync`, the same for every command that writes the ledger.
struct FsyncOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "When appends are made durable: always (before each append returns), interval[:MS] (every MS ms, default 100) or none.",
        valueName: "policy"))
    var fsync: FsyncPolicy = .always
}

/// `--shutdown-grace SECONDS` read and checked the same way by `serve` and `proxy` (their
/// defaults differ: jobs get longer than tunnels).
enum ShutdownGrace {
    /// The grace as a `Duration`.
    /// - Throws: `ValidationError` outside 0…86400 seconds.
    static func duration(seconds: Double) throws -> Duration {
        guard seconds >= 0, seconds <= 86_400 else { throw ValidationError("--shutdown-grace must be 0 to 86400 seconds") }
        return .milliseconds(Int64(seconds * 1_000))
    }
}

struct LockOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Seconds to wait for another writer of the partition to finish before failing with `locked`.", valueName: "seconds"))
    var lockTimeout: Double = 10

    func validate() throws {
        guard lockTimeout >= 0, lockTimeout <= 86_400 else { throw ValidationError("--lock-timeout must be 0 to 86400 seconds") }
    }

    var duration: Duration { .milliseconds(Int64(lockTimeout * 1_000)) }
}

/// Runs `body`, turning a ``LedgerError`` into one `Error: …` line on standard error and exit
/// status 66 when there is no ledger at the path (EX_NOINPUT), else 1.
func reportingLedgerErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as LedgerError {
        printError("Error: \(error)")
        throw ExitCode(error.code == .notFound ? 66 : 1)
    }
}

/// The projection database option shared by every command that reads or writes SQLite.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The SQLite projection database.", valueName: "file"))
    var db: String = ".proxy-ledger/projections.sqlite"

    /// Opens `--db`, turning a failure into one `Error: …` line: exit status 66 when there is no
    /// projection at the path (EX_NOINPUT), else 1. A read-only open never creates, migrates or
    /// writes the file.
    ///
    /// - Parameters:
    ///   - access: How the command uses the projection.
    ///   - mustExist: For writing, fail with 66 rather than create a missing file (a read-only
    ///     open never creates one).
    func open(_ access: ProjectionAccess, mustExist: Bool = false) throws -> ProjectionStore {
        do {
            if mustExist, !FileManager.default.fileExists(atPath: db) { throw ProjectionError.notFound(db) }
            return try ProjectionStore(path: db, access: access)
        } catch let error as ProjectionError {
            printError("Error: \(error.explanation)")
            throw ExitCode(error.code == .notFound ? 66 : 1)
        }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

// `FsyncPolicy.init?(argument:)` (Ledger) already parses the option's text.
extension FsyncPolicy: ExpressibleByArgument {
    public static var allValueStrings: [String] { ["always", "interval", "interval:MS", "none"] }
}

/// Parses an RFC 3339 instant or a date (midnight UTC) given on the command line.
func parseInstant(_ text: String?, option: String) throws -> LedgerTimestamp? {
    guard let text else { return nil }
    guard let value = LedgerTimestamp(rfc3339: text) else {
        throw ValidationError("--\(option) must be an RFC 3339 time such as 2026-11-01T00:00:00Z, or a date 2026-11-01")
    }
    return value
}

/// A failure at run time (a missing file or tool, unreadable input), reported as one line
/// `Error: …` with exit status 1 and without the usage text that ``ValidationError`` prints.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}

/// Writes `text` to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Encodes a value as pretty JSON on standard output.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
