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
    /// into it.
    ///
    /// - Throws: ``Failure`` `.held` when another process, or another open of the same file in
    ///   this one, holds it; `.cannotOpen` when the file cannot be opened.
    public static func acquire(_ path: String) throws(Failure) -> PIDFileLock {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .cannotOpen(reason: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var holder = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &holder, holder.count, 0)
            close(descriptor)
            let pid = String(decoding: holder.prefix(max(0, count)), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw .held(pid: pid.isEmpty ? nil : pid)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
        return PIDFileLock(descriptor: descriptor)
    }

    deinit { close(descriptor) }
}
