public import Foundation

/// Finds the yt-dlp executable the project uses (from its own venv, see the Makefile).
public enum YtDlp {
    /// The environment variable that names the yt-dlp executable explicitly.
    public static let environmentKey = "PROXY_LEDGER_YTDLP"

    /// The yt-dlp executable: `$PROXY_LEDGER_YTDLP`, else the first `.venv/bin/yt-dlp` walking
    /// up from the working directory, else the first walking up from this executable (so a
    /// `.build/debug/proxy-ledger` run from anywhere finds the checkout's venv that `make`
    /// created), else `yt-dlp` on `PATH`.
    ///
    /// - Parameters:
    ///   - environment: the environment to read (default: the process environment).
    ///   - workingDirectory: where to start looking (default: the current directory).
    ///   - executablePath: this program's path (default: `Bundle.main.executablePath`).
    /// - Returns: an absolute path, or `nil` when yt-dlp is not installed.
    public static func locate(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        executablePath: String? = Bundle.main.executablePath
    ) -> String? {
        let files = FileManager.default
        if let explicit = environment[environmentKey], !explicit.isEmpty {
            return files.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        let starts = UpwardSearch.starts(workingDirectory: workingDirectory, executablePath: executablePath)
        if let venv = UpwardSearch.first(".venv/bin/yt-dlp", from: starts, where: files.isExecutableFile(atPath:)) {
            return venv
        }
        for entry in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(entry)).appendingPathComponent("yt-dlp").path
            if files.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
