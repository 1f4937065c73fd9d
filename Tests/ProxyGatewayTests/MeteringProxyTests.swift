import Foundation
import Ledger
import Logging
import Testing
import TestSupport

@testable import ProxyGateway

/// The metering proxy against scripted gateway stubs on 127.0.0.1. Every count is compared with
/// what the stub saw on its socket; every test also checks that no log line holds a secret.
@Suite("MeteringProxy", .serialized)
struct MeteringProxyTests {
    static let password = "p@ss:w/rd%#?"
    static let username = "alice-rotate"
    static let connectEstablished = "HTTP/1.1 200 Connection established\r\n\r\n"

    /// Runs `body` with a proxy in front of `gateway`, then checks the logs for secrets.
    static func withProxy(
        gatewayPort: UInt16, _ body: (MeteringProxy, MeteringLease) async throws -> Void
    ) async throws {
        let store = TestLog()
        let logger = store.logger(label: "metering-test")
        let upstream = try MeteringUpstream(host: "127.0.0.1", port: Int(gatewayPort), username: username, password: password)
        let proxy = try await MeteringProxy.start(upstream: upstream, logger: logger, connectTimeout: .seconds(3))
        let lease = proxy.register(OperationAttribution(component: "transcribe-worker", operation: "subtitle-download", jobID: "job-1", videoID: "vid"))
        try await body(proxy, lease)
        await proxy.shutdown(grace: .milliseconds(200))
        for secret in [password, upstream.basicAuthorization, lease.token] {
            #expect(!store.text.contains(secret), "a log line holds a secret")
        }
    }

    static func tokenHeader(_ token: String) -> String {
        "Proxy-Authorization: Basic \(Data("\(token):".utf8).base64EncodedString())\r\n"
    }

    @Test("plain GET: bytes counted exactly as the gateway saw them, real credentials added upstream")
    func plainGet() async throws {
        let reply = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world"
        let gateway = try StubGateway(.respond(reply))
        defer { gateway.close() }
        try await Self.withProxy(gatewayPort: gateway.port) { proxy, lease in
            let token = lease.token
            let received = try await StubClient.run {
                let client = try StubClient(port: proxy.port)
                defer { client.close() }
                client.send(
                    "GET http://127.0.0.1:9/timedtext?v=vid HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"
                        + Self.tokenHeader(token) + "Proxy-Connection: keep-alive\r\nUser-Agent: yt-dlp\r\n\r\n")
                return client.read(count: reply.utf8.count - "Connection: close\r\n".utf8.count)
            }
            let kept = reply.replacingOccurrences(of: "Connection: close\r\n", with: "")
            #expect(String(decoding: received, as: UTF8.self) == kept, "the client keeps its connection: no hop-by-hop fields")
            let usage = await lease.finish()
            await gateway.waitForConnections(1)
            let seen = try #require(gateway.connections.first)
            #expect(usage.requestBytes == Int64(seen.received.count))
            #expect(usage.responseBytes == Int64(seen.sent))
            #expect(usage.responseBytes == Int64(reply.utf8.count))
            #expect(usage.exchanges.count == 1)
            #expect(usage.lastStatus == 200)
            #expect(usage.gatewayFailure == nil)
            let head = String(decoding: seen.received, as: UTF8.self)
            let real = Data("\(Self.username):\(Self.password)".utf8).base64EncodedString()
            #expect(head.hasPrefix("GET http://127.0.0.1:9/timedtext?v=vid HTTP/1.1\r\n"))
            #expect(head.contains("Proxy-Authorization: Basic \(real)\r\n"))
            #expect(head.contains("Connection: close\r\n"))
            #expect(!head.contains(token))
            #expect(!head.contains("Proxy-Connection"))
        }
    }

