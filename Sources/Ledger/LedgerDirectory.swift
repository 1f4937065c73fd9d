import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Paths inside a ledger directory: `DIR/partition-N/<20-digit base sequence>.seg` and
/// `DIR/partition-N/LOCK`.
struct LedgerDirectory {
    static let segmentExtension = "seg"

    let path: String

    func partitionPath(_ partition: Int) -> String { "\(path)/partition-\(partition)" }

    func segmentPath(partition: Int, baseSequence: UInt64) -> String {
        "\(partitionPath(partition))/\(Self.segmentName(baseSequence))"
    }

    static func segmentName(_ baseSequence: UInt64) -> String {
        let digits = String(baseSequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "." + segmentExtension
    }

    /// Partition numbers present, ascending.
    func partitions() throws -> [Int] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerError(.notFound, "no ledger at \(path)")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { name in
            name.hasPrefix("partition-") ? Int(name.dropFirst("partition-".count)) : nil
        }.sorted()
    }

    /// Segment base sequences of a partition, ascending.
    func segments(partition: Int) -> [UInt64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: partitionPath(partition))) ?? []
        return names.compactMap { name -> UInt64? in
            guard name.hasSuffix("." + Self.segmentExtension) else { return nil }
            return UInt64(name.dropLast(Self.segmentExtension.count + 1))
        }.sorted()
    }
}

/// Thin POSIX helpers that turn `errno` into ``LedgerError``.
enum POSIXFile {
    static func errorText() -> String { String(cString: strerror(errno)) }

    /// Reads a whole file.
    static func readAll(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LedgerError(.io, "cannot open: \(errorText())", file: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw LedgerError(.io, "cannot stat: \(errorText())", file: path) }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while done < size {
                let got = pread(fd, buffer.baseAddress.map { $0 + done }, size - done, off_t(done))
                if got < 0, errno == EINTR { continue }
                guard got > 0 else {
                    if got == 0 { break }
                    throw LedgerError(.io, "read failed: \(errorText())", file: path, offset: Int64(done))
                }
                done += got
            }
        }
        if done < size { bytes.removeSubrange(done...) }
        return bytes
    }

    /// Writes all of `bytes` at `offset`.
    static func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws {
        var done = 0
        try bytes.withUnsafeBytes { buffer in
            while done < buffer.count {
                let wrote = pwrite(fd, buffer.baseAddress.map { $0 + done }, buffer.count - done, off_t(offset) + off_t(done))
                if wrote < 0, errno == EINTR { continue }
                guard wrote > 0 else {
                    throw LedgerError(.io, "write failed: \(errorText())", file: path, offset: offset + Int64(done))
                }
                done += wrote
            }
        }
    }

    /// Makes written data durable (`fdatasync` on Linux).
    static func sync(_ fd: Int32, path: String) throws {
        #if os(Linux)
            let result = fdatasync(fd)
        #else
            let result = fsync(fd)
        #endif
        guard result == 0 else { throw LedgerError(.io, "fsync failed: \(errorText())", file: path) }
    }

    /// fsyncs a directory so that a created or renamed entry survives a crash.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw LedgerError(.io, "cannot open directory: \(errorText())", file: path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw LedgerError(.io, "fsync failed: \(errorText())", file: path) }
    }
}
