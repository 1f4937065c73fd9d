import Foundation
import Ledger
import ProxyLab
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `proxy-ledger proxy` as a user runs it: a child process with the `PROXY_*` environment, curl
/// through it, SIGTERM, then the events in the ledger.
@Suite(.serialized) struct ProxyCommandTests {
    @Test(.enabled(if: LabSupport.unavailableReason == nil && ProxiedCurl.path != nil, "\(LabSupport.unavailableReason ?? "curl not found")"))
    func proxyRecordsAClientsRequestsAndStopsOnSIGTERM() async throws {
        try await ServeLab.with(videos: 1) { lab in
            let tokenFile = try Self.tokenFile(in: lab.root, mode: 0o600)
            let log = lab.root + "/proxy.log"
            _ = FileManager.default.createFile(atPath: log, contents: Data())
            let process = Process()
            process.executableURL = URL(fileURLWithPath: BuiltExecutable.proxyLedger)
            process.arguments = [
                "proxy", "--listen", "127.0.0.1:0", "--access-token-file", tokenFile, "--ledger", lab.ledger, "--db", lab.database,
            ]
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PROXY_") }
                .merging(lab.environment()) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            try process.run()
            let proxy = try await Self.proxyURL(in: log, process: process)
            let fetched = try ProxiedCurl.run(
                proxy: proxy, user: "nightly-captions/run-1:\(Self.token)", options: ["--insecure"],
                urls: [lab.lab.fixtures.videos[0].captionURL])
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            let stderr = try String(contentsOfFile: log, encoding: .utf8)
            #expect(fetched.codes == ["200"])
            #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(stderr)")
            #expect(!stderr.contains(lab.password) && !stderr.contains(Self.token))
            let events = try ServeLab.events(in: lab.ledger)
            #expect(events.count == 1)
            #expect(events.first?.component == "nightly-captions" && events.first?.jobID == "run-1" && events.first?.success == true)
            #expect((events.first?.responseBytes ?? 0) >= lab.lab.fixtures.videos[0].captionBytes)
        }
    }

    @Test func theListenerNeedsATokenOrLoopbackNoAuth() throws {
        let root = try LabSupport.makeTemporaryDirectory(prefix: "proxy-command")
        defer { LabSupport.removeDirectory(root) }
        let noFlag = try BuiltExecutable.run(["proxy", "--ledger", root + "/ledger"])
        #expect(noFlag.status == 1 && noFlag.stderr.contains("--access-token-file"), "\(noFlag.stderr)")
        let openWide = try BuiltExecutable.run(["proxy", "--listen", "0.0.0.0:0", "--no-auth", "--ledger", root + "/ledger"])
        #expect(openWide.status == 1 && openWide.stderr.contains("loopback"), "\(openWide.stderr)")
        let readable = try Self.tokenFile(in: root, mode: 0o644)
        let shared = try BuiltExecutable.run(["proxy", "--access-token-file", readable, "--ledger", root + "/ledger"])
        #expect(shared.status == 1 && shared.stderr.contains("chmod 600"), "\(shared.stderr)")
        #expect(!shared.stderr.contains(Self.token))
        let both = try BuiltExecutable.run(["proxy", "--access-token-file", readable, "--no-auth"])
        #expect(both.status == 64, "\(both.stderr)")
    }

    @Test func serveRefusesListenerFlagsWithoutProxyListen() throws {
        let result = try BuiltExecutable.run(["serve", "--max-tunnels", "4", "--no-auth", "--ledger", "/nonexistent/l"])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("--no-auth, --max-tunnels configure the metering listener; add --proxy-listen"), "\(result.stderr)")
    }

    static let token = "cli-access-token-\(UUID().uuidString.prefix(8))"

    static func tokenFile(in directory: String, mode: Int) throws -> String {
        let path = directory + "/token-\(mode)"
        try (token + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    /// Waits for the "metering proxy on URL" line (at most 60 s, or until the process exits).
    static func proxyURL(in log: String, process: Process) async throws -> String {
        try await ChildLog.loopbackURL(after: "metering proxy on ", in: log, process: process, timeout: .seconds(60))
    }
}
