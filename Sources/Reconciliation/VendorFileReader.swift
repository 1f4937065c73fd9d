import Foundation

/// A vendor file read in fixed-size chunks, as often as needed, each time from its start.
///
/// Every pass (``forEachChunk(_:)``) reads bytes `0..<size` with `pread(2)` into one buffer of
/// ``chunkSize`` bytes, so memory does not grow with the file. ``size`` is the file's size when
/// it was opened: lines a writer appends later are not read, and every pass sees the same
/// bytes. A file that is not a regular file (a pipe, `<(zcat access.log.gz)`) is first copied,
/// chunk by chunk, into an unlinked temporary file, so that it too can be read more than once.
public final class VendorFileReader {
    /// The default buffer size, in bytes: 1 MiB.
    public static let defaultChunkSize = 1 << 20

    /// The file's name, for errors.
    public let path: String
    /// The bytes each pass reads: the file's size in bytes when it was opened.
    public let size: Int64
    /// The buffer size, in bytes.
    public let chunkSize: Int
    private let descriptor: Int32

    /// Takes over an open, readable descriptor (closed when the reader goes away).
    ///
    /// - Parameters:
    ///   - descriptor: A descriptor open for reading; the reader owns it from now on.
    ///   - path: The file's name, for errors.
    /// - Throws: ``ReconciliationError`` `.unreadable` when `fstat(2)` fails or a pipe cannot be
    ///   copied into a temporary file.
    public convenience init(descriptor: Int32, path: String) throws(ReconciliationError) {
        try self.init(descriptor: descriptor, path: path, chunkSize: Self.defaultChunkSize)
    }

    /// The same with a chosen buffer size (tests use a few bytes to split lines across chunks).
    init(descriptor: Int32, path: String, chunkSize: Int) throws(ReconciliationError) {
        self.path = path
        self.chunkSize = max(1, chunkSize)
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw Self.unreadable(path, code)
        }
        if status.st_mode & S_IFMT == S_IFREG {
            self.descriptor = descriptor
            self.size = Int64(status.st_size)
        } else {
            defer { close(descriptor) }
            (self.descriptor, self.size) = try Self.spool(descriptor, path: path, chunkSize: self.chunkSize)
        }
    }

    deinit { close(descriptor) }

    /// Calls `body` with consecutive chunks covering bytes `0..<size`, each at most
    /// ``chunkSize`` bytes; the buffer is valid only during the call.
    ///
    /// - Throws: ``ReconciliationError`` `.unreadable` when a read fails or the file has become
    ///   shorter than ``size`` (truncated while it was read); what `body` throws.
    public func forEachChunk(
        _ body: (UnsafeRawBufferPointer) throws(ReconciliationError) -> Void
    ) throws(ReconciliationError) {
        try readChunks { chunk throws(ReconciliationError) in
            try body(chunk)
            return true
        }
    }

    /// ``forEachChunk(_:)`` that stops early when `body` returns `false`.
    func readChunks(_ body: (UnsafeRawBufferPointer) throws(ReconciliationError) -> Bool) throws(ReconciliationError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while offset < size {
            let wanted = Int(min(Int64(chunkSize), size - offset))
            let count = pread(descriptor, buffer.baseAddress, wanted, off_t(offset))
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.unreadable(path, errno)
            }
            guard count > 0 else {
                throw ReconciliationError(
                    .unreadable, "the file became shorter while it was read (\(offset) of \(size) bytes)", file: path)
            }
            guard try body(UnsafeRawBufferPointer(rebasing: buffer[..<count])) else { return }
            offset += Int64(count)
        }
    }

    /// Copies what `source` yields until its end into an unlinked temporary file.
    ///
    /// - Returns: The temporary file's descriptor and its size in bytes.
    private static func spool(
        _ source: Int32, path: String, chunkSize: Int
    ) throws(ReconciliationError) -> (Int32, Int64) {
        var template = Array((NSTemporaryDirectory() + "/proxy-ledger-vendor-XXXXXX").utf8CString)
        let copy = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            let descriptor = mkstemp(base)
            if descriptor >= 0 { unlink(base) }  // gone when closed
            return descriptor
        }
        guard copy >= 0 else { throw unreadable(path, errno, doing: "copying it into a temporary file") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let count = read(source, buffer.baseAddress, chunkSize)
            if count == 0 { return (copy, total) }
            if count < 0, errno == EINTR { continue }
            guard count > 0, write(copy, buffer.baseAddress, count) == count else {
                let code = errno
                close(copy)
                throw unreadable(path, code, doing: count > 0 ? "copying it into a temporary file" : nil)
            }
            total += Int64(count)
        }
    }

    static func unreadable(_ path: String, _ code: Int32, doing: String? = nil) -> ReconciliationError {
        let reason = String(cString: strerror(code))
        return ReconciliationError(
            .unreadable, "cannot read it" + (doing.map { " (\($0))" } ?? "") + ": \(reason)", file: path)
    }
}

