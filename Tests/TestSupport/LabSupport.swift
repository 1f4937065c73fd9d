import Foundation
import ProxyLab

/// Helpers for tests that use the real lab (Squid, origin, yt-dlp).
public enum LabSupport {
    /// The gateway password the lab tests use: every character that needs percent-encoding.
    public static let hardPassword = "p@ss:w/rd%#1"
    /// The gateway user the lab tests use.
    public static let username = "lab-user"

    /// Why the real lab cannot run here (missing Squid, htpasswd or yt-dlp), or `nil` when it can.
    public static var unavailableReason: String? {
        let missing = SquidGateway.missingTools()
        if !missing.isEmpty {
            return "lab test skipped: missing \(missing.joined(separator: ", ")) (apt-get install squid apache2-utils)"
        }
        if YtDlp.locate() == nil {
            return "lab test skipped: yt-dlp not found (run `make test`, which installs it into .venv, or set PROXY_LEDGER_YTDLP)"
        }
        return nil
    }

    /// A fresh directory under `/tmp` (traversable by Squid's `proxy` user), removed by the caller
    /// via ``removeDirectory(_:)``.
    public static func makeTemporaryDirectory(prefix: String = "proxy-ledger-test") throws -> String {
        let path = URL(fileURLWithPath: "/tmp").appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Removes `path` and everything below it, ignoring errors.
    public static func removeDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
