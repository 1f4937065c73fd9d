import Foundation
import Ledger
import Logging
import ProxyGateway
import Synchronization
import TestSupport
import Testing

@testable import Workers

/// A clock that stands still except when something sleeps on it; it records every sleep.
final class ManualPacingClock: PacingClock {
    private let state = Mutex<(now: Duration, sleeps: [Duration])>((.zero, []))

    var now: Duration { state.withLock { $0.now } }
    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    func sleep(for duration: Duration) async throws {
        state.withLock {
            $0.sleeps.append(duration)
            $0.now += duration
        }
    }

    /// Moves the clock forward without a sleep (time spent elsewhere).
    func advance(_ duration: Duration) { state.withLock { $0.now += duration } }
}

struct RequestPacerTests {
    let two = Duration.seconds(2)

    @Test func theIntervalRunsFromTheEndOfOneRequestToTheStartOfTheNext() async throws {
        let clock = ManualPacingClock()
        let pacer = RequestPacer(clock: clock)
        let counters = RateLimitCounters()
        #expect(try await pacer.waitForTurn(minimumInterval: two, counters: counters) == .zero)
        clock.advance(.seconds(5))  // the request takes 5 s
        await pacer.requestFinished()
        clock.advance(.milliseconds(500))
        #expect(try await pacer.waitForTurn(minimumInterval: two, counters: counters) == .milliseconds(1500))
        await pacer.requestFinished()
        clock.advance(.seconds(3))
        #expect(try await pacer.waitForTurn(minimumInterval: two, counters: counters) == .zero)
        #expect(clock.sleeps == [.milliseconds(1500)])
    }

    @Test func twoStartsWithoutAnEndAreStillSpacedApart() async throws {
        let clock = ManualPacingClock()
        let pacer = RequestPacer(clock: clock)
        let counters = RateLimitCounters()
        #expect(try await pacer.waitForTurn(minimumInterval: two, counters: counters) == .zero)
        #expect(try await pacer.waitForTurn(minimumInterval: two, counters: counters) == two)
        #expect(try await pacer.waitForTurn(minimumInterval: two, counters: counters) == two)
    }

    @Test func recentThrottlingDoublesTheIntervalPerFailureUpToTheCap() async throws {
        let clock = ManualPacingClock()
        let pacer = RequestPacer(clock: clock, maximumInterval: .seconds(60), failureWindow: .seconds(600))
        let counters = RateLimitCounters()
        #expect(await pacer.interval(minimumInterval: two, counters: counters) == two)
        await counters.record(.rateLimited)
        #expect(await pacer.interval(minimumInterval: two, counters: counters) == .seconds(4))
        await counters.record(.botCheck)
        await counters.record(.rateLimited)
        #expect(await pacer.interval(minimumInterval: two, counters: counters) == .seconds(16))
        // Other failures and successes do not count.
        await counters.record(.notFound)
        await counters.record(nil)
        #expect(await pacer.interval(minimumInterval: two, counters: counters) == .seconds(16))
        for _ in 0..<3 { await counters.record(.botCheck) }
        #expect(await pacer.interval(minimumInterval: two, counters: counters) == .seconds(60))
        #expect(await pacer.interval(minimumInterval: .zero, counters: counters) == .zero)
    }

    @Test func failuresOlderThanTheWindowNoLongerCount() async throws {
        let clock = ManualPacingClock()
        let pacer = RequestPacer(clock: clock, failureWindow: .seconds(600))
        let counters = RateLimitCounters()
        _ = await pacer.interval(minimumInterval: two, counters: counters)
        await counters.record(.rateLimited)
        #expect(await pacer.interval(minimumInterval: two, counters: counters) == .seconds(4))
        clock.advance(.seconds(300))
        await counters.record(.botCheck)
        #expect(await pacer.interval(minimumInterval: two, counters: counters) == .seconds(8))
        clock.advance(.seconds(300))
        #expect(await pacer.interval(minimumInterval: two, counters: counters) == .seconds(4))
        clock.advance(.seconds(300))
        #expect(await pacer.interval(minimumInterval: two, counters: counters) == two)
    }

    @Test func theDefaultIntervalFollowsTheRoute() throws {
        func configuration(enabled: Bool) throws -> ProducerConfiguration {
            let settings = ProxySettings(enabled: enabled, username: "u", password: "p")
            return ProducerConfiguration(
                ytDlpPath: "/bin/true", proxyService: try ProxyService(settings: settings, component: .transcribe),
                sink: InMemoryEventSink())
        }
        #expect(try configuration(enabled: false).minimumInterval == .seconds(2))
        #expect(try configuration(enabled: true).minimumInterval == .zero)
    }

    /// Through a worker with the proxy off: the second run waits the interval, the run after a
    /// 429 waits twice as long; with the proxy on nothing waits.
    @Test(arguments: [false, true])
    func producersPaceRunsOnlyWithTheProxyOff(proxyEnabled: Bool) async throws {
        let directory = try TemporaryDirectory("pacing")
        let script = try FakeYtDlp.write(
            in: directory.path,
            body: """
                case "$*" in
                  *limited*) echo 'ERROR: [youtube] x: HTTP Error 429: Too Many Requests' >&2; exit 1 ;;
                  *) echo '{"id": "abcdefghijk"}' ;;
                esac
                """)
        let clock = ManualPacingClock()
        let settings = ProxySettings(enabled: proxyEnabled, gatewayPort: 9, username: "u", password: "p")
        let configuration = ProducerConfiguration(
            ytDlpPath: script, proxyService: try ProxyService(settings: settings, component: .api),
            sink: InMemoryEventSink(), minimumInterval: two, pacer: RequestPacer(clock: clock))
        let browser = ChannelBrowser(configuration: configuration)
        _ = try await browser.videoMetadata(.url("https://x.test/ok"))
        _ = try await browser.videoMetadata(.url("https://x.test/ok"))
        await #expect(throws: WorkerError.self) { try await browser.videoMetadata(.url("https://x.test/limited")) }
        _ = try await browser.videoMetadata(.url("https://x.test/ok"))
        #expect(clock.sleeps == (proxyEnabled ? [] : [two, two, .seconds(4)]))
    }
}
