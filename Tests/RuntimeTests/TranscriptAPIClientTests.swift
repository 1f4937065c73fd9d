import Foundation
import Ledger
import ProxyGateway
import Runtime
import Testing
import TestSupport
import ProxyLab

#if canImport(Glibc)
    import Glibc
#endif

/// youtube-transcript-api (1.2.5 from PyPI), a client we did not write, fetching transcripts with
/// its `GenericProxyConfig` pointed at the shared metering listener, through the lab's real Squid.
/// Squid resolves `www.youtube.com` to a local TLS origin on 127.0.0.2:443 (its `hosts_file`),
/// which answers with the responses that client's own tests use: the watch page, the InnerTube
/// player JSON, the transcript XML, and the "too many requests" and "request blocked" replies.
@Suite(.serialized) struct TranscriptAPIClientTests {
    static let recorded = "youtube/youtube-transcript-api"

    /// The venv's python with youtube-transcript-api, beside the yt-dlp `make test` installs.
    static let python: String? = {
        guard let ytDlp = YtDlp.locate() else { return nil }
        let python = URL(fileURLWithPath: ytDlp).deletingLastPathComponent().appendingPathComponent("python3").path
        guard let check = try? run(python, ["-c", "import youtube_transcript_api"], environment: [:]), check.status == 0 else { return nil }
        return python
    }()

    static let unavailableReason: String? = {
        if let reason = LabSupport.unavailableReason { return reason }
        if geteuid() != 0 { return "youtube-transcript-api test skipped: the origin binds 127.0.0.2:443, which needs root (CI runs as root)" }
        if SharedInputs.path(recorded) == nil { return "youtube-transcript-api test skipped: " + SharedInputs.skipMessage }
        if python == nil { return "youtube-transcript-api not installed: `make test` installs it into .venv" }
        return nil
    }()

    @Test(.enabled(if: unavailableReason == nil, "\(unavailableReason ?? "")"))
    func theClientGetsItsTranscriptAndItsOwnErrorsAndEveryTunnelIsAnEvent() async throws {
        try await ServeLab.with(videos: 1, hosts: ["www.youtube.com": "127.0.0.2"]) { lab in
            let origin = try Self.startOrigin(in: lab.root)
            defer { origin.stop() }
            let runtime = try await ServeRuntime.start(
                options: try SharedProxyTests.options(lab), settings: { lab.settings() }, logger: ServeLab.logger)
            let results = try await ServeLab.running(runtime) {
                let proxy = "127.0.0.1:\(await runtime.sharedProxyListeningPort())"
                return try ["GJLlxj_dtq8", "tooManyReqs", "reqBlocked1"].map {
                    try Self.fetch($0, proxy: proxy, certificate: origin.certificatePath)
                }
            }
            #expect(results[0] == "ok: Hey, this is just a test | this is <i>not</i> the original transcript | "
                + "just something shorter, I made up for testing", "\(results)")
            #expect(results[1] == "error: IpBlocked", "the recorded 429 page")
            #expect(results[2] == "error: RequestBlocked", "the recorded bot-check player reply")

            let events = try ServeLab.events(in: lab.ledger)
            let byVideo = Dictionary(grouping: events) { $0.jobID ?? "" }
            #expect(byVideo["GJLlxj_dtq8"]?.count == 3, "watch page, player, transcript: one tunnel each")
            #expect(byVideo["tooManyReqs"]?.count == 1 && byVideo["reqBlocked1"]?.count == 2)
            #expect(events.allSatisfy { $0.component == "transcript-api" && $0.extra["target_host"] == .string("www.youtube.com:443") })
            #expect(events.allSatisfy { $0.success && $0.bytesMeasured }, "the tunnels worked; what is inside them is TLS")
            let logged = try await SharedProxyTests.squidBytes(lab, origin: "www.youtube.com:443", atLeast: 6)
            #expect(logged.count == 6)
            #expect(logged.reduce(0, +) == events.reduce(0) { $0 + ($1.requestBytes ?? 0) + ($1.responseBytes ?? 0) })
            let reconcile = try SharedProxyTests.reconcile(lab)
            #expect(reconcile.status == 0, "\(reconcile.stdout)\n\(reconcile.stderr)")
        }
    }

    /// The origin with the recorded responses; a `videoId` in the request picks the scenario.
    static func startOrigin(in root: String) throws -> TLSOrigin {
        let assets = try #require(SharedInputs.path(recorded))
        func file(_ name: String) -> String { assets + "/" + name }
        let html = "text/html; charset=utf-8", json = "application/json"
        let empty = root + "/youtube-root"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        return try TLSOrigin.start(
            rootDirectory: empty, workDirectory: root + "/youtube-tls", host: "127.0.0.2", port: 443,
            serverName: "www.youtube.com",
            routes: [
                .init(method: "GET", path: "/watch", contains: "v=tooManyReqs", status: 429,
                      file: file("youtube_too_many_requests.html.static"), contentType: html),
                .init(method: "GET", path: "/watch", file: file("youtube.html.static"), contentType: html),
                .init(method: "POST", path: "/youtubei/v1/player", contains: "reqBlocked1",
                      file: file("youtube_request_blocked.innertube.json.static"), contentType: json),
                .init(method: "POST", path: "/youtubei/v1/player", file: file("youtube.innertube.json.static"), contentType: json),
                .init(method: "GET", path: "/api/timedtext", file: file("transcript.xml.static"), contentType: "text/xml"),
            ])
    }

    /// Fetches `video`'s English transcript, attributed to job `video`; the origin's certificate
    /// is trusted by this client only (`REQUESTS_CA_BUNDLE`).
    /// - Returns: `ok: ` and the snippets joined by ` | `, or `error: ` and the exception's class
    ///   (its message is written to the test's output).
    static func fetch(_ video: String, proxy: String, certificate: String) throws -> String {
        let script = """
            import sys
            from youtube_transcript_api import YouTubeTranscriptApi
            from youtube_transcript_api.proxies import GenericProxyConfig
            url = "http://transcript-api%2F" + sys.argv[1] + ":" + sys.argv[2] + "@" + sys.argv[3]
            api = YouTubeTranscriptApi(proxy_config=GenericProxyConfig(http_url=url, https_url=url))
            try:
                print("ok: " + " | ".join(s.text for s in api.fetch(sys.argv[1], preserve_formatting=True)))
            except Exception as error:
                print("error: " + type(error).__name__)
                print(type(error).__name__ + ": " + str(error).strip().splitlines()[0], file=sys.stderr)
            """
        let result = try run(
            python ?? "python3", ["-c", script, video, SharedProxyTests.token, proxy], environment: ["REQUESTS_CA_BUNDLE": certificate])
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `executable` without the `PROXY_*` variables (plus `environment`); its standard
    /// error goes to the test's output, where a failing fetch's message helps.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
        let result = try ChildProcess.run(
            executable, arguments, environment: ProxySettings.childEnvironment().merging(environment) { $1 })
        FileHandle.standardError.write(Data(result.stderr.utf8))
        return (result.status, result.stdout)
    }
}
