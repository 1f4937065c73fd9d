import Foundation
import Jobs
import Ledger
import ProxyGateway
import ProxyLab
import Runtime
import Testing
import TestSupport

/// Every endpoint of `serve`, called with curl; `/metrics` checked by the Prometheus project's
/// own Python parser.
@Suite(.serialized) struct ServeHTTPTests {
    static let parser: String? = {
        guard let python = ProcessInfo.processInfo.environment["PROXY_LEDGER_PYTHON"]
            ?? YtDlp.locate().map({ URL(fileURLWithPath: $0).deletingLastPathComponent().appendingPathComponent("python3").path })
        else { return nil }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import prometheus_client"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return nil }
        probe.waitUntilExit()
        return probe.terminationStatus == 0 ? python : nil
    }()

    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func everyEndpointAnswersThroughCurl() async throws {
        try await ServeLab.with(videos: 1) { lab in
            var options = try lab.options()
            options.connectivityTarget = lab.lab.origin.baseURL + "/status/204"
            options.rateCardPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Fixtures/rate-card.example.json").path
            let runtime = try await ServeRuntime.start(options: options, settings: { lab.settings() }, logger: ServeLab.logger)
            try await ServeLab.running(runtime) {
                let base = "http://127.0.0.1:\(await runtime.listeningPort())"
                #expect(try Curl.get(base + "/healthz").status == 200)
                #expect(try Curl.get(base + "/readyz").status == 200)

                let info = lab.lab.fixtures.videos[0].infoJSONPath
                let created = try Curl.post(base + "/api/jobs", json: #"{"kind":"transcribe","info_json":"\#(info)"}"#)
                #expect(created.status == 201, "\(created.body)")
                let id = try #require(try Self.json(created.body)["jobs"].flatMap { ($0 as? [[String: Any]])?.first?["id"] as? String })
                let again = try Curl.post(base + "/api/jobs", json: #"{"kind":"transcribe","info_json":"\#(info)"}"#)
                #expect(again.status == 200 && again.body.contains("\"is_new\" : false"), "idempotent enqueue")
                _ = try await ServeLab.waitFor([id], in: runtime.jobs) { $0.allSatisfy(\.isFinished) }
                let shown = try Curl.get(base + "/api/jobs/\(id)")
                #expect(shown.status == 200 && shown.body.contains("\"state\" : \"completed\"") && shown.body.contains("\"attempts\""))
                #expect(try Curl.get(base + "/api/jobs?state=completed").body.contains(id))
                let badState = try Curl.get(base + "/api/jobs?state=done")
                #expect(badState.status == 400 && badState.body.contains("\"invalid_request\""))
                let badJob = try Curl.post(base + "/api/jobs", json: #"{"kind":"transcribe","video_id":"short"}"#)
                #expect(badJob.status == 400 && badJob.body.contains("not a YouTube video id"))
                let missing = try Curl.get(base + "/api/jobs/00000000-0000-0000-0000-000000000000")
                #expect(missing.status == 404 && missing.body.contains("\"error\""))

                let channel = "@" + lab.lab.fixtures.channels[0].name
                let listing = try Curl.get(base + "/api/channels/\(channel)/videos?limit=2")
                #expect(listing.status == 200 && listing.body.contains("\"video_ids\""), "\(listing.body)")

                var usage: [String: Any] = [:]
                for _ in 0..<50 {  // the projector follows the ledger within about a second
                    usage = try Self.json(try Curl.get(base + "/debug/proxy?since=2000-01-01").body)
                    if usage["total_requests"] as? Int == 2 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(usage["total_requests"] as? Int == 2, "the job and the browsing call: \(usage)")
                #expect(usage["as_of"] is String)
                #expect(try Curl.get(base + "/debug/proxy?since=yesterday").status == 400)

                let connectivity = try Curl.get(base + "/debug/connectivity")
                #expect(connectivity.status == 200 && connectivity.body.contains("\"status\" : \"ok\""), "\(connectivity.body)")
                #expect(!connectivity.body.contains(lab.password))

                let report = try Curl.get(base + "/reports/current")
                #expect(report.status == 200 && report.body.contains("<html"), "\(report.body.prefix(300))")
                let csv = try Curl.get(base + "/reports/current?format=csv")
                #expect(csv.status == 200 && csv.body.contains("section"))
                #expect(try Curl.get(base + "/reports/2026-13").status == 400)

                let page = try Curl.get(base + "/")
                #expect(page.status == 200 && page.body.contains("/debug/proxy"))

                let metrics = try Curl.get(base + "/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.body.contains("proxy_ledger_events_appended_total 2"))
                #expect(metrics.body.contains(#"proxy_ledger_bytes_total{component="transcribe-worker",direction="down"}"#))
                #expect(metrics.body.contains("proxy_ledger_fsync_duration_seconds_bucket"))
                #expect(metrics.body.contains("proxy_ledger_projector_lag_events"))
                #expect(!metrics.body.contains(id), "no job ids as labels")
                try Self.parse(metrics: metrics.body, root: lab.root)
            }
        }
    }

    @Test func aNonLoopbackBindWithoutATokenIsRefused() throws {
        var options = ServeOptions(ledgerDirectory: "l", databasePath: "d", jobsDatabasePath: "j", outputDirectory: "o", ytDlpPath: "y")
        options.listenHost = "0.0.0.0"
        #expect(throws: RuntimeError.self) { try options.validate() }
        options.authToken = "s3cret"
        try options.validate()

        let root = try TemporaryDirectory()
        let result = try BuiltExecutable.run(["serve", "--listen", "0.0.0.0:0", "--ledger", root.path + "/l"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("--auth-token-file"))
        #expect(!FileManager.default.fileExists(atPath: root.path + "/l"), "nothing was opened")
    }

    @Test func aPortInUseFailsWithAMessage() async throws {
        let root = try TemporaryDirectory("serve-port")
        var options = ServeOptions(
            ledgerDirectory: root.path + "/l", databasePath: root.path + "/p.sqlite", jobsDatabasePath: root.path + "/j.sqlite",
            outputDirectory: root.path + "/o", ytDlpPath: "/bin/false")
        options.listenPort = 0
        let runtime = try await ServeRuntime.start(options: options, settings: { ProxySettings(enabled: false) }, logger: ServeLab.logger)
        try await ServeLab.running(runtime) {
            let port = await runtime.listeningPort()
            let result = try BuiltExecutable.run([
                "serve", "--listen", "127.0.0.1:\(port)", "--ledger", root.path + "/l2", "--db", root.path + "/p2.sqlite",
                "--jobs-db", root.path + "/j2.sqlite",
            ], environment: ["PROXY_LEDGER_YTDLP": "/bin/false"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("cannot listen on 127.0.0.1:\(port): the address is in use"), "\(result.stderr)")
        }
    }

    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func aTokenGuardsEveryEndpointButHealth() async throws {
        try await ServeLab.with(videos: 1) { lab in
            var options = try lab.options()
            options.listenHost = "0.0.0.0"
            options.authToken = "t0ken-\(UUID().uuidString)"
            let runtime = try await ServeRuntime.start(options: options, settings: { lab.settings() }, logger: ServeLab.logger)
            try await ServeLab.running(runtime) {
                let base = "http://127.0.0.1:\(await runtime.listeningPort())"
                #expect(try Curl.get(base + "/healthz").status == 200)
                let noCard = try Curl.get(base + "/reports/current", headers: ["Authorization: Bearer \(options.authToken ?? "")"])
                #expect(noCard.status == 404 && noCard.body.contains("--rate-card"))
                let refused = try Curl.get(base + "/debug/proxy")
                #expect(refused.status == 401 && refused.body.contains("\"unauthorized\""))
                #expect(try Curl.get(base + "/debug/proxy", headers: ["Authorization: Bearer wrong"]).status == 401)
                #expect(try Curl.get(base + "/debug/proxy", headers: ["Authorization: Bearer \(options.authToken ?? "")"]).status == 200)
            }
        }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Parses `text` with `prometheus_client.parser.text_string_to_metric_families`.
    static func parse(metrics text: String, root: String) throws {
        guard let python = parser else {
            Issue.record("prometheus_client is not installed: `make test` installs it into .venv")
            return
        }
        let file = root + "/metrics.txt"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            "-c",
            "import sys; from prometheus_client.parser import text_string_to_metric_families as p; "
                + "families = list(p(open(sys.argv[1]).read())); print(len(families))",
            file,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "the Prometheus parser refused /metrics: \(output)")
        #expect((Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 8, "\(output)")
    }
}
