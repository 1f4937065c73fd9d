import ArgumentParser

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