    @Test("POST: the body is forwarded and counted")
    func postBody() async throws {
        let gateway = try StubGateway(.respond("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"))
        defer { gateway.close() }
        try await Self.withProxy(gatewayPort: gateway.port) { proxy, lease in
            let token = lease.token
            _ = try await StubClient.run {
                let client = try StubClient(port: proxy.port)
                defer { client.close() }
                client.send(
                    "POST http://127.0.0.1:9/youtubei/v1/player HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"
                        + Self.tokenHeader(token) + "Content-Length: 17\r\n\r\n{\"videoId\":\"vid\"}")
                return client.read(count: "HTTP/1.1 204 No Content\r\n\r\n".utf8.count)  // the connection stays open
            }
            let usage = await lease.finish()
            await gateway.waitForConnections(1)
            let seen = try #require(gateway.connections.first)
            #expect(String(decoding: seen.received, as: UTF8.self).hasSuffix("\r\n\r\n{\"videoId\":\"vid\"}"))
            #expect(usage.requestBytes == Int64(seen.received.count))
            #expect(usage.responseBytes == Int64(seen.sent))
        }
    }

    @Test("CONNECT tunnel: CONNECT request and reply and every tunnelled byte are counted")
    func connectTunnel() async throws {
        let gateway = try StubGateway(.tunnel(reply: Self.connectEstablished, payload: 50_000))
        defer { gateway.close() }
        try await Self.withProxy(gatewayPort: gateway.port) { proxy, lease in
            let token = lease.token
            let received = try await StubClient.run {
                let client = try StubClient(port: proxy.port)
                defer { client.close() }
                client.send("CONNECT www.youtube.com:443 HTTP/1.1\r\nHost: www.youtube.com:443\r\n" + Self.tokenHeader(token) + "\r\n")
                let bytes = client.read(count: 39 + 50_000)
                client.send([UInt8](repeating: 0x16, count: 1_234))
                return bytes.count
            }
            #expect(received == 39 + 50_000)
            let usage = await lease.finish()
            await gateway.waitForConnections(1)
            let seen = try #require(gateway.connections.first)
            #expect(usage.requestBytes == Int64(seen.received.count))
            #expect(seen.received.count > 1_234)
            #expect(usage.responseBytes == Int64(39 + 50_000))
            #expect(usage.exchanges.first?.isTunnel == true)
            #expect(usage.exchanges.first?.targetHost == "www.youtube.com")
            #expect(usage.exchanges.first?.cutShort == false)
            var event = usage.makeEvent(for: lease.attribution, timestamp: LedgerTimestamp(microseconds: 0), success: true)
            #expect(event.bytesMeasured && event.estimatedBytes == usage.totalBytes)
            #expect(event.extra["gateway_tunnels"] == .integer(1))
            usage.apply(to: &event)
            #expect(event.requestBytes == usage.requestBytes && event.jobID == "job-1")
        }
    }

