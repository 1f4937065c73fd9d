import Foundation
import ProxyGateway
import TestSupport
import Testing
import ProxyLab
import Ledger
import Reconciliation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

struct ProxyLabTests {
    @Test func readsTheLedgerLogFormat() throws {
        let directory = try TemporaryDirectory("access-log")
        let log = directory.file("gateway-access.log")
        try """
            1795962929.834     16 127.0.0.1 TCP_MISS/200 423 372 GET http://127.0.0.1:18081/captions/v1.en.json3 lab-user
            garbage
            1795962930.054      1 127.0.0.1 TCP_DENIED/407 167 3461 CONNECT 127.0.0.1:18443 -

            """.write(toFile: log, atomically: true, encoding: .utf8)
        let entries = try SquidGateway.readAccessLog(path: log)
        #expect(entries.count == 2, "the malformed line is skipped")
        let entry = try #require(entries.first)
        #expect(entry.timestamp.microseconds == 1_795_962_929_834_000)
        #expect(entry.durationMS == 16 && entry.resultCode == "TCP_MISS" && entry.status == 200)
        #expect(entry.requestBytes == 423 && entry.responseBytes == 372 && entry.bytes == 795)
        #expect(entry.method == "GET" && entry.target == "http://127.0.0.1:18081/captions/v1.en.json3")
        #expect(entry.user == "lab-user")
        let denied = try #require(entries.last)
        #expect(denied.user == nil && denied.status == 407 && denied.method == "CONNECT")
        #expect(try SquidGateway.readAccessLog(path: directory.file("absent.log")).isEmpty)
    }

    @Test func percentEncodesLikePythonQuote() {
        #expect(PercentEncoding.encodeUserinfo("p@ss:w/rd%#1") == "p%40ss%3Aw%2Frd%25%231")
    }

    @Test func configurationHidesThePassword() {
        let configuration = SquidConfiguration(directory: "/tmp/x", username: "lab-user", password: "p@ss:w/rd%#1")
        #expect(!configuration.description.contains("p@ss"))
        let config = configuration.renderConfig(port: 3128)
        #expect(config.contains("http_port 127.0.0.1:3128"))
        #expect(config.contains("logformat ledger %ts.%03tu %6tr %>a %Ss/%03>Hs %>st %<st %rm %ru %un"))
        #expect(!config.contains("p@ss"))
    }

