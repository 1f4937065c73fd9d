import Foundation
import Ledger
import ProxyGateway
import ProxyLab
import Runtime
import Testing
import TestSupport
import Reconciliation

/// The shared metering listener (`proxy-ledger proxy`, `serve --proxy-listen`) with curl, a
/// client we did not write, through the lab's real Squid: one event per exchange, attributed by
/// the proxy username, with the bytes Squid logged.
@Suite(.serialized) struct SharedProxyTests {
    static let token = "local-access-token-\(UUID().uuidString.prefix(8))"

    @Test(.enabled(if: LabSupport.unavailableReason == nil && ProxiedCurl.path != nil, "\(LabSupport.unavailableReason ?? "curl not found")"))
    func curlExchangesBecomeAttributedEventsWithSquidsBytes() async throws {
        try await ServeLab.with(videos: 1) { lab in
            let blob = lab.lab.fixtures.originRoot + "/shared-blob.bin"
            try Data(repeating: 0x42, count: 200_000).write(to: URL(fileURLWithPath: blob))
            let url = lab.lab.origin.url(for: "/shared-blob.bin")
            let runtime = try await ServeRuntime.start(options: try Self.options(lab), settings: { lab.settings() }, logger: ServeLab.logger)
            let results = try await ServeLab.running(runtime) {
                let proxy = "http://127.0.0.1:\(await runtime.sharedProxyListeningPort())"
                let plain = try ProxiedCurl.run(proxy: proxy, user: "my-scripts/batch-7:\(Self.token)", urls: [url, url])
                let tunnel = try ProxiedCurl.run(
                    proxy: proxy, user: "my-scripts/batch-7/listing:\(Self.token)", options: ["--proxytunnel"], urls: [url])
                let refused = try ProxiedCurl.run(proxy: proxy, user: "my-scripts:wrong-token", urls: [url])
                return [plain, tunnel, refused]
            }
            #expect(results[0].codes == ["200", "200"] && results[1].codes == ["200"], "\(results)")
            #expect(results[0].connects == ["1", "0"], "curl sends the second request on the same connection")
            #expect(results[2].codes == ["407"], "a wrong token gets 407")

            let events = try ServeLab.events(in: lab.ledger)
            #expect(events.count == 3, "one event per exchange: two plain requests and one tunnel")
            #expect(events.allSatisfy { $0.component == "my-scripts" && $0.jobID == "batch-7" && $0.success && $0.bytesMeasured })
            #expect(events.map(\.operation).sorted() == ["listing", "proxy-exchange", "proxy-exchange"])
            #expect(Set(events.map { $0.extra["target_host"] }) == [.string("127.0.0.1:\(lab.lab.origin.port)")])
            #expect(Set(events.compactMap { $0.extra["method"] }) == [.string("GET"), .string("CONNECT")])
            #expect(events.allSatisfy { ($0.responseBytes ?? 0) > 200_000 })

            let logged = try await Self.squidBytes(lab, origin: "127.0.0.1:\(lab.lab.origin.port)", atLeast: 3)
            #expect(logged.count == 3, "the refused client never reached the gateway")
            #expect(logged.reduce(0, +) == events.reduce(0) { $0 + ($1.requestBytes ?? 0) + ($1.responseBytes ?? 0) })
        }
    }

