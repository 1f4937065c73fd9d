import Foundation
import Ledger
import Logging
import ProxyGateway
import TestSupport
import Testing
import ProxyLab
import Reconciliation

@testable import Workers

/// Interruptions and launch failures through the real lab gateway (Squid) and the metering proxy.
@Suite(.serialized, .enabled(if: LabSupport.unavailableReason == nil, "needs squid, htpasswd and yt-dlp (.venv)"))
struct InterruptionLabTests {
    let logger = Logger(label: "test.interruption.lab")

    func meter(_ lab: LabEnvironment) async throws -> MeteringProxy {
        try await MeteringProxy.start(
            upstream: MeteringUpstream(
                host: lab.gateway.host, port: lab.gateway.port, username: lab.gateway.username,
                password: LabSupport.hardPassword),
            logger: logger)
    }

    func configuration(_ lab: LabEnvironment, ytDlp: String, sink: InMemoryEventSink, meter: MeteringProxy,
                       component: ProxyComponent) throws -> ProducerConfiguration
    {
        ProducerConfiguration(
            ytDlpPath: ytDlp,
            proxyService: try FakeYtDlp.service(
                component, host: lab.gateway.host, port: lab.gateway.port, password: LabSupport.hardPassword),
            sink: sink, timeout: .seconds(120), logger: logger, meter: meter)
    }

    /// The bug: SIGTERM while yt-dlp ran lost the event of an operation whose bytes the gateway
    /// had carried. Now the cancelled transcription appends one `interrupted` event with them.
    @Test func cancellingWhileYtDlpRunsRecordsTheBytesMeteredSoFar() async throws {
        let directory = try LabSupport.makeTemporaryDirectory(prefix: "interrupt-lab")
        defer { LabSupport.removeDirectory(directory) }
        let sink = InMemoryEventSink()
        let fetched = directory + "/fetched"
        let (result, video, accessLog) = try await withProxyLab(
            directory: directory, videoCount: 1, password: LabSupport.hardPassword
        ) { lab in
            let video = try #require(lab.fixtures.videos.first)
            let script = try FakeYtDlp.write(
                in: directory,
                body: """
                    curl -s -o /dev/null -x "$proxy" '\(video.captionURL)' || exit 3
                    touch '\(fetched)'
                    exec sleep 60
                    """)
            let meter = try await meter(lab)
            let transcriber = TranscribeWorker(
                configuration: try configuration(lab, ytDlp: script, sink: sink, meter: meter, component: .transcribe),
                outputDirectory: lab.outputDirectory)
            let job = TranscriptionJob(videoID: video.id, source: .infoJSON(path: video.infoJSONPath))
            let task = Task { try await transcriber.transcribe(job) }
            try await FakeYtDlp.waitForFile(fetched)
            task.cancel()
            let result = await task.result
            await meter.shutdown()
            return (result, video, lab.gateway.accessLogPath)
        }
        let error = try #require(result.error as? WorkerError)
        #expect(error.code == .operationFailed && error.isInterrupted, "\(error)")
        let events = await sink.events
        #expect(events.count == 1)
        let event = try #require(events.first)
        #expect(!event.success && event.errorType == .interrupted && event.bytesMeasured && event.proxied)
        #expect(event.videoID == video.id && error.event == event)
        #expect((event.responseBytes ?? 0) > video.captionBytes && (event.requestBytes ?? 0) > 0)
        let logged = try SquidGateway.readAccessLog(path: accessLog).filter { $0.target == video.captionURL }
        let theirs = logged.reduce(Int64(0)) { $0 + $1.bytes }
        let ours = event.estimatedBytes ?? 0
        #expect(logged.count == 1 && abs(Double(ours - theirs)) <= 0.005 * Double(theirs), "ours \(ours), Squid \(theirs)")
    }

    /// A batch whose second run cannot start: its lease had metered the first run's bytes, so a
    /// `connection_error` event records them and the launch failure carries it.
    @Test func aLaunchFailureAfterMeteredBytesIsRecordedAsConnectionError() async throws {
        let directory = try LabSupport.makeTemporaryDirectory(prefix: "launch-after-bytes")
        defer { LabSupport.removeDirectory(directory) }
        let sink = InMemoryEventSink()
        let (result, video) = try await withProxyLab(
            directory: directory, videoCount: 2, password: LabSupport.hardPassword
        ) { lab in
            let video = lab.fixtures.videos[0]
            // The stand-in fetches through the meter once, then removes itself.
            let script = try FakeYtDlp.write(
                in: directory,
                body: """
                    curl -s -o /dev/null -x "$proxy" '\(video.captionURL)' || exit 3
                    rm -f -- "$0"
                    echo '{"id": "\(video.id)"}'
                    """)
            let meter = try await meter(lab)
            let browser = ChannelBrowser(
                configuration: try configuration(lab, ytDlp: script, sink: sink, meter: meter, component: .api))
            let sources = lab.fixtures.videos.map { VideoSource.infoJSON(path: $0.infoJSONPath) }
            let result: Result<BatchMetadata, any Error>
            do { result = .success(try await browser.batchMetadata(sources)) } catch { result = .failure(error) }
            await meter.shutdown()
            return (result, video)
        }
        let error = try #require(result.error as? WorkerError)
        #expect(error.code == .launchFailed && error.errorType == .connectionError)
        let events = await sink.events
        #expect(events.count == 1 && error.event == events.first)
        let event = try #require(events.first)
        #expect(event.operation == "batch-metadata" && !event.success && event.errorType == .connectionError)
        #expect(event.bytesMeasured && (event.responseBytes ?? 0) > video.captionBytes)
    }
}
