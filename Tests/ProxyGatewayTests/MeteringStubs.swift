#if canImport(Glibc)
    import Glibc
    private let streamType = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Darwin)
    import Darwin
    private let streamType = SOCK_STREAM
#endif
import Foundation
import Logging
import Synchronization

/// A scripted stand-in for the gateway on 127.0.0.1 (blocking POSIX sockets, one thread per
/// connection). It records every byte it receives and sends, per connection, so tests can check
/// that the metering proxy counted exactly what crossed the gateway socket.
final class StubGateway: Sendable {
    enum Behavior: Sendable {
        /// Read one head (and a `Content-Length` body), write `reply`, close.
        case respond(String)
        /// Read one head, write `reply` and `payload` bytes, then read until the client closes.
        case tunnel(reply: String, payload: Int)
        /// Read one head, write `payload` bytes of a tunnel, then reset the connection (RST).
        case resetAfter(reply: String, payload: Int)
    }

    struct Record: Sendable {
        var received: [UInt8] = []
        var sent = 0
        var done = false
    }

    let port: UInt16
    private let fd: Int32
    private let records = Mutex<[Int: Record]>([:])

    init(_ behavior: Behavior) throws {
        (fd, port) = try Sockets.listen()
        let listener = fd
        Thread { [self] in
            var index = 0
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                let id = index
                index += 1
                records.withLock { $0[id] = Record() }
                Thread { self.serve(client, id: id, behavior: behavior) }.start()
            }
        }.start()
    }

    /// The finished connections' records, in accept order.
    var connections: [Record] { records.withLock { $0.sorted { $0.key < $1.key }.map(\.value) } }

    /// All bytes received on every connection, as text.
    var receivedText: String { connections.map { String(decoding: $0.received, as: UTF8.self) }.joined() }

    /// Waits until `count` connections have finished.
    func waitForConnections(_ count: Int) async {
        for _ in 0..<500 where connections.filter(\.done).count < count {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    func close() {
        _ = shutdown(fd, Int32(SHUT_RDWR))
        _ = Glibc.close(fd)
    }

    private func serve(_ client: Int32, id: Int, behavior: Behavior) {
        Sockets.setTimeout(client, seconds: 10)
        var received = Sockets.readHead(client)
        switch behavior {
        case .respond(let reply):
            if let length = Sockets.contentLength(received), let end = Sockets.headEnd(received) {
                while received.count - end < length, let more = Sockets.readSome(client) { received += more }
            }
            record(id) { $0.received = received }
            let sent = Sockets.write(client, Array(reply.utf8))
            record(id) { $0.sent = sent }
        case .tunnel(let reply, let payload):
            record(id) { $0.received = received }
            let sent = Sockets.write(client, Array(reply.utf8) + [UInt8](repeating: 0x5A, count: payload))
            record(id) { $0.sent = sent }
            while let more = Sockets.readSome(client) { record(id) { $0.received += more } }
        case .resetAfter(let reply, let payload):
            record(id) { $0.received = received }
            let sent = Sockets.write(client, Array(reply.utf8) + [UInt8](repeating: 0x5A, count: payload))
            record(id) { $0.sent = sent }
            Thread.sleep(forTimeInterval: 0.1)
            var linger = linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        }
        _ = Glibc.close(client)
        record(id) { $0.done = true }
    }

    private func record(_ id: Int, _ update: (inout Record) -> Void) {
        records.withLock { records in
            var value = records[id] ?? Record()
            update(&value)
            records[id] = value
        }
    }
}

/// A blocking client playing yt-dlp's part.
final class StubClient: Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, streamType, 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            _ = Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        Sockets.setTimeout(fd, seconds: 10)
    }

    func send(_ text: String) { _ = Sockets.write(fd, Array(text.utf8)) }
    func send(_ bytes: [UInt8]) { _ = Sockets.write(fd, bytes) }

    /// Reads until `count` bytes arrived, the peer closed, or the timeout.
    func read(count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count, let more = Sockets.readSome(fd) { bytes += more }
        return bytes
    }

    /// Reads until the peer closes.
    func readToEnd() -> [UInt8] { read(count: .max) }

    func close() { _ = Glibc.close(fd) }

    /// Runs blocking client code on its own thread.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}

enum Sockets {
    static func listen() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, streamType, 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok, Glibc.listen(fd, 64) == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    static func setTimeout(_ fd: Int32, seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    static func readSome(_ fd: Int32) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = Glibc.read(fd, &buffer, buffer.count)
        return count > 0 ? Array(buffer[0..<count]) : nil
    }

    static func readHead(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        while headEnd(bytes) == nil, let more = readSome(fd) { bytes += more }
        return bytes
    }

    static func write(_ fd: Int32, _ bytes: [UInt8]) -> Int {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { break }
            sent += count
        }
        return sent
    }

    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index..<(index + 4)].elementsEqual([13, 10, 13, 10]) {
            return index + 4
        }
        return nil
    }

    static func contentLength(_ bytes: [UInt8]) -> Int? {
        let text = String(decoding: bytes, as: UTF8.self).lowercased()
        guard let range = text.range(of: "\r\ncontent-length:") else { return nil }
        return Int(text[range.upperBound...].prefix { $0 != "\r" }.trimmingCharacters(in: .whitespaces))
    }
}

