#if canImport(Glibc)
    import Glibc
    private let streamSocketType = Int32(SOCK_STREAM.rawValue)
    private func closeDescriptor(_ fd: Int32) { _ = Glibc.close(fd) }
#elseif canImport(Darwin)
    import Darwin
    private let streamSocketType = SOCK_STREAM
    private func closeDescriptor(_ fd: Int32) { _ = Darwin.close(fd) }
#endif
import Foundation
import Synchronization

/// A tiny TCP server on 127.0.0.1 for tests, written with plain POSIX sockets.
///
/// Modes:
/// - `.respond(text)`: accept connections, read one request head, write `text`, close.
/// - `.silent`: listen but never accept, so the kernel completes the handshake and the
///   client waits for a reply that never comes.
final class LoopbackServer: Sendable {
    enum Mode: Sendable {
        case respond(String)
        case silent
    }

    let port: UInt16
    private let socketFD: Int32
    private let requestLog = Mutex<[String]>([])
    private let closed = Mutex(false)
    /// Signalled when the accept loop has returned. ``close()`` waits for it before closing the
    /// descriptor: a loop still running could otherwise accept on a later test's listening
    /// socket that reused the number, and answer it with this server's reply.
    private let loopEnded = DispatchSemaphore(value: 0)
    private let hasLoop: Bool

    /// The request heads received so far (request line and headers).
    var requests: [String] { requestLog.withLock { $0 } }

    init(mode: Mode) throws {
        let (fd, port) = try Self.listeningSocket()
        self.socketFD = fd
        self.port = port
        if case .respond(let response) = mode {
            hasLoop = true
            let thread = Thread { [self] in
                self.acceptLoop(response: response)
                self.loopEnded.signal()
            }
            thread.start()
        } else {
            hasLoop = false
        }
    }

    /// Stops accepting and closes the listening socket.
    func close() {
        let alreadyClosed = closed.withLock { value in
            defer { value = true }
            return value
        }
        guard !alreadyClosed else { return }
        _ = shutdown(socketFD, Int32(SHUT_RDWR))  // wakes a blocked accept(2), which then fails
        if hasLoop { loopEnded.wait() }
        closeDescriptor(socketFD)
    }

    /// A port on 127.0.0.1 that nothing listens on: bound, then closed.
    static func closedPort() throws -> UInt16 {
        let (fd, port) = try listeningSocket(listen: false)
        closeDescriptor(fd)
        return port
    }

    private func acceptLoop(response: String) {
        while true {
            let client = accept(socketFD, nil, nil)
            guard client >= 0 else { return }  // the listening socket was closed
            var head = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !head.containsHeaderTerminator {
                let count = read(client, &buffer, buffer.count)
                guard count > 0 else { break }
                head += buffer[0..<count]
            }
            requestLog.withLock { $0.append(String(decoding: head, as: UTF8.self)) }
            let bytes = Array(response.utf8)
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBufferPointer { write(client, $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                sent += count
            }
            closeDescriptor(client)
        }
    }

    private static func listeningSocket(listen shouldListen: Bool = true) throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, streamSocketType, 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 }
        }
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard bound, named, !shouldListen || listen(fd, 16) == 0 else {
            closeDescriptor(fd)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }
}

extension [UInt8] {
    fileprivate var containsHeaderTerminator: Bool {
        let terminator: [UInt8] = [13, 10, 13, 10]
        guard count >= 4 else { return false }
        return (0...(count - 4)).contains { self[$0..<($0 + 4)].elementsEqual(terminator) }
    }
}
