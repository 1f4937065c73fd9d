import Foundation

/// Finds the yt-dlp executable the project uses (from its own venv, see the Makefile).
public enum YtDlp {
    /// The environment variable that names the yt-dlp executable explicitly.
    public static let environmentKey = "PROXY_LEDGER_YTDLP"

    /// The yt-dlp executable: `$PROXY_LEDGER_YTDLP`, else `<cwd>/.venv/bin/yt-dlp`, else the first
    /// `.venv/bin/yt-dlp` walking up from the working directory, else `yt-dlp` on `PATH`.
    ///
    /// - Parameters:
    ///   - environment: the environment to read (default: the process environment).
    ///   - workingDirectory: where to start looking (default: the current directory).
    /// - Returns: an absolute path, or `nil` when yt-dlp is not installed.
    public static func locate(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) -> String? {
        let files = FileManager.default
        if let explicit = environment[environmentKey], !explicit.isEmpty {
            return files.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        var directory = URL(fileURLWithPath: workingDirectory).standardizedFileURL
        while true {
            let candidate = directory.appendingPathComponent(".venv/bin/yt-dlp").path
            if files.isExecutableFile(atPath: candidate) { return candidate }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        for entry in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(entry)).appendingPathComponent("yt-dlp").path
            if files.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
