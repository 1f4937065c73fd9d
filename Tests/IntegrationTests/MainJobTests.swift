import Foundation
import Ledger
import Logging
import MainJob
import Projections
import Testing
import TestSupport
import ProxyLab
import Reconciliation

/// The main job end to end on the real lab, as `proxy-ledger demo` runs it.
@Suite(.serialized) struct MainJobTests {
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func twentyTranscriptionsAndTwoListingsThroughTheAuthenticatedGateway() async throws {
        let root = try LabSupport.makeTemporaryDirectory(prefix: "main-job")
        defer { LabSupport.removeDirectory(root) }
        let ytDlp = try #require(YtDlp.locate())
        var options = LabRunOptions(
            ledgerDirectory: root + "/ledger", databasePath: root + "/projections.sqlite", labDirectory: root + "/lab",
            username: LabSupport.username, password: LabRunOptions.makeLabPassword(), maxConcurrency: 6,
            ytDlpPath: ytDlp)
        #expect(["@", ":", "/", "%", "#"].allSatisfy { options.password.contains($0) })
        var logger = Logger(label: "test")
        logger.logLevel = .warning

        let report = try await LabRun.run(options, logger: logger)

        #expect(report.transcriptionsSucceeded == 20)
        #expect(report.channelListingsSucceeded == 2)
        #expect(report.eventsAppended == 22)
        let operations = Dictionary(grouping: report.events, by: \.operation).mapValues(\.count)
        #expect(operations == ["subtitle-download": 20, "channel-listing": 2])
        #expect(report.events.allSatisfy { $0.proxied && $0.success && ($0.estimatedBytes ?? 0) > 0 })

        // Every successful job left a request in Squid's access log, made by the lab user.
        let logged = report.gatewayLog.filter { $0.user == LabSupport.username && $0.status == 200 }
        let loggedURLs = Set(logged.compactMap(\.target))
        let lab = root + "/lab"
        for event in report.events where event.operation == "subtitle-download" {
            let videoID = try #require(event.videoID)
            #expect(loggedURLs.contains { $0.hasSuffix("/captions/\(videoID).en.json3") }, "no gateway request for \(videoID)")
        }
        #expect(logged.filter { $0.target?.hasSuffix(".rss") == true }.count == 2)
        #expect(FileManager.default.fileExists(atPath: lab + "/squid/gateway-access.log"), "lab files are kept")

        // The ledger verifies, and the projection holds exactly the events.
        let verification = try LedgerVerifier.verify(directory: options.ledgerDirectory)
        #expect(verification.isClean)
        #expect(verification.events == 22)
        #expect(report.projectedRows == 22)
        let store = try ProjectionStore(path: options.databasePath)
        #expect(try store.requestLogCount() == 22)
        let summary = try store.summary(since: nil)
        try store.close()
        #expect(summary.totalRequests == 22)
        #expect(summary.successfulRequests == 22)
        #expect(summary.failedRequests == 0)
        #expect(summary.byComponent == ["transcribe-worker": 20, "api-youtube-service": 2])
        #expect(summary.bandwidthBytes == report.events.reduce(0) { $0 + ($1.estimatedBytes ?? 0) })

        // A second run appends to the same ledger and projection.
        options.transcriptionJobs = 2
        options.channelListings = 1
        options.labDirectory = root + "/lab2"
        let second = try await LabRun.run(options, logger: logger)
        #expect(second.eventsAppended == 3)
        #expect(second.summary.totalRequests == 25)
        #expect(try LedgerVerifier.verify(directory: options.ledgerDirectory).events == 25)
    }
}