    @Test func parsesVTTAndTranscriptXML() {
        let vtt =
            "WEBVTT\n\n00:00:00.160 --> 00:00:03.540\nHi there\nsecond line\n\n01:00:03.540 --> 01:00:09.540 align:start\nLater\n"
        let cues = CaptionSource.parseVTT(vtt)
        #expect(
            cues == [
                CaptionCue(startMS: 160, durationMS: 3380, text: "Hi there\nsecond line"),
                CaptionCue(startMS: 3_603_540, durationMS: 6000, text: "Later"),
            ])
        let xml = """
            <transcript><text start="1.54" dur="4.16">this is &lt;i>not&lt;/i> it</text><text start="5" dur="0.5"></text></transcript>
            """
        #expect(
            CaptionSource.parseTranscriptXML(xml) == [
                CaptionCue(startMS: 1540, durationMS: 4160, text: "this is not it")
            ])
    }

    @Test func writesFixturesAndServesThem() async throws {
        let directory = try LabSupport.makeTemporaryDirectory()
        defer { LabSupport.removeDirectory(directory) }
        try await withOriginServer(rootDirectory: "\(directory)/origin") { origin in
            let fixtures = try LabFixtures.write(
                into: directory, originPort: origin.port, videoCount: 4, channelCount: 2)
            #expect(fixtures.videos.count == 4 && fixtures.channels.map(\.videoIDs.count) == [2, 2])
            let video = fixtures.videos[0]
            #expect(video.id.count == 11)
            let info = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: video.infoJSONPath)))
            let object = try #require(info as? [String: Any])
            #expect((object["webpage_url"] as? String)?.hasPrefix(origin.baseURL) == true)
            #expect(object["extractor"] as? String == "youtube" && object["extractor_key"] as? String == "Youtube")
            let subtitles = try #require(object["subtitles"] as? [String: [[String: String]]])
            #expect(subtitles["en"]?.first?["url"] == video.captionURL)

            let (body, response) = try await get(video.captionURL)
            #expect(response.statusCode == 200)
            #expect(response.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("application/json") == true)
            #expect(Int64(body.count) == video.captionBytes)
            let json3 = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            #expect((json3["events"] as? [Any])?.isEmpty == false)

            let (feed, feedResponse) = try await get(fixtures.channels[0].feedURL)
            #expect(feedResponse.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("application/rss+xml") == true)
            #expect(String(decoding: feed, as: UTF8.self).contains("<guid isPermaLink=\"false\">\(video.id)</guid>"))
            #expect(try await get(origin.url(for: "/status/429/x")).1.statusCode == 429)
            #expect(try await get(origin.url(for: "/missing.json")).1.statusCode == 404)
            #expect(try await get(origin.url(for: "/../etc/passwd")).1.statusCode == 404)
        }
    }

    /// The captured YouTube inputs beside the checkout (`../shared/real-inputs/youtube`), if present.
    static let capturedCaptions: String? = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/real-inputs/youtube").path
        return CaptionSource.locateRealInputs(environment: [CaptionSource.captionsDirectoryKey: path])
    }()

    @Test(.enabled(if: capturedCaptions != nil, "../shared/real-inputs/youtube is absent beside the checkout"))
    func realCaptionsAreUsedWhenPresent() throws {
        let real = try #require(Self.capturedCaptions)
        #expect(CaptionSource.locateRealInputs(environment: [:]) == nil, "only PROXY_LEDGER_CAPTIONS points the lab at captured files")
        let sets = CaptionSource.realCaptionSets(in: real)
        #expect(!sets.isEmpty)
        #expect(sets.allSatisfy { !$0.isEmpty })
    }

    @Test func locatesYtDlpFromTheEnvironmentFirst() throws {
        #expect(YtDlp.locate(environment: ["PROXY_LEDGER_YTDLP": "/nonexistent/yt-dlp"]) == nil)
        #expect(YtDlp.locate(environment: ["PROXY_LEDGER_YTDLP": "/bin/sh"]) == "/bin/sh")
        #expect(YtDlp.locate(environment: ["PATH": ""], workingDirectory: "/", executablePath: nil) == nil)
    }

    @Test func locatesTheCheckoutsVenvFromTheExecutableWhenRunElsewhere() throws {
        let checkout = try TemporaryDirectory("ytdlp-locate")
        let venv = checkout.file(".venv/bin")
        try FileManager.default.createDirectory(atPath: venv, withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: venv + "/yt-dlp", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: venv + "/yt-dlp")
        let found = YtDlp.locate(
            environment: ["PATH": ""], workingDirectory: "/", executablePath: checkout.file(".build/debug/proxy-ledger"))
        #expect(found == URL(fileURLWithPath: venv + "/yt-dlp").standardizedFileURL.path)
    }

    @Test(.enabled(if: SquidGateway.isAvailable, "needs squid and htpasswd"))
    func squidStartsAndStops() async throws {
        let directory = try LabSupport.makeTemporaryDirectory()
        defer { LabSupport.removeDirectory(directory) }
        let configuration = SquidConfiguration(
            directory: directory, username: "lab-user", password: LabSupport.hardPassword)
        let port = try await withSquidGateway(configuration) { gateway in
            #expect(LoopbackPort.isAccepting(port: gateway.port))
            #expect(!gateway.description.contains("p@ss"))
            #expect(gateway.proxyURL().hasSuffix("@127.0.0.1:\(gateway.port)"))
            return gateway.port
        }
        #expect(!LoopbackPort.isAccepting(port: port))
    }

    /// The lab accepts a username with capitals (`PROXY_USERNAME=LabUser`): Squid compares it
    /// case-sensitively with the htpasswd entry instead of lower-casing it first.
    @Test(.enabled(if: SquidGateway.isAvailable, "needs squid and htpasswd"))
    func aUsernameWithCapitalsIsAccepted() async throws {
        let directory = try LabSupport.makeTemporaryDirectory()
        defer { LabSupport.removeDirectory(directory) }
        let configuration = SquidConfiguration(directory: directory, username: "LabUser", password: LabSupport.hardPassword)
        let statuses = try await withSquidGateway(configuration) { gateway in
            try ["LabUser", "labuser"].map { user in
                // The credentials go to curl on standard input, never on its command line.
                let config = "proxy = \"http://127.0.0.1:\(gateway.port)\"\nproxy-user = \"\(user):\(LabSupport.hardPassword)\"\n"
                let result = try ChildProcess.run(
                    "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-K", "-", "http://127.0.0.1:9/"],
                    stdin: Array(config.utf8))
                return result.stdout
            }
        }
        #expect(statuses[0] != "407", "the exact username is accepted (got \(statuses[0]))")
        #expect(statuses[1] == "407", "another case is a different user")
    }

    /// Run as root, Squid works as `proxy`; a lab directory under a folder `proxy` may not enter
    /// fails before anything starts, naming the folder and its mode.
    @Test(.enabled(if: geteuid() == 0 && getpwnam("proxy") != nil, "needs root and the proxy user"))
    func aLabDirectorySquidCannotReachIsRefused() throws {
        let parent = try TemporaryDirectory("lab-mode")
        try #require(chmod(parent.path, 0o700) == 0)
        let error = try #require(throws: ProxyLabError.self) {
            try SquidConfiguration.validate(username: "lab-user", directory: parent.file("lab"))
        }
        #expect(error.message.contains("may not enter \(parent.path) (mode 700, owner root)"), "\(error.message)")
        try #require(chmod(parent.path, 0o711) == 0)
        try SquidConfiguration.validate(username: "lab-user", directory: parent.file("lab"))
    }

    /// The password file is readable by Squid's user only: mode 0600, owned by `proxy` when the
    /// lab runs as root; a world-readable one left by an earlier run is replaced.
    @Test(.enabled(if: SquidGateway.isAvailable, "needs squid and htpasswd"))
    func thePasswordFileIsPrivateToSquidsUser() async throws {
        let directory = try LabSupport.makeTemporaryDirectory()
        defer { LabSupport.removeDirectory(directory) }
        let configuration = SquidConfiguration(
            directory: directory, username: "lab-user", password: LabSupport.hardPassword)
        try "stale:entry\n".write(toFile: configuration.passwordFilePath, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: configuration.passwordFilePath)
        let (mode, owner, text) = try await withSquidGateway(configuration) { gateway in
            var info = stat()
            try #require(stat(configuration.passwordFilePath, &info) == 0)
            let text = try String(contentsOfFile: configuration.passwordFilePath, encoding: .utf8)
            return (info.st_mode & 0o7777, info.st_uid, text)
        }
        #expect(mode == 0o600)
        let squidUser = geteuid() == 0 ? getpwnam("proxy")?.pointee.pw_uid : nil
        #expect(owner == squidUser ?? geteuid())
        #expect(text.hasPrefix("lab-user:$apr1$") && !text.contains("stale") && !text.contains("p@ss"))
    }

    /// A second run in the same lab directory fails before it touches the first run's files.
    @Test(.enabled(if: SquidGateway.isAvailable, "needs squid and htpasswd"))
    func aLabDirectoryInUseIsRefused() async throws {
        let directory = try LabSupport.makeTemporaryDirectory()
        defer { LabSupport.removeDirectory(directory) }
        try await withProxyLab(directory: directory, videoCount: 1, password: LabSupport.hardPassword) { lab in
            let error = await #expect(throws: ProxyLabError.self) {
                try await withProxyLab(directory: directory, videoCount: 1, password: "other") { _ in }
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("in use by another run (process \(getpid()))") == true)
            #expect(LoopbackPort.isAccepting(port: lab.gateway.port), "the first run's gateway is untouched")
        }
    }

    /// A Ctrl-C during start-up must not leave a Squid that nobody can stop: start-up runs to
    /// the end and hands over the gateway, which the cancelled caller then stops.
    @Test(.enabled(if: SquidGateway.isAvailable, "needs squid and htpasswd"))
    func aCancelledCallerStillGetsTheGatewayToStop() async throws {
        let directory = try LabSupport.makeTemporaryDirectory()
        defer { LabSupport.removeDirectory(directory) }
        let configuration = SquidConfiguration(
            directory: directory, username: "lab-user", password: LabSupport.hardPassword)
        let starting = Task { try await withSquidGateway(configuration) { $0.port } }
        starting.cancel()
        let port = try await starting.value
        #expect(!LoopbackPort.isAccepting(port: port), "the gateway was started, handed over and stopped")
    }

    private func get(_ url: String) async throws -> (Data, HTTPURLResponse) {
        let target = try #require(URL(string: url))
        var request = URLRequest(url: target)
        request.timeoutInterval = 10
        let (data, response) = try await URLSession(configuration: .ephemeral).data(for: request)
        return (data, try #require(response as? HTTPURLResponse))
    }
}
