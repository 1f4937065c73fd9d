import Foundation
import Ledger
import Logging
@testable import ProxyGateway
import TestSupport
import Testing

@testable import Workers

/// A worker stopped before or while yt-dlp runs records an `interrupted` event and never reports
/// a launch failure; a genuine launch failure records nothing.
struct InterruptionTests {
    let logger = Logger(label: "test.interruption")

    func configuration(ytDlp: String, sink: any EventAppending, meter: MeteringProxy?, component: ProxyComponent)
        throws -> ProducerConfiguration
    {
        ProducerConfiguration(
            ytDlpPath: ytDlp, proxyService: try FakeYtDlp.service(component, password: "secret"), sink: sink,
            timeout: .seconds(60), logger: logger, meter: meter)
    }

    @Test func cancellingBeforeLaunchRecordsAnInterruptedEventWithZeroBytes() async throws {
        let output = try TemporaryDirectory("interrupt-before")
        let memory = InMemoryEventSink()
        let meter = try await FakeYtDlp.idleMeter(logger: logger)
        // The executable is missing too: a cancelled task still reports `interrupted`, not launchFailed.
        let transcriber = TranscribeWorker(
            configuration: try configuration(
                ytDlp: "/nonexistent/yt-dlp", sink: CancellationCheckingSink(inner: memory), meter: meter,
                component: .transcribe),
            outputDirectory: output.path)
        let job = TranscriptionJob(videoID: "abcdefghijk", source: .url("https://www.youtube.com/watch?v=abcdefghijk"))
        let result = await runCancelledBeforeStart { try await transcriber.transcribe(job) }
        await meter.shutdown()
        let error = try #require(result.error as? WorkerError)
        #expect(error.code == .operationFailed && error.isInterrupted)
        #expect(error.failure?.message == "interrupted: the worker was stopped while yt-dlp ran")
        let events = await memory.events
        #expect(events.count == 1)
        let event = try #require(events.first)
        #expect(!event.success && event.errorType == .interrupted && event.videoID == "abcdefghijk")
        #expect(event.bytesMeasured && event.requestBytes == 0 && event.responseBytes == 0 && event.proxied)
        #expect(error.event == event)
    }

    @Test func everyBrowserOperationCancelledBeforeLaunchIsRecorded() async throws {
        let memory = InMemoryEventSink()
        let browser = ChannelBrowser(
            configuration: try configuration(
                ytDlp: "/nonexistent/yt-dlp", sink: CancellationCheckingSink(inner: memory), meter: nil, component: .api))
        let results: [Result<Void, any Error>] = [
            await runCancelledBeforeStart { _ = try await browser.listChannel(url: "https://x.test/@c", channelName: "@c") },
            await runCancelledBeforeStart { _ = try await browser.videoMetadata(.url("https://x.test/v")) },
            await runCancelledBeforeStart {
                _ = try await browser.batchMetadata([.url("https://x.test/a"), .infoJSON(path: "/nonexistent.json")])
            },
        ]
        for result in results {
            let error = try #require(result.error as? WorkerError)
            #expect(error.code == .operationFailed && error.isInterrupted && error.event != nil)
        }
        let events = await memory.events
        #expect(events.map(\.operation) == ["channel-listing", "video-metadata", "batch-metadata"])
        #expect(events.allSatisfy { !$0.success && $0.errorType == .interrupted && $0.proxied && !$0.bytesMeasured })
    }

    @Test func aMissingExecutableIsALaunchFailureWithoutAnEvent() async throws {
        let output = try TemporaryDirectory("launch-failed")
        let memory = InMemoryEventSink()
        let meter = try await FakeYtDlp.idleMeter(logger: logger)
        let transcriber = TranscribeWorker(
            configuration: try configuration(
                ytDlp: "/nonexistent/yt-dlp", sink: memory, meter: meter, component: .transcribe),
            outputDirectory: output.path)
        let error = await #expect(throws: WorkerError.self) {
            try await transcriber.transcribe(TranscriptionJob(videoID: "abcdefghijk", source: .url("https://x.test/v")))
        }
        await meter.shutdown()
        #expect(error?.code == .launchFailed && error?.event == nil && error?.failure == nil)
        #expect(await memory.events.isEmpty)
        #expect(await memory.appendCalls == 0)
    }

    @Test func anInterruptedRunStaysInterruptedWhateverTheGatewaySaid() throws {
        let configuration = try configuration(
            ytDlp: "/bin/false", sink: InMemoryEventSink(), meter: nil, component: .transcribe)
        let interrupted = YtDlpRun.interrupted(startedAt: .now, durationMS: 5).failure
        var usage = MeteredUsage()
        usage.exchanges = [
            MeteredExchange(
                isTunnel: true, method: "CONNECT", targetHost: "www.youtube.com", requestBytes: 10, responseBytes: 0,
                status: nil, errorType: .connectionError, errorReason: nil, cutShort: true, isOpen: false)
        ]
        #expect(configuration.decisiveFailure(interrupted, usage: usage)?.errorType == .interrupted)
    }

    @Test func aRunThatSucceededBeforeTheCancellationIsNotInterrupted() {
        let run = YtDlpRun(
            exitCode: 0, standardOutput: [], standardError: "", startedAt: .now, durationMS: 1, timedOut: false)
        #expect(run.failure == nil && !run.interrupted)
    }
}

extension Result {
    /// The error, `nil` on success.
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
