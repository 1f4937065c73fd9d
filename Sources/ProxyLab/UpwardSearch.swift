import Foundation

/// Finds project files (the yt-dlp venv) by walking up from a few start folders.
enum UpwardSearch {
    /// The usual start folders: `workingDirectory`, then the folder of `executablePath` with
    /// symlinks resolved, so that `.build/debug/proxy-ledger` run from anywhere finds its checkout.
    static func starts(workingDirectory: String, executablePath: String?) -> [URL] {
        [URL(fileURLWithPath: workingDirectory)]
            + (executablePath.map { [URL(fileURLWithPath: $0).resolvingSymlinksInPath().deletingLastPathComponent()] } ?? [])
    }

    /// The first `relativePath` below a start folder or one of its ancestors (each start in turn)
    /// that satisfies `accept`.
    /// - Returns: The standardized absolute path, or `nil`.
    static func first(_ relativePath: String, from starts: [URL], where accept: (String) -> Bool) -> String? {
        for start in starts {
            var directory = start.standardizedFileURL
            while true {
                let candidate = directory.appendingPathComponent(relativePath).standardizedFileURL.path
                if accept(candidate) { return candidate }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return nil
    }
}
