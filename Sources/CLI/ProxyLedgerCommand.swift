import ArgumentParser
import Foundation

@main
struct ProxyLedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy-ledger",
        abstract: "Meter, record and report YouTube traffic sent through a paid proxy gateway.",
        discussion: """
            Workers append one event per proxied operation to a checksummed, zstd-compressed segment \
            log (the ledger, the source of truth). Replaying the ledger rebuilds the SQLite projection \
            `proxy_request_logs` and the usage summaries.

            Start with `proxy-ledger demo`, which runs the whole job against a local test lab.
            """,
        version: ProxyLedgerCommand.version,
        subcommands: [
            DemoCommand.self, AppendCommand.self, CatCommand.self, VerifyCommand.self,
            ReplayCommand.self, SummaryCommand.self, ReportCommand.self, ReconcileCommand.self,
            ServeCommand.self, ProxyCommand.self, EnqueueCommand.self, JobsCommand.self,
            RecoverCommand.self, ArchiveCommand.self, PruneCommand.self,
            StressAppendCommand.self, CrashTestCommand.self,
        ]
    )

    /// The release, printed by `--version`.
    static let version = "0.7.0"
}

extension ProxyLedgerCommand {
    /// Parses and runs the command as ArgumentParser's own `main` does, adding a hint when a value
    /// that starts with `-` (a negative UTC offset such as `-05:00`) was taken for an option.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if let hint = NegativeValueHint.hint(for: arguments, message: fullMessage(for: error)) {
                printError(fullMessage(for: error))
                printError(hint)
                Foundation.exit(exitCode(for: error).rawValue)
            }
            exit(withError: error)
        }
    }
}

/// The hint for `--option -05:00`: a value that starts with `-` must be attached with `=`.
enum NegativeValueHint {
    static func hint(for arguments: [String], message: String) -> String? {
        guard message.contains("Missing value for") else { return nil }
        for (option, value) in zip(arguments, arguments.dropFirst())
        where option.hasPrefix("--") && !option.contains("=") && value.count > 1 && value.hasPrefix("-")
            && value.dropFirst().first?.isNumber == true
        {
            return "hint: a value that starts with '-' must be attached with '=': \(option)=\(value)"
        }
        return nil
    }
}
