import Foundation
import Ledger
import Logging
import MainJob
import Testing
import TestSupport
import ProxyLab
import Reconciliation

/// Issue 3 acceptance on the real lab: bytes counted by the metering proxy agree with what the
/// gateway (Squid) logged, over plain HTTP and over CONNECT tunnels, and secrets stay secret.
@Suite(.serialized) struct MeteredLabTests {
    var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }

    func options(_ root: String, jobs: Int, channels: Int) throws -> LabRunOptions {
        var options = LabRunOptions(
            ledgerDirectory: root + "/ledger", databasePath: root + "/projections.sqlite", labDirectory: root + "/lab",
            username: LabSupport.username, password: LabRunOptions.makeLabPassword(), maxConcurrency: 4,
            ytDlpPath: try #require(YtDlp.locate()))
        options.transcriptionJobs = jobs
        options.channelListings = channels
        return options
    }

    /// `proxy-ledger reconcile … --fail-over 0.5` as a user runs it.
    func reconcile(_ options: LabRunOptions) throws -> (status: Int32, stdout: String, stderr: String) {
        try BuiltExecutable.run([
            "reconcile", "--ledger", options.ledgerDirectory, "--squid-log", options.labDirectory + "/gateway-access.log",
            "--fail-over", "0.5",
        ])
    }

    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func plainHTTPBytesAgreeWithSquidPerJobAndInTotal() async throws {
        let root = try LabSupport.makeTemporaryDirectory(prefix: "metered-http")
        defer { LabSupport.removeDirectory(root) }
        let options = try options(root, jobs: 6, channels: 1)
        let report = try await LabRun.run(options, logger: logger)
        #expect(report.eventsAppended == 7)
        #expect(report.events.allSatisfy { $0.success && $0.bytesMeasured && ($0.requestBytes ?? 0) > 0 })
        #expect(report.events.allSatisfy { $0.estimatedBytes == ($0.requestBytes ?? 0) + ($0.responseBytes ?? 0) })

        // Each job is matched by its URL in Squid's log: request and reply bytes agree within 0.5 %.
        for event in report.events where event.operation == "subtitle-download" {
            let videoID = try #require(event.videoID)
            let lines = report.gatewayLog.filter { $0.target?.hasSuffix("/captions/\(videoID).en.json3") == true }
            #expect(lines.count == 1)
            let theirs = lines.reduce(Int64(0)) { $0 + $1.bytes }
            let ours = event.estimatedBytes ?? 0
            #expect(abs(Double(ours - theirs)) <= 0.005 * Double(theirs), "\(videoID): ours \(ours), Squid \(theirs)")
        }
        let result = try reconcile(options)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("total"))
    }

    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func httpsThroughConnectTunnelsAgreesWithSquid() async throws {
        let root = try LabSupport.makeTemporaryDirectory(prefix: "metered-https")
        defer { LabSupport.removeDirectory(root) }
        var options = try options(root, jobs: 4, channels: 1)
        options.httpsOrigin = true
        let report = try await LabRun.run(options, logger: logger)
        #expect(report.transcriptionsSucceeded == 4)
        #expect(report.channelListingsSucceeded == 1)
        let tunnels = report.gatewayLog.filter { $0.method == "CONNECT" && $0.status == 200 }
        #expect(tunnels.count >= 5, "every operation crosses the gateway as a CONNECT tunnel")
        // Squid also logs the lab's readiness probe: a connection closed before any request, 0 bytes.
        let traffic = report.gatewayLog.filter { $0.bytes > 0 }
        #expect(traffic.allSatisfy { $0.method == "CONNECT" }, "\(traffic.map(\.method))")
        let ours = report.events.reduce(Int64(0)) { $0 + ($1.estimatedBytes ?? 0) }
        let theirs = report.gatewayLog.reduce(Int64(0)) { $0 + $1.bytes }
        #expect(abs(Double(ours - theirs)) <= 0.005 * Double(theirs), "ours \(ours), Squid \(theirs)")
        let result = try reconcile(options)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    }

    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func wrongPasswordIsAuthFailureWithBytesAndNoSecretAnywhere() async throws {
        let root = try LabSupport.makeTemporaryDirectory(prefix: "metered-407")
        defer { LabSupport.removeDirectory(root) }
        var options = try options(root, jobs: 2, channels: 1)
        let wrong = "wr0ng@pass:/%#"
        options.clientPassword = wrong
        let report = try await LabRun.run(options, logger: logger)
        #expect(report.eventsAppended == 3)
        for event in report.events {
            #expect(!event.success)
            #expect(event.errorType == .authFailure)
            #expect((event.estimatedBytes ?? 0) > 0, "a refused login still costs bytes")
            let text = String(decoding: event.jsonLine(), as: UTF8.self)
            #expect(!text.contains(wrong) && !text.contains(options.password))
        }
        #expect(report.gatewayLog.contains { $0.resultCode?.hasPrefix("TCP_DENIED") == true && $0.status == 407 })
        let catted = try BuiltExecutable.run(["cat", "--ledger", options.ledgerDirectory])
        #expect(!catted.stdout.contains(wrong) && !catted.stdout.contains(options.password))
        #expect(catted.stdout.contains("\"auth_failure\""))
    }

    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func ytDlpArgvAndEnvironmentHoldNoPassword() async throws {
        let root = try LabSupport.makeTemporaryDirectory(prefix: "metered-argv")
        defer { LabSupport.removeDirectory(root) }
        let (script, dump) = try Self.recordingYtDlp(in: root)
        var options = try options(root, jobs: 2, channels: 1)
        options.ytDlpPath = script
        let report = try await LabRun.run(options, logger: logger)
        #expect(report.transcriptionsSucceeded == 2)
        let recorded = try String(contentsOfFile: dump, encoding: .utf8)
        #expect(recorded.contains("--config-locations"), "yt-dlp reads its proxy from a private options file")
        #expect(!recorded.contains("--proxy") && !recorded.contains(":lease@"), "no proxy URL or token on argv")
        let encoded = options.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? options.password
        #expect(!recorded.contains(options.password))
        #expect(!recorded.contains(encoded))
    }

    /// `PROXY_PASSWORD` set in the worker's environment (how operators configure it) must not be
    /// inherited by yt-dlp: `/proc/<pid>/environ` and `ps e` would show it.
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func proxyVariablesAreNotInheritedByYtDlp() throws {
        let root = try LabSupport.makeTemporaryDirectory(prefix: "metered-environ")
        defer { LabSupport.removeDirectory(root) }
        let (script, dump) = try Self.recordingYtDlp(in: root)
        let password = "Env-" + LabRunOptions.makeLabPassword()
        let result = try BuiltExecutable.run(
            [
                "demo", "--jobs", "2", "--channels", "1", "--ledger", root + "/ledger", "--db", root + "/p.sqlite",
                "--lab-dir", root + "/lab",
            ],
            environment: [
                "PROXY_USERNAME": LabSupport.username, "PROXY_PASSWORD": password, YtDlp.environmentKey: script,
            ])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let recorded = try String(contentsOfFile: dump, encoding: .utf8)
        #expect(recorded.contains("PATH="), "the stand-in recorded yt-dlp's environment")
        #expect(!recorded.contains(password))
        #expect(!recorded.contains("PROXY_"))
        #expect(!result.stdout.contains(password) && !result.stderr.contains(password))
    }

    /// Ctrl-C during `demo`: the lab's Squid is stopped (not orphaned), the command exits 130,
    /// and the ledger holds only whole frames.
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func interruptedDemoStopsTheLab() async throws {
        let root = try LabSupport.makeTemporaryDirectory(prefix: "metered-sigint")
        defer { LabSupport.removeDirectory(root) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltExecutable.proxyLedger)
        process.arguments = [
            "demo", "--jobs", "60", "--channels", "1", "--ledger", root + "/ledger", "--db", root + "/p.sqlite",
            "--lab-dir", root + "/lab",
        ]
        _ = FileManager.default.createFile(atPath: root + "/stdout.txt", contents: Data())
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/stdout.txt"))
        process.standardError = FileHandle.nullDevice
        try process.run()
        let squidConfig = root + "/lab/squid/squid.conf"
        let deadline = ContinuousClock.now + .seconds(30)
        while try !Self.processes(mentioning: squidConfig), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try Self.processes(mentioning: squidConfig), "Squid started")
        try await Task.sleep(for: .seconds(1))
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 130)
        #expect(try !Self.processes(mentioning: squidConfig), "no Squid is left running")
        let printed = try String(contentsOfFile: root + "/stdout.txt", encoding: .utf8)
        #expect(!printed.contains("projection interrupted"), "the projector ran to the end: \(printed)")
        let verify = try BuiltExecutable.run(["verify", "--ledger", root + "/ledger"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func aFileWhereAFolderBelongsIsRefusedBeforeTheLabStarts() throws {
        let root = try LabSupport.makeTemporaryDirectory(prefix: "metered-paths")
        defer { LabSupport.removeDirectory(root) }
        _ = FileManager.default.createFile(atPath: root + "/afile", contents: Data())
        let result = try BuiltExecutable.run(["demo", "--lab-dir", root + "/afile", "--ledger", root + "/ledger"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("--lab-dir \(root)/afile is a file, not a folder"))
        #expect(result.stdout.isEmpty, "nothing started")
        #expect(!FileManager.default.fileExists(atPath: root + "/ledger"))
    }

    /// A stand-in yt-dlp in `root` that appends its argv and environment to `dump`, then runs the
    /// real one.
    static func recordingYtDlp(in root: String) throws -> (script: String, dump: String) {
        let real = try #require(YtDlp.locate())
        let dump = root + "/recorded.txt"
        let script = root + "/yt-dlp"
        try """
            #!/bin/sh
            { printf '%s\\n' "$0" "$@"; env; } >> \(dump)
            exec \(real) "$@"
            """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        return (script, dump)
    }

    /// Whether a running process has `text` in its command line (read from /proc).
    static func processes(mentioning text: String) throws -> Bool {
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") where entry.allSatisfy(\.isNumber) {
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if arguments.contains(text) { return true }
        }
        return false
    }
}
