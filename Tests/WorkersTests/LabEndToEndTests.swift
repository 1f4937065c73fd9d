import Foundation
import Ledger
import Logging
import ProxyGateway
import TestSupport
import Testing
import ProxyLab
import Reconciliation

@testable import Workers

/// Real Squid + origin + yt-dlp on 127.0.0.1. Skipped when squid, htpasswd or yt-dlp is missing.
@Suite(.serialized, .enabled(if: LabSupport.unavailableReason == nil, "needs squid, htpasswd and yt-dlp (.venv)"))
struct LabEndToEndTests {
    let logger = Logger(label: "test.lab")

    func producer(_ lab: LabEnvironment, password: String, component: ProxyComponent, sink: InMemoryEventSink)
        throws -> ProducerConfiguration
    {
        let settings = ProxySettings(
            enabled: true, gatewayHost: lab.gateway.host, gatewayPort: lab.gateway.port,
            username: lab.gateway.username, password: password, useBackbone: false, maxConcurrency: 2)
        let ytDlp = try #require(YtDlp.locate())
        return ProducerConfiguration(
            ytDlpPath: ytDlp, proxyService: try ProxyService(settings: settings, component: component), sink: sink,
            timeout: .seconds(120), logger: logger)
    }

    @Test func subtitlesAndChannelListingGoThroughTheGateway() async throws {
        let directory = try LabSupport.makeTemporaryDirectory()
        defer { LabSupport.removeDirectory(directory) }
        let sink = InMemoryEventSink()
        let (fixtures, accessLog, outputDirectory, listing, outcomes) = try await withProxyLab(
            directory: directory, videoCount: 3, username: LabSupport.username, password: LabSupport.hardPassword
        ) { lab in
            let transcriber = TranscribeWorker(
                configuration: try producer(lab, password: LabSupport.hardPassword, component: .transcribe, sink: sink),
                outputDirectory: lab.outputDirectory)
            let queue = JobQueue(
                lab.fixtures.videos.map { TranscriptionJob(videoID: $0.id, source: .infoJSON(path: $0.infoJSONPath)) })
            let worker = BaseWorker(proxyService: transcriber.configuration.proxyService, logger: logger) {
                try await transcriber.transcribe($0)
            }
            let outcomes = await worker.drain(queue)
            let browser = ChannelBrowser(
                configuration: try producer(lab, password: LabSupport.hardPassword, component: .api, sink: sink))
            let channel = try #require(lab.fixtures.channels.first)
            let listing = try await browser.listChannel(url: channel.feedURL, channelName: channel.name)
            return (lab.fixtures, lab.gateway.accessLogPath, lab.outputDirectory, listing, outcomes)
        }

        #expect(outcomes.count == 3)
        for outcome in outcomes { #expect(outcome.succeeded, "\(String(describing: outcome.error))") }
        let events = await sink.events
        #expect(events.count == 4)
        let subtitleEvents = events.filter { $0.operation == "subtitle-download" }
        #expect(subtitleEvents.count == 3)
        for video in fixtures.videos {
            let event = try #require(subtitleEvents.first { $0.videoID == video.id })
            #expect(event.success && event.proxied && !event.bytesMeasured)
            #expect(event.component == "transcribe-worker")
            #expect(event.errorType == nil && event.requestBytes == nil && event.responseBytes == nil)
            #expect(event.estimatedBytes == video.captionBytes)
            #expect((event.estimatedBytes ?? 0) > 0)
            let written = "\(outputDirectory)/\(video.id).en.json3"
            #expect(
                FileManager.default.contents(atPath: written) == FileManager.default.contents(atPath: video.captionPath)
            )
        }
        let listingEvent = try #require(events.first { $0.operation == "channel-listing" })
        #expect(listingEvent.component == "api-youtube-service" && listingEvent.success)
        #expect(listingEvent.channelName == "lab-channel-1" && (listingEvent.estimatedBytes ?? 0) > 0)
        #expect(listing.entries.map(\.id) == fixtures.videos.map(\.id))

        let entries = try SquidGateway.readAccessLog(path: accessLog)
        for video in fixtures.videos {
            let entry = entries.first { $0.method == "GET" && $0.target == video.captionURL }
            #expect(entry?.user == LabSupport.username)
            #expect(entry?.status == 200)
            #expect((entry?.responseBytes ?? 0) > video.captionBytes)
        }
        #expect(entries.contains { $0.target == fixtures.channels[0].feedURL && $0.user == LabSupport.username })
    }

