import Foundation
import Logging
import ProxyGateway
import Synchronization

/// Loopback servers for the metering bench: an origin that streams N bytes and a CONNECT-only
/// upstream proxy standing in for the gateway, on blocking sockets and threads.

// MARK: - The origin

/// Reads 8-byte little-endian counts and answers each with that many bytes, until EOF.
final class OriginSource: Sendable {
    let port: Int
    private let listener: Int32

    init() throws {
        (listener, port) = try Socket.listen()
        let listener = listener
        Socket.spawn {
            let chunk = 1 << 20
            let block = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
            block.initializeMemory(as: UInt8.self, repeating: 0x5A, count: chunk)
            let shared = UInt(bitPattern: block)  // read-only after this point, never freed
            Socket.acceptLoop(listener) { fd in
                let block = UnsafeRawPointer(bitPattern: shared)!
                defer { close(fd) }
                while let count = Socket.readCount(fd) {
                    var left = count
                    while left > 0 {
                        let n = send(fd, block, min(chunk, left), Int32(MSG_NOSIGNAL))
                        guard n > 0 else { return }
                        left -= n
                    }
                }
            }
        }
    }

    func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
}

// MARK: - The upstream proxy (gateway stand-in)

/// A forward proxy that requires one `Proxy-Authorization` value: `CONNECT` to the origin, and
/// plain `GET http://…/bytes/N` answered itself.
final class TunnelProxy: Sendable {
    let port: Int
    private let listener: Int32
    fileprivate let down = Atomic<Int>(0)
    private let up = Atomic<Int>(0)
    private let active = Atomic<Int>(0)

    init(originPort: Int, authorization: String) throws {
        (listener, port) = try Socket.listen()
        let listener = listener
        let expected = "proxy-authorization: " + authorization.lowercased()
        Socket.spawn { [self] in
            Socket.acceptLoop(listener) { client in self.serve(client, originPort: originPort, expected: expected) }
        }
    }

    /// Bytes written to and read from the proxy's clients since ``resetCounts()``, tunnel heads included.
    var counts: (request: Int, response: Int) { (up.load(ordering: .acquiring), down.load(ordering: .acquiring)) }

    func resetCounts() {
        up.store(0, ordering: .releasing)
        down.store(0, ordering: .releasing)
    }

    func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }

    /// Waits (up to 5 s) until no tunnel is open, so that every byte is counted.
    func waitUntilIdle() async {
        let deadline = ContinuousClock.now + .seconds(5)
        while active.load(ordering: .acquiring) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    private func serve(_ client: Int32, originPort: Int, expected: String) {
        active.add(1, ordering: .relaxed)
        defer {
            close(client)
            active.subtract(1, ordering: .releasing)
        }
        guard let (head, extra) = try? Socket.readHead(client) else { return }
        up.add(head.count + extra.count, ordering: .relaxed)
        let text = String(decoding: head, as: UTF8.self)
        let authorized = text.lowercased().split(separator: "\r\n").contains(where: { $0 == expected })
        if authorized, text.hasPrefix("GET http://") {
            answerPlain(text, client: client)
            return
        }
        guard text.hasPrefix("CONNECT 127.0.0.1:\(originPort) "), authorized else {
            let reply = Array("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n".utf8)
            if (try? Socket.sendAll(client, reply)) != nil { down.add(reply.count, ordering: .relaxed) }
            return
        }
        guard let origin = try? Socket.connect(port: originPort) else { return }
        defer { close(origin) }
        let reply = Array("HTTP/1.1 200 Connection established\r\n\r\n".utf8)
        guard (try? Socket.sendAll(client, reply)) != nil, (try? Socket.sendAll(origin, extra)) != nil else { return }
        down.add(reply.count, ordering: .relaxed)
        let upstreamDone = DispatchSemaphore(value: 0)
        Socket.spawn { [self] in
            Socket.pump(from: client, to: origin, counter: up)
            upstreamDone.signal()
        }
        Socket.pump(from: origin, to: client, counter: down)
        upstreamDone.wait()
    }
}

extension TunnelProxy {
    /// A plain `GET http://…/bytes/N` (the gateway fetching for the client): `200` with N bytes
    /// and `Connection: close`, counted as written.
    private func answerPlain(_ head: String, client: Int32) {
        let target = head.split(separator: " ").dropFirst().first ?? ""
        let count = Int(target.split(separator: "/").last ?? "") ?? 0
        let reply = Array("HTTP/1.1 200 OK\r\nContent-Length: \(count)\r\nConnection: close\r\n\r\n".utf8)
            + [UInt8](repeating: 0x5A, count: count)
        if (try? Socket.sendAll(client, reply)) != nil { down.add(reply.count, ordering: .relaxed) }
    }
}

// MARK: - A bare relay hop (the ceiling for any relay)

