import Foundation
import Ledger
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `make bench`, shared metering listener row (`BENCH_ONLY=listener`): 200 concurrent clients,
/// each sending keep-alive plain-HTTP requests on one connection and then opening CONNECT
/// tunnels, through a `proxy-ledger proxy` child process in front of the gateway stand-in, beside
/// the same requests sent straight to the stand-in in the same run. It prints the exchanges made
/// beside the events the proxy appended (no event may be lost), the p99 latency the proxy adds,
/// and the proxy process's CPU time per GB relayed.
enum SharedProxyBench {
    static let clients = 200
    static let plainRequests = 10
    static let tunnels = 2
    static let plainBytes = 16 * 1024
    static let tunnelBytes = 256 * 1024

    static func run(directory: String) async throws {
        let binary = (CommandLine.arguments[0] as NSString).deletingLastPathComponent + "/proxy-ledger"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            print("listener  200 clients: proxy-ledger not found beside the bench (make bench builds both)")
            return
        }
        let origin = try OriginSource()
        let gateway = try TunnelProxy(
            originPort: origin.port, authorization: MeteringBench.basic(MeteringBench.username + ":" + MeteringBench.password))
        defer {
            gateway.stop()
            origin.stop()
        }
        let direct = try runClients(proxyPort: gateway.port, originPort: origin.port, keepAlive: false,
            authorization: { _ in MeteringBench.basic(MeteringBench.username + ":" + MeteringBench.password) })
        let ledger = directory + "/listener-ledger"
        let child = try ProxyChild(binary: binary, ledger: ledger, gatewayPort: gateway.port, directory: directory)
        gateway.resetCounts()
        let cpuBefore = child.cpuSeconds()
        let metered = try runClients(proxyPort: child.port, originPort: origin.port, keepAlive: true,
            authorization: { MeteringBench.basic("bench-listener/client-\($0):") })
        let cpu = child.cpuSeconds() - cpuBefore
        let wire = gateway.counts
        try child.stop()
        var events = 0
        try LedgerReader(directory: ledger).scanAll { events += $0.count }
        report(direct: direct, metered: metered, events: events, cpu: cpu, bytes: wire.request + wire.response)
    }

    static func report(direct: [Double], metered: [Double], events: Int, cpu: Double, bytes: Int) {
        let exchanges = clients * (plainRequests + tunnels)
        let p99 = { (values: [Double]) -> Double in
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
        }
        let label = { (text: String) in text.padding(toLength: 58, withPad: " ", startingAt: 0) }
        print(label("listener  \(clients) clients × (\(plainRequests) keep-alive GETs + \(tunnels) tunnels)")
            + String(format: " %6d exchanges, %6d events (%@)", metered.count, events,
                (events == exchanges && metered.count == exchanges ? "none lost" : "MISMATCH") as NSString))
        print(label("listener  added latency per exchange, p99")
            + String(format: " %10.0f µs added   (median / p99: direct %.0f / %.0f µs, through the proxy %.0f / %.0f µs)",
                p99(metered) - p99(direct), MeteringBench.median(direct), p99(direct), MeteringBench.median(metered), p99(metered)))
        print(label("listener  proxy CPU per GB relayed")
            + String(format: " %10.2f CPU s/GB  (%.2f CPU s for %.0f MB on the gateway side)", cpu / (Double(bytes) / 1e9), cpu,
                Double(bytes) / 1e6))
    }

    /// Runs the clients at once, each on its own thread; returns every exchange's latency in µs.
    static func runClients(
        proxyPort: Int, originPort: Int, keepAlive: Bool, authorization: @escaping @Sendable (Int) -> String
    ) throws -> [Double] {
        let latencies = Mutex<[Double]>([])
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        for index in 0..<clients {
            group.enter()
            Socket.spawn {
                defer { group.leave() }
                do {
                    let client = ListenerClient(
                        proxyPort: proxyPort, originPort: originPort, authorization: authorization(index), keepAlive: keepAlive)
                    let times = try client.run()
                    latencies.withLock { $0 += times }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        group.wait()
        if let failure = failures.withLock({ $0.first }) { throw BenchSocketError("a listener client failed: \(failure)") }
        return latencies.withLock { $0 }
    }
}

/// One bench client: plain GETs (on one connection when `keepAlive`), then CONNECT tunnels.
private struct ListenerClient {
    let proxyPort: Int
    let originPort: Int
    let authorization: String
    let keepAlive: Bool

    func run() throws -> [Double] {
        var times: [Double] = []
        var connection: Int32 = -1
        defer { if connection >= 0 { close(connection) } }
        for _ in 0..<SharedProxyBench.plainRequests {
            let started = ContinuousClock.now
            if connection < 0 { connection = try Socket.connect(port: proxyPort) }
            try get(on: connection)
            if !keepAlive {
                close(connection)
                connection = -1
            }
            times.append((ContinuousClock.now - started).seconds * 1e6)
        }
        for _ in 0..<SharedProxyBench.tunnels { times.append(try tunnel()) }
        return times
    }

    private func get(on fd: Int32) throws {
        let head = "GET http://127.0.0.1:\(originPort)/bytes/\(SharedProxyBench.plainBytes) HTTP/1.1\r\n"
            + "Host: 127.0.0.1:\(originPort)\r\nProxy-Authorization: \(authorization)\r\n\r\n"
        let extra = try send(head, on: fd, expecting: "GET")
        try drain(fd, SharedProxyBench.plainBytes - extra.count)
    }

    private func tunnel() throws -> Double {
        let started = ContinuousClock.now
        let fd = try Socket.connect(port: proxyPort)
        defer { close(fd) }
        let head = "CONNECT 127.0.0.1:\(originPort) HTTP/1.1\r\nHost: 127.0.0.1:\(originPort)\r\n"
            + "Proxy-Authorization: \(authorization)\r\n\r\n"
        _ = try send(head, on: fd, expecting: "CONNECT")
        try Socket.sendCount(fd, SharedProxyBench.tunnelBytes)
        try drain(fd, SharedProxyBench.tunnelBytes)
        return (ContinuousClock.now - started).seconds * 1e6
    }

    /// Sends a request head and reads the reply head, which must be a 200.
    /// - Returns: The bytes read past the reply head.
    private func send(_ head: String, on fd: Int32, expecting what: String) throws -> [UInt8] {
        try Socket.sendAll(fd, Array(head.utf8))
        let (reply, extra) = try Socket.readHead(fd)
        guard String(decoding: reply.prefix(12), as: UTF8.self).hasSuffix(" 200") else {
            throw BenchSocketError("\(what) refused: \(String(decoding: reply, as: UTF8.self))")
        }
        return extra
    }

    private func drain(_ fd: Int32, _ count: Int) throws {
        var left = count
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while left > 0 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, left), 0) }
            guard n > 0 else { throw BenchSocketError("the reply ended \(left) bytes short") }
            left -= n
        }
    }
}

