import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive `flock(2)` on `LAB/.lab.lock` for one lab run, so that a second run in the same
/// lab directory fails before it truncates the first run's Squid logs. The kernel releases the
/// lock when the process ends, however it ends.
final class LabLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock on `directory` (which must exist) and writes this process's id into it.
    /// - Throws: ``ProxyLabError`` `.invalidArgument` naming the holder's pid when another run
    ///   holds it, `.fileSystem` when the lock file cannot be opened.
    init(directory: String) throws {
        let path = directory + "/.lab.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ProxyLabError(.fileSystem, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var holder = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &holder, holder.count, 0)
            close(descriptor)
            let pid = String(decoding: holder.prefix(max(0, count)), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw ProxyLabError(
                .invalidArgument,
                "the lab directory \(directory) is in use by another run (process \(pid.isEmpty ? "?" : pid)); "
                    + "choose another --lab-dir")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