/// Splits bytes into lines at LF (`\n`), across chunk boundaries.
///
/// A line is handed over without its LF and without one CR (`\r`) before it, so CRLF and LF
/// logs read alike. No other byte ends a line. A line within one chunk is handed over in place;
/// one that spans chunks is gathered in a buffer of at most ``maxLineBytes`` bytes: the rest of a
/// longer line is dropped and the line is marked ``Line/isTruncated``.
final class LineSplitter {
    /// One line: its 1-based number and its bytes (valid only during the call).
    struct Line {
        var number: Int
        var bytes: UnsafeRawBufferPointer
        var isTruncated: Bool
    }

    /// The longest line kept whole, in bytes: 1 MiB (Squid caps a URL at 8 KiB).
    static let defaultMaxLineBytes = 1 << 20

    let maxLineBytes: Int
    private var carry: [UInt8] = []
    private var truncated = false
    /// Lines handed over so far.
    private(set) var lineNumber = 0

    init(maxLineBytes: Int = LineSplitter.defaultMaxLineBytes) {
        self.maxLineBytes = maxLineBytes
    }

    /// Hands over every line that ends in `chunk`; keeps the unfinished rest for the next chunk.
    func feed(_ chunk: UnsafeRawBufferPointer, _ body: (Line) throws(ReconciliationError) -> Void)
        throws(ReconciliationError)
    {
        guard let base = chunk.baseAddress else { return }
        var start = 0
        while start < chunk.count {
            guard let found = memchr(base + start, 0x0A, chunk.count - start) else {
                gather(UnsafeRawBufferPointer(rebasing: chunk[start...]))
                return
            }
            let end = base.distance(to: UnsafeRawPointer(found))
            let piece = UnsafeRawBufferPointer(rebasing: chunk[start..<end])
            if carry.isEmpty && !truncated {
                let kept = UnsafeRawBufferPointer(rebasing: piece.prefix(maxLineBytes))
                try hand(kept, truncated: piece.count > maxLineBytes, body)
            } else {
                gather(piece)
                try handCarry(body)
            }
            start = end + 1
        }
    }

    /// Hands over every line of a text held in memory, the last one too.
    static func lines(
        of text: String, maxLineBytes: Int = defaultMaxLineBytes, _ body: (Line) throws(ReconciliationError) -> Void
    ) throws(ReconciliationError) {
        let splitter = LineSplitter(maxLineBytes: maxLineBytes)
        var text = text
        let result = text.withUTF8 { utf8 in
            Result { () throws(ReconciliationError) in
                try splitter.feed(UnsafeRawBufferPointer(utf8), body)
                try splitter.finish(body)
            }
        }
        try result.get()
    }

    /// Hands over every line of `reader`'s file, the last one too.
    static func lines(
        of reader: VendorFileReader, maxLineBytes: Int = defaultMaxLineBytes,
        _ body: (Line) throws(ReconciliationError) -> Void
    ) throws(ReconciliationError) {
        let splitter = LineSplitter(maxLineBytes: maxLineBytes)
        try reader.forEachChunk { chunk throws(ReconciliationError) in try splitter.feed(chunk, body) }
        try splitter.finish(body)
    }

    /// Hands over the last line when the input does not end with LF.
    func finish(_ body: (Line) throws(ReconciliationError) -> Void) throws(ReconciliationError) {
        if !carry.isEmpty || truncated { try handCarry(body) }
    }

    private func gather(_ piece: UnsafeRawBufferPointer) {
        let room = maxLineBytes - carry.count
        if piece.count > room { truncated = true }
        carry.append(contentsOf: piece.prefix(max(0, room)))
    }

    private func handCarry(_ body: (Line) throws(ReconciliationError) -> Void) throws(ReconciliationError) {
        let line = carry
        let wasTruncated = truncated
        carry.removeAll(keepingCapacity: true)
        truncated = false
        let result = line.withUnsafeBytes { bytes in
            Result { () throws(ReconciliationError) in try hand(bytes, truncated: wasTruncated, body) }
        }
        try result.get()
    }

    private func hand(
        _ bytes: UnsafeRawBufferPointer, truncated: Bool, _ body: (Line) throws(ReconciliationError) -> Void
    ) throws(ReconciliationError) {
        lineNumber += 1
        let trimmed = bytes.last == 0x0D ? UnsafeRawBufferPointer(rebasing: bytes.dropLast()) : bytes
        try body(Line(number: lineNumber, bytes: trimmed, isTruncated: truncated))
    }
}