/// `proxy-ledger proxy --listen 127.0.0.1:0 --no-auth` in front of the gateway stand-in.
private struct ProxyChild {
    let process: Process
    let port: Int

    init(binary: String, ledger: String, gatewayPort: Int, directory: String) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["proxy", "--listen", "127.0.0.1:0", "--no-auth", "--ledger", ledger, "--db", directory + "/listener.sqlite"]
        process.environment = [
            "PROXY_ENABLED": "true", "PROXY_GATEWAY_HOST": "127.0.0.1", "PROXY_GATEWAY_PORT": "\(gatewayPort)",
            "PROXY_USERNAME": MeteringBench.username, "PROXY_PASSWORD": MeteringBench.password, "PROXY_USE_BACKBONE": "false",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
        let log = directory + "/listener.log"
        _ = FileManager.default.createFile(atPath: log, contents: Data())
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning, ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"metering proxy on http://127\.0\.0\.1:\d+"#, options: .regularExpression),
                let port = Int(text[range].split(separator: ":").last ?? "")
            {
                self.port = port
                return
            }
            usleep(20_000)
        }
        process.terminate()
        throw BenchSocketError("proxy-ledger proxy did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// The child's user + system CPU time so far, from `/proc/PID/stat`.
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = (Double(fields.count > 12 ? fields[11] : "0") ?? 0) + (Double(fields.count > 12 ? fields[12] : "0") ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// SIGTERM, which appends every event and exits 0.
    func stop() throws {
        process.terminate()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchSocketError("proxy-ledger proxy exited \(process.terminationStatus)") }
    }
}
