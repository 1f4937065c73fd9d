import ArgumentParser
import Foundation
import Ledger

/// The ledger directory option shared by every command that reads or writes a ledger.
struct LedgerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The ledger directory.", valueName: "dir"))
    var ledger: String = ".proxy-ledger/ledger"
}

/// The projection database option shared by every command that reads or writes SQLite.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The SQLite projection database.", valueName: "file"))
    var db: String = ".proxy-ledger/projections.sqlite"
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