    @Test func wrongPasswordIsRecordedAsAuthFailure() async throws {
        let directory = try LabSupport.makeTemporaryDirectory()
        defer { LabSupport.removeDirectory(directory) }
        let sink = InMemoryEventSink()
        let wrong = "not-the-p@ss:word"
        let (errors, accessLog) = try await withProxyLab(
            directory: directory, videoCount: 1, password: LabSupport.hardPassword
        ) { lab in
            let video = try #require(lab.fixtures.videos.first)
            let transcriber = TranscribeWorker(
                configuration: try producer(lab, password: wrong, component: .transcribe, sink: sink),
                outputDirectory: lab.outputDirectory)
            let browser = ChannelBrowser(configuration: try producer(lab, password: wrong, component: .api, sink: sink))
            var errors: [WorkerError] = []
            do {
                _ = try await transcriber.transcribe(
                    TranscriptionJob(videoID: video.id, source: .infoJSON(path: video.infoJSONPath)))
            } catch let error as WorkerError { errors.append(error) }
            do {
                _ = try await browser.listChannel(url: lab.fixtures.channels[0].feedURL, channelName: "lab-channel-1")
            } catch let error as WorkerError { errors.append(error) }
            return (errors, lab.gateway.accessLogPath)
        }
        #expect(errors.count == 2)
        for error in errors {
            #expect(error.code == .operationFailed)
            #expect(error.errorType == .authFailure)
            #expect(
                !error.description.contains(ProxyLabURLEncoding.encoded(wrong)) && !error.description.contains(wrong))
        }
        let events = await sink.events
        #expect(events.count == 2)
        #expect(events.allSatisfy { !$0.success && $0.errorType == .authFailure && $0.httpStatus == 407 })
        #expect(
            try SquidGateway.readAccessLog(path: accessLog).contains { $0.resultCode == "TCP_DENIED" && $0.status == 407 })
    }

    @Test func originRateLimitIsClassified() async throws {
        let directory = try LabSupport.makeTemporaryDirectory()
        defer { LabSupport.removeDirectory(directory) }
        let sink = InMemoryEventSink()
        let counters = RateLimitCounters()
        try await withProxyLab(directory: directory, videoCount: 1, password: LabSupport.hardPassword) { lab in
            let video = try #require(lab.fixtures.videos.first)
            let info = try String(contentsOfFile: video.infoJSONPath, encoding: .utf8)
                .replacingOccurrences(of: "/captions/", with: "/status/429/captions/")
            let limited = "\(lab.directory)/info/limited.info.json"
            try info.write(toFile: limited, atomically: true, encoding: .utf8)
            var configuration = try producer(lab, password: LabSupport.hardPassword, component: .transcribe, sink: sink)
            configuration.counters = counters
            let transcriber = TranscribeWorker(configuration: configuration, outputDirectory: lab.outputDirectory)
            await #expect(throws: WorkerError.self) {
                try await transcriber.transcribe(TranscriptionJob(videoID: video.id, source: .infoJSON(path: limited)))
            }
        }
        let event = try #require(await sink.events.first)
        #expect(event.errorType == .rateLimited && event.httpStatus == 429 && event.estimatedBytes == nil)
        #expect(await counters.snapshot.rateLimited == 1)
    }
}

extension LabEndToEndTests {
    @Test func metadataThroughTheGatewayAndDirectDownloadWhenDisabled() async throws {
        let directory = try LabSupport.makeTemporaryDirectory()
        defer { LabSupport.removeDirectory(directory) }
        let sink = InMemoryEventSink()
        let (videos, accessLog) = try await withProxyLab(
            directory: directory, videoCount: 2, password: LabSupport.hardPassword
        ) { lab in
            let browser = ChannelBrowser(
                configuration: try producer(lab, password: LabSupport.hardPassword, component: .api, sink: sink))
            let sources = lab.fixtures.videos.map { VideoSource.infoJSON(path: $0.infoJSONPath) }
            let single = try await browser.videoMetadata(sources[0])
            #expect(single.id == lab.fixtures.videos[0].id && single.channel == "lab-channel-1")
            let batch = try await browser.batchMetadata(sources)
            #expect(batch.videos.map(\.id) == lab.fixtures.videos.map(\.id) && batch.failure == nil)

            var direct = try producer(lab, password: LabSupport.hardPassword, component: .transcribe, sink: sink)
            direct.proxyService = try ProxyService(settings: ProxySettings(enabled: false), component: .transcribe)
            let transcriber = TranscribeWorker(configuration: direct, outputDirectory: lab.outputDirectory)
            let video = lab.fixtures.videos[1]
            let result = try await transcriber.transcribe(
                TranscriptionJob(videoID: video.id, source: .infoJSON(path: video.infoJSONPath), attempt: 2))
            #expect(result.subtitleFiles.count == 1)
            #expect(!transcriber.arguments(for: result.job).contains("--proxy"))
            return (lab.fixtures.videos, lab.gateway.accessLogPath)
        }
        let events = await sink.events
        #expect(events.map(\.operation) == ["video-metadata", "batch-metadata", "subtitle-download"])
        #expect(events[0].videoID == videos[0].id && events[0].proxied && (events[0].estimatedBytes ?? 0) > 0)
        #expect(events[1].component == "api-youtube-service" && events[1].success)
        let download = events[2]
        #expect(download.success && !download.proxied && download.attempt == 2)
        #expect(download.jobID != nil && download.correlationID == download.jobID)
        #expect(try !SquidGateway.readAccessLog(path: accessLog).contains { $0.target == videos[1].captionURL })
    }
}

/// The percent-encoded form of a password, as it would appear in a proxy URL.
enum ProxyLabURLEncoding {
    static func encoded(_ value: String) -> String { PercentEncoding.encodeUserinfo(value) }
}
