import Foundation
import Testing

@testable import ProxyGateway

/// Connectivity checks against stubs on 127.0.0.1 only. The target URL is also loopback, so
/// nothing could leave the machine even if the proxy were bypassed.
@Suite("ConnectivityChecker")
struct ConnectivityCheckerTests {
    static let target = "http://127.0.0.1:9/probe"
    static let password = "p@ss:w/rd%#?"

    static func service(host: String = "127.0.0.1", port: UInt16, useBackbone: Bool = true) throws -> ProxyService {
        let settings = ProxySettings(
            enabled: true, gatewayHost: host, gatewayPort: Int(port), username: "alice", password: password,
            useBackbone: useBackbone
        )
        return try ProxyService(settings: settings, component: .transcribe)
    }

    @Test("disabled: no traffic, .disabled")
    func disabled() async throws {
        let service = try ProxyService(settings: ProxySettings(), component: .transcribe)
        #expect(await ConnectivityChecker(service: service, targetURL: Self.target).check() == .disabled)
    }

    @Test("a closed loopback port is connection_refused")
    func connectionRefused() async throws {
        let port = try LoopbackServer.closedPort()
        let checker = ConnectivityChecker(
            service: try Self.service(port: port), targetURL: Self.target, timeoutMS: 5_000)
        let status = await checker.check()
        guard case .error(let reason, let detail) = status else {
            Issue.record("expected an error, got \(status)")
            return
        }
        #expect(reason == .connectionRefused)
        #expect(!detail.contains("p@ss"))
    }

    @Test("a 407 from the gateway is auth_failure")
    func authFailure() async throws {
        let server = try LoopbackServer(
            mode: .respond(
                "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n"
                    + "Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
        )
        defer { server.close() }
        let checker = ConnectivityChecker(service: try Self.service(port: server.port), targetURL: Self.target)
        let status = await checker.check()
        #expect(status == .error(reason: .authFailure, detail: "HTTP 407 Proxy Authentication Required"))
    }

    @Test("a 200 from the gateway is ok, sent as HEAD with Basic proxy credentials")
    func ok() async throws {
        let server = try LoopbackServer(
            mode: .respond("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nConnection: close\r\n\r\n")
        )
        defer { server.close() }
        let service = try Self.service(port: server.port)
        let status = await ConnectivityChecker(service: service, targetURL: Self.target).check()
        guard case .ok(let httpStatus, let durationMS) = status else {
            Issue.record("expected ok, got \(status)")
            return
        }
        #expect(httpStatus == 200)
        #expect(durationMS >= 0 && durationMS < 10_000)
        let request = try #require(server.requests.first)
        #expect(request.hasPrefix("HEAD \(Self.target) HTTP/1.1\r\n"))
        let credentials = Data("alice-rotate:\(Self.password)".utf8).base64EncodedString()
        #expect(request.contains("Proxy-Authorization: Basic \(credentials)\r\n"))
    }

    @Test("a 502 from the gateway is http_error")
    func httpError() async throws {
        let server = try LoopbackServer(
            mode: .respond("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        )
        defer { server.close() }
        let checker = ConnectivityChecker(service: try Self.service(port: server.port), targetURL: Self.target)
        let status = await checker.check()
        #expect(status == .error(reason: .httpError, detail: "HTTP 502"), "got \(status)")
    }

    @Test("a gateway that accepts but never answers is timeout")
    func timeout() async throws {
        let server = try LoopbackServer(mode: .silent)
        defer { server.close() }
        let checker = ConnectivityChecker(
            service: try Self.service(port: server.port), targetURL: Self.target, timeoutMS: 500
        )
        let status = await checker.check()
        guard case .error(let reason, _) = status else {
            Issue.record("expected an error, got \(status)")
            return
        }
        #expect(reason == .timeout, "the 500 ms timeout fired (behaviour, not wall time, is checked)")
    }

    @Test("an unresolvable gateway host is dns (or timeout when the resolver is slow)")
    func dns() async throws {
        let checker = ConnectivityChecker(
            service: try Self.service(host: "nonexistent.invalid", port: 8080), targetURL: Self.target,
            timeoutMS: 1_500
        )
        let status = await checker.check()
        guard case .error(let reason, _) = status else {
            Issue.record("expected an error, got \(status)")
            return
        }
        #expect(reason == .dns || reason == .timeout)
    }

    @Test("concurrent checks each get their own curl handle")
    func concurrentChecks() async throws {
        let server = try LoopbackServer(
            mode: .respond("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        )
        defer { server.close() }
        let checker = ConnectivityChecker(service: try Self.service(port: server.port), targetURL: Self.target)
        let statuses = await withTaskGroup(of: ConnectivityStatus.self) { group in
            for _ in 0..<8 { group.addTask { await checker.check() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.count == 8)
        for status in statuses {
            guard case .ok(let httpStatus, _) = status else {
                Issue.record("expected ok, got \(status)")
                continue
            }
            #expect(httpStatus == 204)
        }
    }
}
