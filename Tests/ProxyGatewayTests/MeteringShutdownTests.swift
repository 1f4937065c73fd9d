import Foundation
import Ledger
import Logging
import Testing
import TestSupport

@testable import ProxyGateway

/// Tunnels cut short: by shutdown, and by the gateway resetting the connection.
@Suite("MeteringProxy shutdown and cut tunnels", .serialized)
struct MeteringShutdownTests {
    @Test("shutdown closes a tunnel still open after the grace period and still reports its bytes")
    func shutdownCutsTunnel() async throws {
        let gateway = try StubGateway(.tunnel(reply: MeteringProxyTests.connectEstablished, payload: 3_000))
        defer { gateway.close() }
        let store = TestLog()
        let logger = store.logger(label: "metering-test")
        let upstream = try MeteringUpstream(
            host: "127.0.0.1", port: Int(gateway.port), username: "u", password: MeteringProxyTests.password)
        let proxy = try await MeteringProxy.start(upstream: upstream, logger: logger)
        let lease = proxy.register(OperationAttribution(component: "api-youtube-service", operation: "channel-listing", channelName: "chan"))
        let token = lease.token
        let client = try await StubClient.run { try StubClient(port: proxy.port) }
        let got = try await StubClient.run {
            client.send("CONNECT www.youtube.com:443 HTTP/1.1\r\n" + MeteringProxyTests.tokenHeader(token) + "\r\n")
            client.send([UInt8](repeating: 1, count: 500))
            return client.read(count: 39 + 3_000).count
        }
        #expect(got == 39 + 3_000)
        let started = ContinuousClock.now
        let open = await proxy.shutdown(grace: .milliseconds(300))
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        client.close()
        #expect(proxy.openConnectionCount == 0)
        let ended = try #require(open.first)
        #expect(open.count == 1)
        #expect(ended.attribution.channelName == "chan")
        #expect(ended.usage.responseBytes == Int64(39 + 3_000))
        await gateway.waitForConnections(1)
        #expect(ended.usage.requestBytes == Int64(try #require(gateway.connections.first).received.count))
        #expect(ended.usage.cutShortCount == 1)
        let event = ended.usage.makeEvent(for: ended.attribution, timestamp: .now, success: false)
        #expect(event.bytesMeasured && event.requestBytes == ended.usage.requestBytes)
        #expect(event.extra["gateway_cut_short"] == .integer(1))
        #expect(await lease.finish() == ended.usage)
        #expect(!store.text.contains(MeteringProxyTests.password))
    }

    @Test("shutdown lets a tunnel that ends within the grace period finish normally")
    func shutdownWaitsForGrace() async throws {
        let gateway = try StubGateway(.tunnel(reply: MeteringProxyTests.connectEstablished, payload: 100))
        defer { gateway.close() }
        let upstream = try MeteringUpstream(host: "127.0.0.1", port: Int(gateway.port), username: "u", password: "p")
        let proxy = try await MeteringProxy.start(upstream: upstream, logger: Logger(label: "test"))
        let lease = proxy.register(OperationAttribution(component: "c", operation: "o"))
        let token = lease.token
        let client = try await StubClient.run { try StubClient(port: proxy.port) }
        _ = try await StubClient.run {
            client.send("CONNECT h:443 HTTP/1.1\r\n" + MeteringProxyTests.tokenHeader(token) + "\r\n")
            return client.read(count: 139).count
        }
        let closer = Task.detached {
            try await Task.sleep(for: .milliseconds(100))
            client.close()
        }
        let open = await proxy.shutdown(grace: .seconds(3))
        try await closer.value
        #expect(open.first?.usage.cutShortCount == 0)
        #expect(open.first?.usage.responseBytes == 139)
        // A new connection after shutdown is refused.
        #expect(throws: (any Error).self) { _ = try StubClient(port: proxy.port) }
    }

    @Test("a gateway reset mid-tunnel is connection_error and keeps the bytes so far")
    func resetMidTunnel() async throws {
        let gateway = try StubGateway(.resetAfter(reply: MeteringProxyTests.connectEstablished, payload: 2_000))
        defer { gateway.close() }
        let upstream = try MeteringUpstream(host: "127.0.0.1", port: Int(gateway.port), username: "u", password: "p")
        let proxy = try await MeteringProxy.start(upstream: upstream, logger: Logger(label: "test"))
        let lease = proxy.register(OperationAttribution(component: "c", operation: "o"))
        let token = lease.token
        let got = try await StubClient.run {
            let client = try StubClient(port: proxy.port)
            defer { client.close() }
            client.send("CONNECT h:443 HTTP/1.1\r\n" + MeteringProxyTests.tokenHeader(token) + "\r\n")
            return client.readToEnd().count
        }
        let usage = await lease.finish()
        await proxy.shutdown()
        #expect(got == 39 + 2_000)
        #expect(usage.responseBytes == Int64(39 + 2_000))
        #expect(usage.requestBytes > 0)
        #expect(usage.gatewayFailure?.errorType == .connectionError)
        #expect(usage.gatewayFailure?.status == 200)
    }

    @Test("an origin's 429 on a plain request is not a gateway error; a marked one is")
    func originVersusGateway() async throws {
        for (reply, expected) in [
            ("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n", nil),
            (
                "HTTP/1.1 429 Too Many Requests\r\nX-Webshare-Error-Reason: client_connect_high_concurrency\r\n"
                    + "Content-Length: 0\r\n\r\n", ProxyErrorType.gatewayThrottled
            ),
        ] as [(String, ProxyErrorType?)] {
            let gateway = try StubGateway(.respond(reply))
            defer { gateway.close() }
            let upstream = try MeteringUpstream(host: "127.0.0.1", port: Int(gateway.port), username: "u", password: "p")
            let proxy = try await MeteringProxy.start(upstream: upstream, logger: Logger(label: "test"))
            let lease = proxy.register(OperationAttribution(component: "c", operation: "o"))
            let token = lease.token
            _ = try await StubClient.run {
                let client = try StubClient(port: proxy.port)
                defer { client.close() }
                client.send("GET http://www.youtube.com/watch?v=x HTTP/1.1\r\n" + MeteringProxyTests.tokenHeader(token) + "\r\n")
                return client.readToEnd()
            }
            let usage = await lease.finish()
            await proxy.shutdown()
            #expect(usage.lastStatus == 429)
            #expect(usage.gatewayFailure?.errorType == expected)
        }
    }
}