    @Test(.enabled(if: LabSupport.unavailableReason == nil && ProxiedCurl.path != nil, "\(LabSupport.unavailableReason ?? "curl not found")"))
    func aKeptAliveConnectionCarriesManyRequestsEachItsOwnEvent() async throws {
        try await ServeLab.with(videos: 1) { lab in
            let video = lab.lab.fixtures.videos[0]
            let caption = lab.lab.origin.url(for: "/captions/\(video.id).en.json3")
            let missing = lab.lab.origin.url(for: "/no-such-file")
            let runtime = try await ServeRuntime.start(options: try Self.options(lab), settings: { lab.settings() }, logger: ServeLab.logger)
            let (get, head) = try await ServeLab.running(runtime) {
                let proxy = "http://127.0.0.1:\(await runtime.sharedProxyListeningPort())"
                let user = "my-scripts/keep-alive:\(Self.token)"
                return (
                    try ProxiedCurl.run(proxy: proxy, user: user, urls: [caption, missing, caption]),
                    try ProxiedCurl.run(proxy: proxy, user: user, options: ["--head"], urls: [caption, caption])
                )
            }
            #expect(get.codes == ["200", "404", "200"] && head.codes == ["200", "200"], "\(get) \(head)")
            #expect(get.connects == ["1", "0", "0"] && head.connects == ["1", "0"], "one client connection each")
            let events = try ServeLab.events(in: lab.ledger)
            #expect(events.count == 5, "one event per request, not per connection")
            #expect(events.map(\.httpStatus) == [200, 404, 200, 200, 200])
            #expect(events.filter { $0.extra["method"] == .string("GET") && $0.httpStatus == 200 }
                .allSatisfy { ($0.responseBytes ?? 0) > video.captionBytes })
            let logged = try await Self.squidBytes(lab, origin: "127.0.0.1:\(lab.lab.origin.port)", atLeast: 5)
            #expect(logged.count == 5)
            #expect(logged.reduce(0, +) == events.reduce(0) { $0 + ($1.requestBytes ?? 0) + ($1.responseBytes ?? 0) })
            let reconcile = try Self.reconcile(lab)
            #expect(reconcile.status == 0, "\(reconcile.stdout)\n\(reconcile.stderr)")
        }
    }

    /// `proxy-ledger reconcile --ledger L --squid-log SQUID --fail-over 0.5`, as a user runs it.
    static func reconcile(_ lab: ServeLab) throws -> (status: Int32, stdout: String, stderr: String) {
        try BuiltExecutable.run([
            "reconcile", "--ledger", lab.ledger, "--squid-log",
            lab.lab.gateway.accessLogPath, "--fail-over", "0.5",
        ])
    }

    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func ytDlpDownloadsSubtitlesThroughTheListener() async throws {
        try await ServeLab.with(videos: 1) { lab in
            let video = lab.lab.fixtures.videos[0]
            let output = lab.root + "/subs"
            let runtime = try await ServeRuntime.start(options: try Self.options(lab), settings: { lab.settings() }, logger: ServeLab.logger)
            let status = try await ServeLab.running(runtime) {
                let proxy = "http://my-scripts%2Fsubs-1:\(Self.token)@127.0.0.1:\(await runtime.sharedProxyListeningPort())"
                let process = Process()
                process.executableURL = URL(fileURLWithPath: try #require(YtDlp.locate()))
                process.arguments = [
                    "--proxy", proxy, "--load-info-json", video.infoJSONPath, "--skip-download", "--write-subs",
                    "--sub-format", "json3", "--sub-langs", "en", "-o", output + "/%(id)s.%(ext)s", "--quiet",
                ]
                process.environment = ProxySettings.childEnvironment()
                try process.run()
                process.waitUntilExit()
                return process.terminationStatus
            }
            #expect(status == 0)
            let written = try FileManager.default.contentsOfDirectory(atPath: output)
            #expect(written == ["\(video.id).en.json3"])
            let events = try ServeLab.events(in: lab.ledger)
            #expect(events.count == 1 && events[0].component == "my-scripts" && events[0].jobID == "subs-1" && events[0].success)
            #expect((events.first?.responseBytes ?? 0) > video.captionBytes)
            let logged = try await Self.squidBytes(lab, origin: "127.0.0.1:\(lab.lab.origin.port)", atLeast: 1)
            #expect(logged == [(events.first?.requestBytes ?? 0) + (events.first?.responseBytes ?? 0)])
        }
    }

    @Test(.enabled(if: LabSupport.unavailableReason == nil && ProxiedCurl.path != nil, "\(LabSupport.unavailableReason ?? "curl not found")"))
    func aBlockedRequestGets403AZeroByteEventAndNeverReachesTheGateway() async throws {
        try await ServeLab.with(videos: 1) { lab in
            var settings = lab.settings()
            settings.rules = [
                TrafficRule(name: "no-video", host: "*.blocked.test", action: .block),
                TrafficRule(name: "subtitles-only", components: ["transcribe-worker"], host: "127.0.0.1", action: .block),
            ]
            let url = lab.lab.fixtures.videos[0].captionURL
            let current = settings
            let runtime = try await ServeRuntime.start(options: try Self.options(lab), settings: { current }, logger: ServeLab.logger)
            let codes = try await ServeLab.running(runtime) {
                let proxy = "http://127.0.0.1:\(await runtime.sharedProxyListeningPort())"
                return [
                    try ProxiedCurl.run(proxy: proxy, user: "my-scripts:\(Self.token)", urls: ["http://rr1.blocked.test/videoplayback"]),
                    try ProxiedCurl.run(proxy: proxy, user: "transcribe-worker:\(Self.token)", options: ["--insecure"], urls: [url]),
                    try ProxiedCurl.run(proxy: proxy, user: "my-scripts:\(Self.token)", options: ["--insecure"], urls: [url]),
                ].flatMap(\.codes)
            }
            #expect(codes == ["403", "403", "200"], "a rule applies to its components only")
            let events = try ServeLab.events(in: lab.ledger)
            let blocked = events.filter { $0.errorType == .blockedByRule }
            #expect(blocked.count == 2 && events.count == 3, "\(events.map { "\($0.component) \($0.errorType?.rawValue ?? "-") \($0.extra)" })")
            #expect(blocked.map { $0.extra["rule"] } == [.string("no-video"), .string("subtitles-only")])
            #expect(blocked.allSatisfy { $0.requestBytes == 0 && $0.responseBytes == 0 && !$0.proxied && !$0.success })
            let logged = try await Self.squidBytes(lab, origin: "127.0.0.1:\(lab.lab.origin.port)", atLeast: 1)
            #expect(logged.count == 1, "only the allowed request reached the gateway")
            #expect(try lab.lab.gateway.accessLogEntries().allSatisfy { !($0.target ?? "").contains("blocked.test") })
        }
    }

    @Test(.enabled(if: LabSupport.unavailableReason == nil && ProxiedCurl.path != nil, "\(LabSupport.unavailableReason ?? "curl not found")"))
    func aDirectRuleBypassesTheGatewayAndIsRecordedUnbilled() async throws {
        try await ServeLab.with(videos: 1) { lab in
            var settings = lab.settings()
            settings.rules = [TrafficRule(name: "local-origin", components: ["my-scripts"], host: "127.0.0.1", action: .direct)]
            let current = settings
            let url = lab.lab.origin.url(for: "/captions/\(lab.lab.fixtures.videos[0].id).en.json3")
            let runtime = try await ServeRuntime.start(options: try Self.options(lab), settings: { current }, logger: ServeLab.logger)
            let codes = try await ServeLab.running(runtime) {
                let proxy = "http://127.0.0.1:\(await runtime.sharedProxyListeningPort())"
                return [
                    try ProxiedCurl.run(proxy: proxy, user: "my-scripts:\(Self.token)", urls: [url]),
                    try ProxiedCurl.run(proxy: proxy, user: "my-scripts:\(Self.token)", options: ["--proxytunnel"], urls: [url]),
                    try ProxiedCurl.run(proxy: proxy, user: "other-team:\(Self.token)", urls: [url]),
                ].flatMap(\.codes)
            }
            #expect(codes == ["200", "200", "200"])
            let events = try ServeLab.events(in: lab.ledger)
            let direct = events.filter { $0.component == "my-scripts" }
            #expect(direct.count == 2 && direct.allSatisfy { !$0.proxied && $0.success && $0.extra["rule"] == .string("local-origin") })
            #expect(direct.allSatisfy { ($0.responseBytes ?? 0) >= lab.lab.fixtures.videos[0].captionBytes }, "the bytes are still counted")
            #expect(events.filter { $0.component == "other-team" }.allSatisfy { $0.proxied })
            let logged = try await Self.squidBytes(lab, origin: "127.0.0.1:\(lab.lab.origin.port)", atLeast: 1)
            #expect(logged.count == 1, "only the other team's request went through the gateway")
        }
    }

    @Test func anOpenListenerOffLoopbackIsRefused() throws {
        var options = ServeOptions(ledgerDirectory: "l", databasePath: "d", jobsDatabasePath: "j", outputDirectory: "o", ytDlpPath: "")
        options.sharedProxy = SharedProxyOptions(host: "0.0.0.0", port: 8899, access: .open)
        #expect(throws: RuntimeError.self) { try options.validate() }
        options.sharedProxy = SharedProxyOptions(host: "0.0.0.0", port: 8899, access: .token("t"))
        try options.validate()
    }

    static func options(_ lab: ServeLab) throws -> ServeOptions {
        var options = try lab.options()
        options.sharedProxy = SharedProxyOptions(host: "127.0.0.1", port: 0, access: .token(token))
        options.runsWorkers = false
        options.servesHTTP = false
        return options
    }

    /// The byte counts of Squid's log lines for `origin` (the lab's readiness probe is left
    /// out); Squid writes a line when a transaction ends, so this polls for up to 10 s.
    static func squidBytes(_ lab: ServeLab, origin: String, atLeast count: Int) async throws -> [Int64] {
        func read() throws -> [Int64] {
            try lab.lab.gateway.accessLogEntries().filter { $0.target?.contains(origin) ?? false }.map(\.bytes)
        }
        var entries = try read()
        for _ in 0..<200 where entries.count < count {
            try await Task.sleep(for: .milliseconds(50))
            entries = try read()
        }
        return entries
    }
}

/// Runs the system's curl through a proxy, printing each transfer's HTTP status.
enum ProxiedCurl {
    static var path: String? {
        ["/usr/bin/curl", "/usr/local/bin/curl", "/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `curl --silent --proxy PROXY --proxy-user USER [OPTIONS] URL…`, discarding the bodies;
    /// returns its status, the HTTP codes of its transfers in order, and for each transfer the
    /// connections curl opened for it (`%{num_connects}`: 0 when it reused the previous one).
    static func run(proxy: String, user: String, options: [String] = [], urls: [String]) throws
        -> (status: Int32, codes: [String], connects: [String])
    {
        let result = try ChildProcess.run(
            path ?? "/usr/bin/curl",
            ["--silent", "--max-time", "60", "-w", "%{http_code} %{num_connects}\\n", "--proxy", proxy, "--proxy-user", user]
                + options + urls.flatMap { ["-o", "/dev/null", $0] })
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        return (result.status, lines.map { $0.first ?? "" }, lines.map { $0.last ?? "" })
    }
}
