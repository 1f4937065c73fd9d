import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `demo --keep-serving`: the demo's jobs finish, the HTTP API stays up on the lab run, and
/// Ctrl-C stops it gracefully with the summary printed and exit 0.
@Suite struct DemoKeepServingTests {
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func keepServingServesTheAPIUntilCtrlC() async throws {
        let root = try LabSupport.makeTemporaryDirectory(prefix: "demo-keep-serving")
        defer { LabSupport.removeDirectory(root) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltExecutable.proxyLedger)
        process.arguments = [
            "demo", "--jobs", "2", "--channels", "1", "--keep-serving", "--ledger", root + "/ledger", "--db",
            root + "/p.sqlite", "--jobs-db", root + "/jobs.sqlite", "--lab-dir", root + "/lab",
        ]
        for name in ["stdout", "stderr"] { _ = FileManager.default.createFile(atPath: "\(root)/\(name).txt", contents: Data()) }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/stdout.txt"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/stderr.txt"))
        try process.run()
        let url = try await Self.servingURL(in: root + "/stderr.txt", process: process)
        let summary = try Curl.get(url + "/debug/proxy")
        #expect(summary.status == 200 && summary.body.contains("\"total_requests\" : 3"), "\(summary.body)")
        #expect(try Curl.get(url + "/readyz").status == 200)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let printed = try String(contentsOfFile: root + "/stdout.txt", encoding: .utf8)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(printed)")
        #expect(printed.contains("transcriptions: 2 ok, 0 failed; channel listings: 1 ok, 0 failed"))
        #expect(try Curl.get(url + "/healthz").status == 0, "the server is gone")
    }

    /// Waits for the demo's "serving at URL" line (at most 3 minutes, or until the demo exits).
    static func servingURL(in log: String, process: Process) async throws -> String {
        try await ChildLog.loopbackURL(after: "serving at ", in: log, process: process, timeout: .seconds(180))
    }
}

/// The log file of a child process a test started.
enum ChildLog {
    /// The `http://127.0.0.1:PORT` that follows `label` in `log`, polled until the line appears,
    /// the process exits, or `timeout` passes (then the log is recorded as an issue).
    static func loopbackURL(after label: String, in log: String, process: Process, timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: label + #"(http://127\.0\.0\.1:\d+)"#, options: .regularExpression) {
                return String(text[range].dropFirst(label.count))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the child never wrote \"\(label)URL\": \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        throw CancellationError()
    }
}
