import Foundation
import Logging
import ProxyGateway
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `make bench`, metering proxy rows (docs/benchmarks.md: ≥ 90 % of direct throughput on a 1 GiB
/// loopback transfer): the same 1 GiB download through a `CONNECT` tunnel, straight to the
/// upstream proxy (the baseline, measured in the same run), through ``MeteringProxy`` in front of
/// it, and through a ``BareRelay`` in front of it (one more hop with nothing in it: the ceiling
/// for any relay on this machine); then the latency the metering hop adds to a small request.
///
/// Everything runs on 127.0.0.1 and is written here with blocking POSIX sockets on threads, so the
/// stand-ins are not the bottleneck:
/// - the *origin* reads an 8-byte little-endian count and streams that many bytes back, repeatedly;
/// - the *upstream proxy* (the gateway stand-in) checks `Proxy-Authorization`, answers
///   `CONNECT host:port` with 200 and splices the bytes both ways (zero-copy `splice(2)` when
///   available), counting what it writes to its client, as Squid's `%<st` would.
enum MeteringBench {
    static let transferBytes = 1 << 30
    static let rounds = 7
    static let latencyRequests = 200
    static let username = "bench-rotate"
    static let password = "p@ss:w/rd%#"

    static func run() async throws {
        let origin = try OriginSource()
        let upstream = try TunnelProxy(originPort: origin.port, authorization: basic(username + ":" + password))
        defer {
            upstream.stop()
            origin.stop()
        }
        let logger = Logger(label: "bench.metering") { _ in SwiftLogNoOpLogHandler() }
        let proxy = try await MeteringProxy.start(
            upstream: try MeteringUpstream(host: "127.0.0.1", port: upstream.port, username: username, password: password),
            logger: logger)
        let relay = try BareRelay(forwardingTo: upstream.port)
        defer { relay.stop() }
        let gatewayAuthorization = basic(username + ":" + password)
        let direct = Client(proxyPort: upstream.port, authorization: gatewayAuthorization, originPort: origin.port)
        let relayed = Client(proxyPort: relay.port, authorization: gatewayAuthorization, originPort: origin.port)

        // Throughput: direct, bare relay and metered in turn, median of `rounds` each.
        var directRates: [Double] = []
        var relayRates: [Double] = []
        var meteredRates: [Double] = []
        var counted: (request: Int64, response: Int64) = (0, 0)
        var onWire: (request: Int, response: Int) = (0, 0)
        for _ in 0..<rounds {
            directRates.append(Double(transferBytes) / (try direct.download(transferBytes)).seconds)
            relayRates.append(Double(transferBytes) / (try relayed.download(transferBytes)).seconds)
            let lease = proxy.register(OperationAttribution(component: "bench", operation: "download-1gib"))
            let metered = Client(proxyPort: proxy.port, authorization: basic(lease.token + ":"), originPort: origin.port)
            await upstream.waitUntilIdle()  // the earlier tunnels' last counts are in
            upstream.resetCounts()
            let elapsed = try metered.download(transferBytes)
            let usage = await lease.finish()
            await upstream.waitUntilIdle()
            meteredRates.append(Double(transferBytes) / elapsed.seconds)
            counted = (usage.requestBytes, usage.responseBytes)
            onWire = upstream.counts
        }
        let directRate = median(directRates)
        let relayRate = median(relayRates)
        let meteredRate = median(meteredRates)
        let label = { (text: String) in text.padding(toLength: 58, withPad: " ", startingAt: 0) }
        print(label("metering  1 GiB CONNECT download, direct to the upstream")
            + String(format: " %10.0f MB/s      (baseline, median of %d)", directRate / 1e6, rounds))
        print(label("metering  1 GiB CONNECT download, through a bare relay hop")
            + String(format: " %10.0f MB/s  %6.1f %% of direct   (the ceiling for any relay here)",
                relayRate / 1e6, 100 * relayRate / directRate))
        print(label("metering  1 GiB CONNECT download, through MeteringProxy")
            + String(format: " %10.0f MB/s  %6.1f %% of direct   (target ≥ 90 %%; %.1f %% of the bare relay)",
                meteredRate / 1e6, 100 * meteredRate / directRate, 100 * meteredRate / relayRate))
        let megabytes = { (rates: [Double]) in rates.map { String(format: "%.0f", $0 / 1e6) }.joined(separator: " ") as NSString }
        print(String(format: "          rounds (MB/s): direct %@; bare relay %@; metered %@",
            megabytes(directRates), megabytes(relayRates), megabytes(meteredRates)))
        let exact = counted.response == Int64(onWire.response) && counted.request == Int64(onWire.request)
        print(String(format: "          counted %lld B down / %lld B up; upstream wire %d B down / %d B up (%@; ≥ 1 GiB: %@)",
            counted.response, counted.request, onWire.response, onWire.request,
            (exact ? "exact" : "MISMATCH") as NSString, (counted.response >= Int64(transferBytes) ? "yes" : "NO") as NSString))

        // Latency: CONNECT + a 1-byte request and reply, a fresh connection each, alternating.
        let lease = proxy.register(OperationAttribution(component: "bench", operation: "latency"))
        let metered = Client(proxyPort: proxy.port, authorization: basic(lease.token + ":"), originPort: origin.port)
        for _ in 0..<20 {
            _ = try direct.smallRequest()
            _ = try metered.smallRequest()
        }
        var directTimes: [Double] = []
        var meteredTimes: [Double] = []
        for _ in 0..<latencyRequests {
            directTimes.append(try direct.smallRequest().seconds * 1e6)
            meteredTimes.append(try metered.smallRequest().seconds * 1e6)
        }
        _ = await lease.finish()
        await proxy.shutdown(grace: .seconds(2))
        directTimes.sort()
        meteredTimes.sort()
        let p99 = { (sorted: [Double]) in sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)] }
        print(label("metering  added latency, CONNECT + 1-byte exchange ×\(latencyRequests)")
            + String(format: " %10.0f µs added at the median   (median / p99: direct %.0f / %.0f µs, metered %.0f / %.0f µs)",
                median(meteredTimes) - median(directTimes),
                median(directTimes), p99(directTimes), median(meteredTimes), p99(meteredTimes)))
    }

    static func basic(_ credentials: String) -> String { "Basic " + Data(credentials.utf8).base64EncodedString() }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

