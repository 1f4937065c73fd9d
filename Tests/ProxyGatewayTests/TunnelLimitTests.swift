import Foundation
import Ledger
import Logging
import Synchronization
import Testing

@testable import ProxyGateway

/// `--max-tunnels`: at most N exchanges open to the gateway; the clients above it wait for a
/// slot, and get 503 with a reason once the queue timeout passes. Nothing of theirs is forwarded.
@Suite struct TunnelLimitTests {
    static let tunnelRequest = "CONNECT www.youtube.com:443 HTTP/1.1\r\nHost: www.youtube.com:443\r\n\r\n"

    @Test func aClientAboveTheLimitGets503AfterTheQueueTimeoutAndNothingIsForwarded() async throws {
        let gateway = try StubGateway(.tunnel(reply: MeteringProxyTests.connectEstablished, payload: 100))
        defer { gateway.close() }
        let events = Mutex<[ProxyRequestEvent]>([])
        let proxy = try await Self.start(gateway: gateway, maxTunnels: 1, queueTimeout: .milliseconds(200)) { event in
            events.withLock { $0.append(event) }
        }
        let port = proxy.port
        let (held, refused) = try await StubClient.run {
            let first = try StubClient(port: port)
            first.send(Self.tunnelRequest)
            let opened = first.read(count: 39 + 100)
            let second = try StubClient(port: port)
            second.send(Self.tunnelRequest)
            let answer = String(decoding: second.readToEnd(), as: UTF8.self)
            second.close()
            first.close()
            return (opened.count, answer)
        }
        #expect(held == 139)
        #expect(refused.hasPrefix("HTTP/1.1 503") && refused.contains("X-Proxy-Ledger-Reason: max_tunnels"), "\(refused)")
        await gateway.waitForConnections(1)
        await proxy.shutdown(grace: .seconds(1))
        #expect(gateway.connections.count == 1, "the refused client never reached the gateway")
        #expect(events.withLock { $0.count } == 1, "only the tunnel that ran is an event")
    }

    @Test func aWaitingClientGetsTheSlotWhenATunnelEnds() async throws {
        let gateway = try StubGateway(.tunnel(reply: MeteringProxyTests.connectEstablished, payload: 100))
        defer { gateway.close() }
        let events = Mutex<[ProxyRequestEvent]>([])
        let proxy = try await Self.start(gateway: gateway, maxTunnels: 1, queueTimeout: .seconds(60)) { event in
            events.withLock { $0.append(event) }
        }
        let limiter = try #require(proxy.tunnelLimiter)
        let port = proxy.port
        let first = try StubClient(port: port)
        first.send(Self.tunnelRequest)
        _ = try await StubClient.run { first.read(count: 139).count }
        let waiting = Task {
            try await StubClient.run {
                let second = try StubClient(port: port)
                defer { second.close() }
                second.send(Self.tunnelRequest)
                return second.read(count: 139).count
            }
        }
        for _ in 0..<1_000 where limiter.waitingCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(limiter.waitingCount == 1 && limiter.openCount == 1)
        first.close()
        #expect(try await waiting.value == 139, "the second tunnel ran once the first had ended")
        await proxy.shutdown(grace: .seconds(1))
        #expect(gateway.connections.count == 2)
        #expect(events.withLock { $0.count } == 2)
        #expect(limiter.openCount == 0)
    }

    static func start(
        gateway: StubGateway, maxTunnels: Int, queueTimeout: Duration, record: @escaping @Sendable (ProxyRequestEvent) -> Void
    ) async throws -> MeteringProxy {
        let upstream = try MeteringUpstream(host: "127.0.0.1", port: Int(gateway.port), username: "u", password: "p")
        return try await MeteringProxy.startShared(
            upstream: upstream, access: .open, host: "127.0.0.1", port: 0, record: record, maxTunnels: maxTunnels,
            queueTimeout: queueTimeout, logger: Logger(label: "test.tunnels"))
    }
}
