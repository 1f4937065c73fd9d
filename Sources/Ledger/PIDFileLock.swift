import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive, non-blocking `flock(2)` on a file that records the holder's process id, so a
/// second process is refused with the holder's pid. The kernel releases the lock when the process
/// ends, however it ends; dropping the last reference releases it earlier.
///
/// Used for a ledger partition's single writer (`LOCK`) and for a lab directory in use.
public final class PIDFileLock: Sendable {
    /// Why ``acquire(_:)`` failed.
    public enum Failure: Error, Sendable {
        /// The lock file cannot be opened or created; `reason` is `strerror(errno)`.
        case cannotOpen(reason: String)
        /// Another open file description holds the lock; `pid` is what its holder wrote, if any.
        case held(pid: String?)
    }

    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Takes the lock on `path` (created with mode 0644 if missing) and writes this process's id
    /// into it, waiting up to `timeout` for another holder to let go.
    ///
    /// - Parameters:
    ///   - path: The lock file.
    ///   - timeout: How long to wait for the lock; `.zero` tries once.
    /// - Throws: ``Failure`` `.held` when another process, or another open of the same file in
    ///   this one, still holds it after `timeout`; `.cannotOpen` when the file cannot be opened.
    public static func acquire(_ path: String, timeout: Duration = .zero) throws(Failure) -> PIDFileLock {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .cannotOpen(reason: String(cString: strerror(errno))) }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard clock.now < deadline else {
                let pid = holder(descriptor)
                close(descriptor)
                throw .held(pid: pid)
            }
            usleep(20_000)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
        return PIDFileLock(descriptor: descriptor)
    }

    /// The pid the holder wrote, once it names a live process. A holder that has just taken the
    /// lock may not have written its pid yet, and the file may still name a process that has
    /// ended: the file is read again for a moment, and `nil` is returned if it never names a
    /// live process.
    private static func holder(_ descriptor: Int32) -> String? {
        for _ in 0..<20 {
            var bytes = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &bytes, bytes.count, 0)
            let text = String(decoding: bytes.prefix(max(0, count)), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if let pid = pid_t(text), pid > 0, pid != getpid(), kill(pid, 0) == 0 || errno == EPERM { return text }
            if let pid = pid_t(text), pid == getpid() { return text }
            usleep(10_000)
        }
        return nil
    }

    deinit {
        // Clear the pid first, so that nobody names this process once it has let go.
        _ = ftruncate(descriptor, 0)
        close(descriptor)
    }
}
