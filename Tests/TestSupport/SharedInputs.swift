import Foundation

/// Finds `../shared/real-inputs` without copying it into the project: `PROXY_LEDGER_SHARED` (the
/// `shared` directory), or the first ancestor of the working directory with a `shared/real-inputs`
/// child.
public enum SharedInputs {
    public static var realInputs: String? {
        let fileManager = FileManager.default
        if let shared = ProcessInfo.processInfo.environment["PROXY_LEDGER_SHARED"] {
            let path = URL(fileURLWithPath: shared).appendingPathComponent("real-inputs").path
            return fileManager.fileExists(atPath: path) ? path : nil
        }
        var directory = URL(fileURLWithPath: fileManager.currentDirectoryPath)
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("shared/real-inputs").path
            if fileManager.fileExists(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }

    public static let skipMessage = "real Squid logs not found: set PROXY_LEDGER_SHARED to the shared directory"

    /// The path of `real-inputs/<relative>`, or `nil` when it is absent.
    public static func path(_ relative: String) -> String? {
        guard let root = realInputs else { return nil }
        let path = URL(fileURLWithPath: root).appendingPathComponent(relative).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// The text of `real-inputs/<relative>`, or `nil` when the inputs are absent.
    public static func text(_ relative: String) -> String? {
        guard let root = realInputs,
            let data = FileManager.default.contents(atPath: URL(fileURLWithPath: root).appendingPathComponent(relative).path)
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