// MARK: - The client

/// A blocking client that opens a `CONNECT` tunnel to the origin through a proxy.
private struct Client {
    let proxyPort: Int
    let authorization: String
    let originPort: Int

    /// Downloads `bytes` through a fresh tunnel; returns the time from the request to the last byte.
    func download(_ bytes: Int) throws -> Duration {
        let fd = try openTunnel()
        defer { close(fd) }
        let capacity = 4 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 4096)
        defer { buffer.deallocate() }
        let started = ContinuousClock.now
        try Socket.sendCount(fd, bytes)
        var received = 0
        while received < bytes {
            let n = recv(fd, buffer, min(capacity, bytes - received), 0)
            guard n > 0 else { throw BenchSocketError("the tunnel ended after \(received) of \(bytes) bytes") }
            received += n
        }
        return ContinuousClock.now - started
    }

    /// One small request on a fresh connection: `CONNECT`, the 200, then 1 byte asked and read.
    func smallRequest() throws -> Duration {
        let started = ContinuousClock.now
        let fd = try openTunnel()
        defer { close(fd) }
        try Socket.sendCount(fd, 1)
        var byte: UInt8 = 0
        guard recv(fd, &byte, 1, Int32(MSG_WAITALL)) == 1 else { throw BenchSocketError("no reply byte") }
        return ContinuousClock.now - started
    }

    private func openTunnel() throws -> Int32 {
        let fd = try Socket.connect(port: proxyPort)
        let head = "CONNECT 127.0.0.1:\(originPort) HTTP/1.1\r\nHost: 127.0.0.1:\(originPort)\r\n"
            + "Proxy-Authorization: \(authorization)\r\n\r\n"
        do {
            try Socket.sendAll(fd, Array(head.utf8))
            let (reply, extra) = try Socket.readHead(fd)
            guard extra.isEmpty, String(decoding: reply.prefix(12), as: UTF8.self).hasSuffix(" 200") else {
                throw BenchSocketError("CONNECT refused: \(String(decoding: reply, as: UTF8.self))")
            }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }
}
