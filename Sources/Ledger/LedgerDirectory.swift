import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Paths inside a ledger directory: `DIR/LEDGER` (the marker with the ledger's id),
/// `DIR/partition-N/<20-digit base sequence>.seg`, `DIR/partition-N/LOCK`, and
/// `DIR/partition-N/quarantine/` with its `QUARANTINE` manifest.
struct LedgerDirectory {
    static let segmentExtension = "seg"
    static let markerName = "LEDGER"

    let path: String

    func partitionPath(_ partition: Int) -> String { "\(path)/partition-\(partition)" }

    func segmentPath(partition: Int, baseSequence: UInt64) -> String {
        "\(partitionPath(partition))/\(Self.segmentName(baseSequence))"
    }

    static func segmentName(_ baseSequence: UInt64) -> String {
        let digits = String(baseSequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "." + segmentExtension
    }

    var markerPath: String { "\(path)/\(Self.markerName)" }

    /// Partition numbers present, ascending.
    ///
    /// - Throws: `LedgerError` `.notFound` when `path` does not exist, is not a directory, or holds
    ///   neither the `LEDGER` marker nor a partition folder; `.io` naming the path when it cannot be
    ///   listed (EACCES and the like), so an unreadable ledger is never taken for an empty one.
    func partitions() throws -> [Int] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LedgerError(.notFound, "no ledger at \(path)")
        }
        guard isDirectory.boolValue else { throw LedgerError(.notFound, "\(path) is a file, not a ledger directory") }
        let names = try Self.list(path)
        let partitions = names.compactMap { name in
            name.hasPrefix("partition-") ? Int(name.dropFirst("partition-".count)) : nil
        }.filter { $0 >= 0 }.sorted()
        guard !partitions.isEmpty || names.contains(Self.markerName) else {
            throw LedgerError(.notFound, "\(path) is not a ledger (no \(Self.markerName) marker and no partition-N folders)")
        }
        return partitions
    }

    /// Segment base sequences of a partition, ascending.
    /// - Throws: `LedgerError` `.io` naming the folder when it cannot be listed.
    func segments(partition: Int) throws -> [UInt64] {
        let folder = partitionPath(partition)
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        return try Self.list(folder).compactMap { name -> UInt64? in
            guard name.hasSuffix("." + Self.segmentExtension) else { return nil }
            return UInt64(name.dropLast(Self.segmentExtension.count + 1))
        }.sorted()
    }

    private static func list(_ folder: String) throws -> [String] {
        guard let directory = opendir(folder) else {
            throw LedgerError(.io, "cannot list the folder: \(POSIXFile.errorText())", file: folder)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// The ledger's id from its `LEDGER` marker, or `nil` when it has none.
    /// - Throws: `LedgerError` `.io` when the marker exists but cannot be read or parsed.
    func ledgerID() throws -> String? {
        guard FileManager.default.fileExists(atPath: markerPath) else { return nil }
        let text = String(decoding: try POSIXFile.readAll(markerPath), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("id ") {
            return String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces)
        }
        throw LedgerError(.io, "the ledger marker has no id line", file: markerPath)
    }

    /// The ledger's id, writing a new marker (fsynced, atomically renamed) when there is none:
    /// a ledger made before markers existed gets one on its next write.
    func ensureLedgerID() throws -> String {
        if let id = try ledgerID() { return id }
        let id = UUIDText.lowercase(UUID())
        let temporary = markerPath + ".tmp"
        try POSIXFile.writeDurably(Array("proxy-ledger ledger\nid \(id)\n".utf8), to: temporary)
        guard rename(temporary, markerPath) == 0 else {
            throw LedgerError(.io, "cannot install the ledger marker: \(POSIXFile.errorText())", file: markerPath)
        }
        try POSIXFile.syncDirectory(path)
        return id
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

    /// Creates (or, unless `exclusive`, truncates) `path`, writes `bytes`, and fsyncs the file and
    /// its folder.
    static func writeDurably(_ bytes: [UInt8], to path: String, exclusive: Bool = false) throws {
        let fd = open(path, O_WRONLY | O_CREAT | (exclusive ? O_EXCL : O_TRUNC) | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LedgerError(.io, "cannot create: \(errorText())", file: path) }
        defer { close(fd) }
        try write(fd, bytes, at: 0, path: path)
        try sync(fd, path: path)
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// Appends `line` to `path` (created when missing) and fsyncs it.
    static func appendDurably(_ line: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LedgerError(.io, "cannot open: \(errorText())", file: path) }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        guard Foundation.write(fd, bytes, bytes.count) == bytes.count else {
            throw LedgerError(.io, "cannot append: \(errorText())", file: path)
        }
        try sync(fd, path: path)
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    /// fsyncs a directory so that a created or renamed entry survives a crash.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw LedgerError(.io, "cannot open directory: \(errorText())", file: path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw LedgerError(.io, "fsync failed: \(errorText())", file: path) }
    }
}
