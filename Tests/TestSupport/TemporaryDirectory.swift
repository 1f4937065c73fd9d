import Foundation

/// A fresh directory under the system temporary folder (`mkdtemp(3)`), removed with everything
/// in it when the last reference goes away. Give each test its own.
public final class TemporaryDirectory: Sendable {
    public let path: String

    /// - Throws: `CocoaError(.fileWriteUnknown)` when the directory cannot be made.
    public init(_ label: String = "test") throws {
        let template = FileManager.default.temporaryDirectory.path + "/proxy-ledger-\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard let made else { throw CocoaError(.fileWriteUnknown) }
        path = String(cString: made)
    }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
