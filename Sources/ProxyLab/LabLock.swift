import Ledger

/// The lock of one lab run on `LAB/.lab.lock` (a ``PIDFileLock``), so that a second run in the
/// same lab directory fails before it truncates the first run's Squid logs.
enum LabLock {
    /// Takes the lock on `directory`, which must exist; the run holds it as long as it keeps the
    /// returned lock.
    /// - Throws: ``ProxyLabError`` `.invalidArgument` naming the holder's pid when another run
    ///   holds it, `.fileSystem` when the lock file cannot be opened.
    static func acquire(directory: String) throws -> PIDFileLock {
        let path = directory + "/.lab.lock"
        do {
            return try PIDFileLock.acquire(path)
        } catch .cannotOpen(let reason) {
            throw ProxyLabError(.fileSystem, "cannot open \(path): \(reason)")
        } catch .held(let pid) {
            throw ProxyLabError(
                .invalidArgument,
                "the lab directory \(directory) is in use by another run (process \(pid ?? "?")); choose another --lab-dir")
        }
    }
}
