import ArgumentParser
import Foundation
import Ledger
import Projections

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete rows of proxy_request_logs older than a time; the rollups (and so the reports) stay.",
        discussion: """
            Retention for the projection database, not the ledger: rows of proxy_request_logs stamped \
            before --before are deleted in one transaction, and their event ids are kept so that an \
            event appended again is still a duplicate. The hourly rollups, which the reports read, \
            are kept, so a cost report for an old period stays correct; `summary` of a pruned period \
            counts only the rows left. A later `replay --rebuild` prunes again to the same horizon. \
            The ledger itself is never pruned (see `archive`).

            Example:
              proxy-ledger prune --db .proxy-ledger/projections.sqlite --before 2026-09-01

            Exit status: 0 done; 1 the database could not be written; 64 bad options; 66 no database.
            """
    )

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: ArgumentHelp("Delete rows stamped before this time (RFC 3339 or a date).", valueName: "time"))
    var before: String

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    struct Output: Encodable {
        var rowsDeleted: Int
        var horizon: String
        var database: String
    }

    func validate() throws { _ = try parseInstant(before, option: "before") }

    func run() async throws {
        guard let cutoff = try parseInstant(before, option: "before") else { return }
        let store = try databaseOptions.open(.readWrite, mustExist: true)
        let result = try store.prune(before: cutoff)
        try store.close()
        let output = Output(rowsDeleted: result.rowsDeleted, horizon: result.horizon.rfc3339, database: databaseOptions.db)
        switch format {
        case .json: try printJSON(output)
        case .text:
            print("pruned \(output.rowsDeleted) rows of proxy_request_logs before \(output.horizon) from \(output.database); "
                + "the rollups and reports keep them")
        }
    }
}
