import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A yt-dlp options file holding one operation's `--proxy` URL, so that the URL (a metering
/// lease token, or the gateway password without a meter) never appears on yt-dlp's command line:
/// `/proc/<pid>/cmdline`, and so `ps`, is readable by every local user.
///
/// Each file gets a directory of its own, made by `mkdtemp(3)` (mode 0700, owned by this
/// process's user) under the configured folder; the file inside is created with
/// `O_CREAT | O_EXCL | O_NOFOLLOW` and mode 0600, so no other user can open it and no existing
/// file or link is reused. yt-dlp gets `--config-locations <path>` (``arguments``) and reads the
/// file with Python's `shlex.split(…, comments=True)` (`yt_dlp/utils/_utils.py`,
/// `Config.read_file`), so the value is written in single quotes (``quote(_:)``). ``remove()``
/// deletes the file and its directory when the operation's route ends.
struct YtDlpOptionsFile: Sendable {
    /// The options file, `<folder>/proxy-ledger-ytdlp-XXXXXX/options.conf`.
    let path: String
    /// The private directory holding it.
    let directory: String

    /// The file's name inside its directory.
    static let fileName = "options.conf"

    /// Writes `--proxy '<proxyURL>'` into a new private options file under `folder`.
    ///
    /// - Parameters:
    ///   - proxyURL: The value for yt-dlp's `--proxy`. Secret: it never appears in an error.
    ///   - folder: An existing folder for the private directory (the system temporary folder by default).
    /// - Returns: The file; call ``remove()`` when the operation ends.
    /// - Throws: ``WorkerError`` with code `.launchFailed` naming the folder and the system error.
    static func create(proxyURL: String, under folder: String) throws(WorkerError) -> YtDlpOptionsFile {
        let directory = try makePrivateDirectory(under: folder)
        let file = YtDlpOptionsFile(path: directory + "/" + fileName, directory: directory)
        do {
            try file.fill(with: Array(contents(proxyURL: proxyURL).utf8))
        } catch {
            file.remove()
            throw error
        }
        return file
    }

    /// `["--config-locations", path]`: the yt-dlp arguments that load this file.
    var arguments: [String] { ["--config-locations", path] }

    /// Deletes the file and its directory; missing ones are ignored.
    func remove() {
        unlink(path)
        rmdir(directory)
    }

    /// The file's text: `--proxy '<url>'` and a newline.
    static func contents(proxyURL: String) -> String { "--proxy \(quote(proxyURL))\n" }

    /// `value` in POSIX shell single quotes, as Python's `shlex.quote` writes it: inside single
    /// quotes nothing is special (not `#`, `\`, `"` or spaces), and a `'` becomes `'"'"'`.
    static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: #"'"'"'"#) + "'"
    }

    private static func makePrivateDirectory(under folder: String) throws(WorkerError) -> String {
        var template = Array((folder + "/proxy-ledger-ytdlp-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard let made else {
            throw WorkerError(.launchFailed, "cannot make a private folder for yt-dlp's options in \(folder): \(systemError())")
        }
        return String(cString: made)
    }

    private func fill(with bytes: [UInt8]) throws(WorkerError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure("create") }
        defer { close(descriptor) }
        // The mode given to open(2) is reduced by the umask; set it exactly.
        guard fchmod(descriptor, 0o600) == 0 else { throw failure("protect") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { throw failure("write") }
            offset += written
        }
    }

    private func failure(_ step: String) -> WorkerError {
        WorkerError(.launchFailed, "cannot \(step) yt-dlp's options file \(path): \(Self.systemError())")
    }

    private static func systemError() -> String { String(cString: strerror(errno)) }
}
