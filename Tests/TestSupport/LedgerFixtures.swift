import Foundation
public import Ledger

/// Deterministic events for ledger and projection tests.
public enum EventFactory {
    /// `count` events starting at 2026-11-01T00:00:00Z, one second apart, with every field set.
    public static func events(_ count: Int, start: Int64 = 1_793_491_200_000_000, seed: Int = 0) -> [ProxyRequestEvent] {
        (0..<count).map { index in
            let ok = (index + seed) % 7 != 3
            let up = Int64(800 + (index * 37) % 3200)
            let down = ok ? Int64(200_000 + (index * 7919) % 2_800_000) : Int64(300 + index % 4000)
            return ProxyRequestEvent(
                eventID: UUID(),
                timestamp: LedgerTimestamp(microseconds: start + Int64(index) * 1_000_000),
                component: index % 5 == 4 ? "api-youtube-service" : "transcribe-worker",
                operation: index % 5 == 4 ? "channel-listing" : "subtitle-download",
                videoID: index % 5 == 4 ? nil : "vid\(String(format: "%08d", index))",
                channelName: index % 5 == 4 ? "@channel\(index % 13)" : nil,
                jobID: UUID().uuidString.lowercased(),
                correlationID: index % 3 == 0 ? nil : "corr-\(index)",
                success: ok,
                errorType: ok ? nil : .rateLimited,
                httpStatus: ok ? 200 : 429,
                requestBytes: up,
                responseBytes: down,
                estimatedBytes: up + down,
                bytesMeasured: true,
                durationMS: Int64(200 + index % 20_000),
                proxied: true,
                attempt: index % 10 == 9 ? 2 : 1)
        }
    }
}

/// Where the built `proxy-ledger` executable is: `PROXY_LEDGER_BIN`, else `.build/debug` of this package.
public enum BuiltExecutable {
    public static var proxyLedger: String {
        if let path = ProcessInfo.processInfo.environment["PROXY_LEDGER_BIN"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/proxy-ledger").path
    }

    /// Runs the executable to completion; returns exit status, stdout and stderr.
    ///
    /// - Parameters:
    ///   - environment: Variables set on top of this process's environment.
    ///   - directory: The working directory; `nil` keeps this process's.
    public static func run(
        _ arguments: [String], stdin: [UInt8] = [], environment: [String: String] = [:], directory: String? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let merged = environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        return try ChildProcess.run(proxyLedger, arguments, stdin: stdin, environment: merged, directory: directory)
    }
}

/// Runs a program a test needs (the built `proxy-ledger`, curl, a Python client) to completion.
public enum ChildProcess {
    /// Runs `executable` with `arguments`, writing `stdin` to it; returns exit status, stdout and
    /// stderr.
    ///
    /// - Parameters:
    ///   - environment: The whole environment of the child; `nil` inherits this process's.
    ///   - directory: The working directory; `nil` keeps this process's.
    public static func run(
        _ executable: String, _ arguments: [String], stdin: [UInt8] = [], environment: [String: String]? = nil,
        directory: String? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let environment { process.environment = environment }
        let input = Pipe(), output = Pipe(), error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let collector = OutputCollector(output: output, error: error)
        input.fileHandleForWriting.write(Data(stdin))
        try input.fileHandleForWriting.close()
        let (out, err) = collector.wait()
        process.waitUntilExit()
        return (process.terminationStatus, out, err)
    }
}

/// Reads two pipes to their ends on background threads so that neither fills up.
final class OutputCollector: @unchecked Sendable {
    private var out = Data(), err = Data()
    private let group = DispatchGroup()

    init(output: Pipe, error: Pipe) {
        group.enter()
        group.enter()
        DispatchQueue.global().async {
            self.out = output.fileHandleForReading.readDataToEndOfFile()
            self.group.leave()
        }
        DispatchQueue.global().async {
            self.err = error.fileHandleForReading.readDataToEndOfFile()
            self.group.leave()
        }
    }

    func wait() -> (String, String) {
        group.wait()
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