    @Test("an unknown or missing token gets 407 and nothing is forwarded; so does a finished lease's")
    func unknownToken() async throws {
        let gateway = try StubGateway(.respond("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
        defer { gateway.close() }
        try await Self.withProxy(gatewayPort: gateway.port) { proxy, lease in
            let finished = proxy.register(OperationAttribution(component: "c", operation: "o"))
            let stale = finished.token
            _ = await finished.finish()
            for header in [Self.tokenHeader("0123456789abcdef0123456789abcdef"), "", Self.tokenHeader(stale)] {
                let reply = try await StubClient.run {
                    let client = try StubClient(port: proxy.port)
                    defer { client.close() }
                    client.send("GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\n" + header + "\r\n")
                    return String(decoding: client.readToEnd(), as: UTF8.self)
                }
                #expect(reply.hasPrefix("HTTP/1.1 407 "))
                #expect(reply.contains("Proxy-Authenticate: Basic"))
            }
            try await Task.sleep(for: .milliseconds(50))
            #expect(gateway.connections.isEmpty)
            #expect(await lease.finish().exchanges.isEmpty)
        }
    }

    @Test("a 407 from the gateway is auth_failure, costs bytes, and is not retried with the same credentials")
    func upstreamAuthFailure() async throws {
        let reply = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"gw\"\r\n"
            + "Content-Length: 20\r\nConnection: close\r\n\r\n<html>denied</html>\n"
        let gateway = try StubGateway(.respond(reply))
        defer { gateway.close() }
        try await Self.withProxy(gatewayPort: gateway.port) { proxy, lease in
            let token = lease.token
            for _ in 0..<2 {
                let answer = try await StubClient.run {
                    let client = try StubClient(port: proxy.port)
                    defer { client.close() }
                    client.send("CONNECT www.youtube.com:443 HTTP/1.1\r\n" + Self.tokenHeader(token) + "\r\n")
                    return String(decoding: client.readToEnd(), as: UTF8.self)
                }
                #expect(answer.hasPrefix("HTTP/1.1 407 "))
            }
            let usage = await lease.finish()
            #expect(usage.gatewayFailure == GatewayFailure(errorType: .authFailure, status: 407, reason: nil))
            #expect(usage.requestBytes > 0 && usage.responseBytes == Int64(reply.utf8.count))
            #expect(usage.suppressedAfterAuthFailure == 1)
            #expect(gateway.connections.count == 1)
            let event = usage.makeEvent(for: lease.attribution, timestamp: .now, success: false)
            #expect(event.errorType == .authFailure)
            #expect(event.extra["gateway_status"] == .integer(407))
            #expect(event.httpStatus == 407)
        }
    }

    @Test("a refused gateway connection is connection_error, with a local 502 and no bytes")
    func refused() async throws {
        let port = try LoopbackServer.closedPort()
        try await Self.withProxy(gatewayPort: port) { proxy, lease in
            let token = lease.token
            let answer = try await StubClient.run {
                let client = try StubClient(port: proxy.port)
                defer { client.close() }
                client.send("CONNECT www.youtube.com:443 HTTP/1.1\r\n" + Self.tokenHeader(token) + "\r\n")
                return String(decoding: client.readToEnd(), as: UTF8.self)
            }
            #expect(answer.hasPrefix("HTTP/1.1 502 "))
            let usage = await lease.finish()
            #expect(usage.gatewayFailure?.errorType == .connectionError)
            #expect(usage.gatewayFailure?.status == nil)
            #expect(usage.totalBytes == 0)
        }
    }

    @Test(
        "gateway refusals are classified from the gateway's reply",
        arguments: [
            ("HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n", ProxyErrorType.gatewayThrottled, 429, nil),
            (
                "HTTP/1.1 403 Forbidden\r\nX-Webshare-Error-Reason: client_connect_high_concurrency\r\nContent-Length: 0\r\n\r\n",
                .gatewayThrottled, 403, "client_connect_high_concurrency"
            ),
            (
                "HTTP/1.1 403 Forbidden\r\nX-Webshare-Error-Reason: client_connect_forbidden_host\r\nContent-Length: 0\r\n\r\n",
                .httpError, 403, "client_connect_forbidden_host"
            ),
            ("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", .connectionError, 502, nil),
            ("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", .connectionError, 503, nil),
        ] as [(String, ProxyErrorType, Int, String?)]
    )
    func refusedTunnels(reply: String, expected: ProxyErrorType, status: Int, reason: String?) async throws {
        let gateway = try StubGateway(.respond(reply))
        defer { gateway.close() }
        try await Self.withProxy(gatewayPort: gateway.port) { proxy, lease in
            let token = lease.token
            _ = try await StubClient.run {
                let client = try StubClient(port: proxy.port)
                defer { client.close() }
                client.send("CONNECT www.youtube.com:443 HTTP/1.1\r\n" + Self.tokenHeader(token) + "\r\n")
                return client.readToEnd()
            }
            let usage = await lease.finish()
            #expect(usage.gatewayFailure == GatewayFailure(errorType: expected, status: status, reason: reason))
            #expect(usage.responseBytes == Int64(reply.utf8.count))
            #expect(usage.requestBytes > 0)
            let extra = usage.makeEvent(for: lease.attribution, timestamp: .now, success: false).extra
            #expect(extra["gateway_status"] == .integer(Int64(status)))
            #expect(extra["gateway_error_reason"] == reason.map { .string($0) })
        }
    }
}