/// A TCP relay with nothing in it: each connection is forwarded to `port` by two blocking threads
/// that `recv` into a 1 MiB buffer and `send` it on, the same two copies the metering proxy makes,
/// without NIO, parsing or counting. Clients talk to the upstream proxy through it unchanged. What
/// it costs against a direct connection is what one more loopback hop costs on this machine.
final class BareRelay: Sendable {
    let port: Int
    private let listener: Int32

    init(forwardingTo upstreamPort: Int) throws {
        (listener, port) = try Socket.listen()
        let listener = listener
        Socket.spawn {
            Socket.acceptLoop(listener) { client in
                defer { close(client) }
                guard let upstream = try? Socket.connect(port: upstreamPort) else { return }
                defer { close(upstream) }
                let upstreamDone = DispatchSemaphore(value: 0)
                Socket.spawn {
                    let uncounted = Atomic<Int>(0)
                    Socket.pump(from: client, to: upstream, counter: uncounted, zeroCopy: false)
                    upstreamDone.signal()
                }
                let uncounted = Atomic<Int>(0)
                Socket.pump(from: upstream, to: client, counter: uncounted, zeroCopy: false)
                upstreamDone.wait()
            }
        }
    }

    func stop() { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
}

// MARK: - Blocking sockets

struct BenchSocketError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Socket {
    static func spawn(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.stackSize = 1 << 20
        thread.start()
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        return address
    }

    static func listen() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, Glibc.listen(fd, 512) == 0 else {
            close(fd)
            throw BenchSocketError("cannot listen on 127.0.0.1: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard fd >= 0, result == 0 else {
            close(fd)
            throw BenchSocketError("cannot connect to 127.0.0.1:\(port): errno \(errno)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    /// Accepts until the listener is shut down; each connection gets its own thread.
    static func acceptLoop(_ listener: Int32, _ handle: @escaping @Sendable (Int32) -> Void) {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            spawn { handle(fd) }
        }
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw BenchSocketError("send failed: errno \(errno)") }
            offset += n
        }
    }

    static func sendCount(_ fd: Int32, _ count: Int) throws {
        try sendAll(fd, withUnsafeBytes(of: UInt64(count).littleEndian, Array.init))
    }

    /// Reads an 8-byte count, or `nil` at EOF.
    static func readCount(_ fd: Int32) -> Int? {
        var value: UInt64 = 0
        let n = recv(fd, &value, 8, Int32(MSG_WAITALL))
        return n == 8 ? Int(UInt64(littleEndian: value)) : nil
    }

    /// Reads up to and including `\r\n\r\n`; returns the head and any bytes read past it.
    static func readHead(_ fd: Int32) throws -> ([UInt8], [UInt8]) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65536 {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw BenchSocketError("the connection closed before a head ended") }
            let searchFrom = max(0, bytes.count - 3)
            bytes += chunk[..<n]
            var index = searchFrom
            while index + 3 < bytes.count {
                if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                    return (Array(bytes[..<(index + 4)]), Array(bytes[(index + 4)...]))
                }
                index += 1
            }
        }
        throw BenchSocketError("head too long")
    }

    typealias SpliceFunction = @convention(c) (
        Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32
    ) -> Int

    /// `splice(2)`, which Swift's Glibc module does not export.
    static let splice: SpliceFunction? = dlsym(dlopen(nil, RTLD_NOW), "splice").map {
        unsafeBitCast($0, to: SpliceFunction.self)
    }

    /// Copies `from` to `to` until EOF or an error, adding the bytes written to `counter`, then
    /// half-closes `to` for writing. With `zeroCopy` (and `splice(2)` available) the bytes move
    /// through a pipe inside the kernel; otherwise through a 1 MiB user-space buffer.
    static func pump(from: Int32, to: Int32, counter: borrowing Atomic<Int>, zeroCopy: Bool = true) {
        defer { shutdown(to, Int32(SHUT_WR)) }
        let chunk = 1 << 20
        var pipeEnds: [Int32] = [-1, -1]
        if zeroCopy, let splice, pipe(&pipeEnds) == 0 {
            defer { close(pipeEnds[0]); close(pipeEnds[1]) }
            _ = fcntl(pipeEnds[1], 1031, Int32(chunk))  // F_SETPIPE_SZ
            while true {
                let n = splice(from, nil, pipeEnds[1], nil, chunk, 1)  // SPLICE_F_MOVE
                guard n > 0 else { return }
                var left = n
                while left > 0 {
                    let m = splice(pipeEnds[0], nil, to, nil, left, 1)
                    guard m > 0 else { return }
                    counter.add(m, ordering: .relaxed)
                    left -= m
                }
            }
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            let n = recv(from, buffer, chunk, 0)
            guard n > 0 else { return }
            var offset = 0
            while offset < n {
                let m = send(to, buffer + offset, n - offset, Int32(MSG_NOSIGNAL))
                guard m > 0 else { return }
                counter.add(m, ordering: .relaxed)
                offset += m
            }
        }
    }
}
