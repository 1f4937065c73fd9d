import ArgumentParser
import Foundation
import Ledger

/// Appends synthetic events forever, printing each acknowledged event id. Used by the crash test,
/// which kills this process with SIGKILL at random moments.
struct StressAppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress-append",
        abstract: "Append synthetic events in a loop and print each acknowledged event id (for crash tests).",
        shouldDisplay: false
    )

    @OptionGroup var ledgerOptions: LedgerOptions

    @OptionGroup var fsyncOptions: FsyncOptions

    @Option(help: "Concurrent producers.")
    var producers: Int = 4

    @Option(help: "Events per append call.")
    var batch: Int = 8

    @Option(help: "Segment size limit in bytes (small values exercise rotation).")
    var segmentBytes: Int = 64 << 10

    func validate() throws {
        guard (1...4_096).contains(producers) else { throw ValidationError("--producers must be 1 to 4096") }
        guard (1...100_000).contains(batch) else { throw ValidationError("--batch must be 1 to 100000") }
        guard segmentBytes >= 1 else { throw ValidationError("--segment-bytes must be 1 or more") }
    }

    func run() async throws {
        let writer = try LedgerWriter.open(
            LedgerConfiguration(directory: ledgerOptions.ledger, fsyncPolicy: fsyncOptions.fsync, segmentMaxBytes: segmentBytes))
        let batch = self.batch
        try await withThrowingTaskGroup(of: Void.self) { group in
            for producer in 0..<producers {
                group.addTask {
                    var round = 0
                    while true {
                        round += 1
                        let events = (0..<batch).map { index in
                            ProxyRequestEvent(
                                timestamp: .now, component: "stress", operation: "append",
                                jobID: "producer-\(producer)-\(round)-\(index)", success: true,
                                requestBytes: Int64(index), responseBytes: Int64(round),
                                estimatedBytes: Int64(index + round), bytesMeasured: true,
                                durationMS: 1, proxied: true)
                        }
                        let acks = try await writer.append(events)
                        let text = acks.map { "\($0.eventID.lowercaseString) \($0.position.sequence)\n" }.joined()
                        FileHandle.standardOutput.write(Data(text.utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
