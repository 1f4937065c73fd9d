import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads small text files (a password file, a settings file) with errors that name the path and
/// the system error, never the content.
enum FileText {
    /// The bytes of the file at `path`, at most `limit` of them.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - limit: The largest size accepted, in bytes.
    ///   - setting: The setting that names the file, for the error (`PROXY_PASSWORD_FILE`);
    ///     `nil` for the settings file itself.
    /// - Throws: ``ProxyConfigurationError`` with code ``ProxyConfigurationError/Code/unreadableFile``
    ///   when the file cannot be opened or read, or is larger than `limit`.
    static func bytes(_ path: String, limit: Int, setting: String?) throws(ProxyConfigurationError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw unreadable(path, setting: setting, reason: systemError()) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw unreadable(path, setting: setting, reason: systemError()) }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
            guard bytes.count <= limit else {
                throw unreadable(path, setting: setting, reason: "larger than \(limit) bytes")
            }
        }
    }

    /// The UTF-8 text of the file at `path`; see ``bytes(_:limit:setting:)``.
    /// - Parameter trimmingNewline: removes one trailing `\n` or `\r\n` (as bytes: in Swift
    ///   `"\r\n"` is one `Character`).
    /// - Throws: also ``ProxyConfigurationError/Code/unreadableFile`` when it is not UTF-8.
    static func read(
        _ path: String, limit: Int, setting: String?, trimmingNewline: Bool = false
    ) throws(ProxyConfigurationError) -> String {
        var bytes = try bytes(path, limit: limit, setting: setting)
        if trimmingNewline, bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw unreadable(path, setting: setting, reason: "not UTF-8 text")
        }
        return text
    }

    private static func unreadable(_ path: String, setting: String?, reason: String) -> ProxyConfigurationError {
        let subject = setting.map { "\($0) names \(path), which" } ?? "the settings file \(path)"
        return ProxyConfigurationError(
            code: .unreadableFile, variable: setting, message: "\(subject) cannot be read: \(reason)")
    }

    private static func systemError() -> String { String(cString: strerror(errno)) }
}
