import Foundation
import Ledger
import Testing
import Logging

@testable import ProxyGateway

@Suite("Metering: request heads, gateway replies, redaction")
struct MeteringParsingTests {
    @Test("CONNECT and absolute-form heads parse; the token comes from Basic proxy auth")
    func parseHeads() throws {
        let auth = Data("tok123:".utf8).base64EncodedString()
        let connect = try ProxyRequestHead(
            parsing: Array("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\nproxy-authorization: basic \(auth)\r\n\r\n".utf8))
        #expect(connect.isTunnel && connect.proxyToken == "tok123" && connect.targetHost == "[::1]")
        let get = try ProxyRequestHead(parsing: Array("GET http://u:p@example.com:8080/a?b HTTP/1.0\r\n\r\n".utf8))
        #expect(!get.isTunnel && get.targetHost == "example.com" && get.proxyToken == nil)
        for bad in ["GET /relative HTTP/1.1\r\n\r\n", "CONNECT host HTTP/1.1\r\n\r\n", "CONNECT a:99999 HTTP/1.1\r\n\r\n",
                    "GET http://x/ HTTP/2\r\n\r\n", "GET http://x/ HTTP/1.1\r\nno-colon\r\n\r\n"] {
            #expect(throws: ProxyRequestHead.Rejection.malformed) { try ProxyRequestHead(parsing: Array(bad.utf8)) }
        }
    }

    @Test("rewriting drops the client's credentials and hop-by-hop fields and adds the gateway's")
    func rewrite() throws {
        let head = try ProxyRequestHead(
            parsing: Array("GET http://h/ HTTP/1.1\r\nHost: h\r\nProxy-Authorization: Basic eDo=\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nAccept: */*\r\n\r\n".utf8))
        let text = String(decoding: head.rewritten(authorization: "Basic Z3c6cHc="), as: UTF8.self)
        #expect(text == "GET http://h/ HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nProxy-Authorization: Basic Z3c6cHc=\r\nConnection: close\r\n\r\n")
        let tunnel = try ProxyRequestHead(parsing: Array("CONNECT h:443 HTTP/1.1\r\nProxy-Authorization: Basic eDo=\r\n\r\n".utf8))
        #expect(String(decoding: tunnel.rewritten(authorization: "Basic Z3c6cHc="), as: UTF8.self)
            == "CONNECT h:443 HTTP/1.1\r\nProxy-Authorization: Basic Z3c6cHc=\r\n\r\n")
    }

    @Test(
        "gateway reply classification",
        arguments: [
            ("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", false, ProxyErrorType.authFailure),
            ("HTTP/1.1 429 Too Many Requests\r\n\r\n", true, .gatewayThrottled),
            ("HTTP/1.1 429 Too Many Requests\r\n\r\n", false, nil),
            ("HTTP/1.1 429 Too Many Requests\r\nX-Squid-Error: ERR_X 0\r\n\r\n", false, .gatewayThrottled),
            ("HTTP/1.1 403 Forbidden\r\nX-Webshare-Error-Reason: client_connect_forbidden_host\r\n\r\n", false, .httpError),
            ("HTTP/1.1 502 Bad Gateway\r\n\r\n", true, .connectionError),
            ("HTTP/1.1 504 Gateway Timeout\r\n\r\n", true, .timeout),
            ("HTTP/1.1 200 Connection established\r\n\r\n", true, nil),
            ("HTTP/1.0 404 Not Found\r\n\r\n", false, nil),
        ] as [(String, Bool, ProxyErrorType?)]
    )
    func classify(head: String, isTunnel: Bool, expected: ProxyErrorType?) throws {
        let reply = try #require(GatewayReply(parsing: Array(head.utf8)))
        #expect(reply.errorType(isTunnel: isTunnel) == expected)
    }

    @Test("the upstream, lease and errors never show the password or token")
    func redaction() async throws {
        let password = "s3cr3t:@/%#"
        let upstream = try MeteringUpstream(host: "127.0.0.1", port: 9, username: "user-rotate", password: password)
        var dumped = ""
        dump(upstream, to: &dumped)
        for text in ["\(upstream)", String(reflecting: upstream), dumped] {
            #expect(!text.contains(password) && text.contains("***"))
        }
        #expect(upstream.basicAuthorization == "Basic " + Data("user-rotate:\(password)".utf8).base64EncodedString())
        #expect(throws: MeteringError.self) { try MeteringUpstream(host: "h", port: 0, username: "u", password: password) }
        do {
            _ = try MeteringUpstream(host: "h", port: 80, username: "bad:user", password: password)
        } catch {
            #expect(error.code == .invalidUpstream && !error.description.contains(password))
        }
        let service = try ProxyService(
            settings: ProxySettings(enabled: true, gatewayHost: "127.0.0.1", gatewayPort: 9, username: "alice", password: password),
            component: .transcribe)
        let fromService = try MeteringUpstream(service: service)
        #expect(fromService.username == "alice-rotate" && fromService.password == password)
        #expect(throws: MeteringError.self) {
            try MeteringUpstream(service: try ProxyService(settings: ProxySettings(), component: .api))
        }
        let proxy = try await MeteringProxy.start(upstream: upstream, logger: .init(label: "t"))
        let lease = proxy.register(OperationAttribution(component: "c", operation: "o", attempt: 0))
        #expect(lease.proxyURL == "http://\(lease.token):lease@127.0.0.1:\(proxy.port)")
        #expect(lease.token.count == 32 && lease.token.allSatisfy(\.isHexDigit))
        #expect(!"\(lease)".contains(lease.token) && lease.attribution.attempt == 1)
        #expect(!lease.proxyURL.contains(password))
        await proxy.shutdown(grace: .zero)
    }
}

@Suite("Retry-After")
struct RetryAfterParsingTests {
    @Test("delay-seconds and an HTTP-date are read, anything else is ignored")
    func retryAfterForms() throws {
        let head = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\n\r\n"
        let reply = try #require(GatewayReply(parsing: Array(head.utf8)))
        #expect(reply.retryAfter == .seconds(7))
        #expect(reply.errorType(isTunnel: false) == .gatewayThrottled)
        let now = try #require(ISO8601DateFormatter().date(from: "2026-10-21T07:27:30Z"))
        #expect(GatewayReply.retryDelay("Wed, 21 Oct 2026 07:28:00 GMT", now: now) == .seconds(30))
        #expect(GatewayReply.retryDelay("Wed, 21 Oct 2026 07:00:00 GMT", now: now) == .zero, "a date past is no wait")
        #expect(GatewayReply.retryDelay("999999", now: now) == .seconds(86_400), "capped at a day")
        #expect(GatewayReply.retryDelay("soon", now: now) == nil)
        #expect(GatewayReply.retryDelay("-3", now: now) == nil)
    }

    @Test("usage asks for the longest wait of its 429 and 503 replies only")
    func usageRetryAfter() {
        var usage = MeteredUsage()
        let exchange = { (status: Int, wait: Duration?) in
            MeteredExchange(
                isTunnel: false, method: "GET", targetHost: "www.youtube.com", requestBytes: 1, responseBytes: 1,
                status: status, errorType: nil, errorReason: nil, retryAfter: wait, cutShort: false, isOpen: false)
        }
        usage.exchanges = [exchange(429, .seconds(2)), exchange(200, .seconds(60)), exchange(503, .seconds(5))]
        #expect(usage.retryAfter == .seconds(5))
        usage.exchanges = [exchange(200, .seconds(60))]
        #expect(usage.retryAfter == nil)
    }
}
