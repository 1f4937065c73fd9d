import Foundation
import Logging
import Testing
import TestSupport
import ProxyLab
import Ledger
import Reconciliation

@testable import ProxyGateway

/// The metering proxy in front of a real Squid (the lab gateway): our counts must equal what
/// Squid logs in its `ledger` format (`%>st` and `%<st`). Skips when Squid is not installed.
@Suite("MeteringProxy with a real Squid", .serialized)
struct MeteringSquidTests {
    @Test("plain GET, CONNECT tunnel and a wrong password: our bytes equal Squid's logged bytes")
    func countsMatchSquid() async throws {
        guard SquidGateway.isAvailable else {
            print("skipped: missing \(SquidGateway.missingTools().joined(separator: ", ")) (apt-get install squid apache2-utils)")
            return
        }
        let directory = try LabSupport.makeTemporaryDirectory(prefix: "metering-squid")
        defer { LabSupport.removeDirectory(directory) }
        let root = directory + "/origin"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: 300_000).write(to: URL(fileURLWithPath: root + "/blob.bin"))
        let configuration = SquidConfiguration(
            directory: directory + "/squid", username: LabSupport.username, password: LabSupport.hardPassword)
        try await withOriginServer(rootDirectory: root) { origin in
            try await withSquidGateway(configuration) { squid in
                let store = TestLog()
        let logger = store.logger(label: "metering-test")
                var usages: [MeteredUsage] = []
                for password in [LabSupport.hardPassword, "wrong-password"] {
                    let upstream = try MeteringUpstream(
                        host: squid.host, port: squid.port, username: squid.username, password: password)
                    let proxy = try await MeteringProxy.start(upstream: upstream, logger: logger)
                    let lease = proxy.register(OperationAttribution(component: "transcribe-worker", operation: "subtitle-download"))
                    let token = lease.token
                    let port = proxy.port
                    let originPort = origin.port
                    _ = try await StubClient.run {
                        let plain = try StubClient(port: port)
                        plain.send("GET http://127.0.0.1:\(originPort)/blob.bin HTTP/1.1\r\nHost: 127.0.0.1:\(originPort)\r\n"
                            + MeteringProxyTests.tokenHeader(token) + "\r\n")
                        _ = plain.readToEnd()
                        plain.close()
                        let tunnel = try StubClient(port: port)
                        tunnel.send("CONNECT 127.0.0.1:\(originPort) HTTP/1.1\r\n" + MeteringProxyTests.tokenHeader(token) + "\r\n")
                        let reply = String(decoding: tunnel.read(count: 39), as: UTF8.self)
                        if reply.hasPrefix("HTTP/1.1 200") {
                            tunnel.send("GET /blob.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                            _ = tunnel.readToEnd()
                        } else {
                            _ = tunnel.readToEnd()
                        }
                        tunnel.close()
                        return 0
                    }
                    usages.append(await lease.finish())
                    await proxy.shutdown(grace: .seconds(1))
                }
                // Squid writes its log line when the transaction ends; give it a moment.
                var entries = try squid.accessLogEntries()
                for _ in 0..<100 where entries.count < 3 {
                    try await Task.sleep(for: .milliseconds(50))
                    entries = try squid.accessLogEntries()
                }
                let good = usages[0]
                #expect(good.gatewayFailure == nil && good.exchanges.count == 2)
                #expect(good.totalBytes > 600_000)
                let denied = usages[1]
                #expect(denied.gatewayFailure?.errorType == .authFailure && denied.totalBytes > 0)
                #expect(denied.suppressedAfterAuthFailure == 1)
                let logged = entries.reduce(Int64(0)) { $0 + $1.bytes }
                #expect(entries.filter { $0.status == 407 }.count == 1)
                #expect(logged == good.totalBytes + denied.totalBytes, "squid logged \(logged)")
                #expect(entries.reduce(Int64(0)) { $0 + ($1.requestBytes ?? 0) } == good.requestBytes + denied.requestBytes)
                #expect(!store.text.contains(LabSupport.hardPassword))
            }
        }
    }
}
