import Foundation
import Jobs
import Logging
import ProxyGateway
import ProxyLab
import Runtime
import Ledger

/// `make bench`, worker concurrency (docs/benchmarks.md: ≥ 10×): 20 transcription jobs whose
/// captions the lab origin answers after 200 ms, run by the `serve` composition through the lab's
/// Squid with `PROXY_MAX_CONCURRENCY=20`, beside the same jobs with `PROXY_MAX_CONCURRENCY=1`,
/// in the same run. Real yt-dlp, so each job also pays yt-dlp's own start-up.
enum WorkerConcurrencyBench {
    static let jobs = 20

    static func run(directory: String) async throws {
        guard let ytDlp = YtDlp.locate(), SquidGateway.missingTools().isEmpty else {
            print("workers   concurrency: skipped (needs squid, htpasswd and yt-dlp: make deps)")
            return
        }
        let lab = directory + "/workers-lab"
        let password = "bench@" + UUID().uuidString.prefix(6).lowercased()
        let logger = Logger(label: "bench.workers") { _ in SwiftLogNoOpLogHandler() }
        try await withProxyLab(directory: lab, videoCount: jobs, channelCount: 1, username: "bench", password: password, logger: logger) { env in
            let infos = try env.fixtures.videos.enumerated().map { index, video in
                let text = try String(contentsOfFile: video.infoJSONPath, encoding: .utf8)
                    .replacingOccurrences(of: "/captions/", with: "/delay/200/captions/")
                let path = lab + "/slow-\(index).info.json"
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }
            let standIn = try writeStandIn(in: lab)
            for (name, executable) in [("yt-dlp", ytDlp), ("stand-in", standIn)] {
                let serial = try await seconds(concurrency: 1, infos: infos, env: env, password: password, ytDlp: executable, root: directory + "/\(name)-1", logger: logger)
                let wide = try await seconds(concurrency: jobs, infos: infos, env: env, password: password, ytDlp: executable, root: directory + "/\(name)-20", logger: logger)
                print("workers   \(jobs) jobs, 200 ms origin, \(name): 20 at once vs 1".padding(toLength: 58, withPad: " ", startingAt: 0)
                    + String(format: " %6.2f s  vs %6.2f s = %.1f×   (target ≥ 10×)", wide, serial, serial / wide))
            }
        }
    }

    /// A yt-dlp stand-in that only fetches the caption through the metering proxy with curl, so
    /// that the row measures the worker pool rather than yt-dlp's Python start-up (about 0.7 s of
    /// CPU per run, which 20 runs on 2 cores cannot overlap). It reads its arguments with shell
    /// built-ins only (the options file's `--proxy '…'` line, the lab's one-line info JSON with
    /// sorted keys), so that each run starts one process, curl, instead of nine (`sed`, `grep` and
    /// `head` per field: about 18 ms of CPU per run against 2 ms, as much as the rest of the job).
    static func writeStandIn(in folder: String) throws -> String {
        let path = folder + "/yt-dlp-stand-in"
        try #"""
            #!/bin/sh
            cfg=""; info=""; out=""; previous=""
            for argument in "$@"; do
                case "$previous" in
                    --config-locations) cfg="$argument" ;;
                    --load-info-json) info="$argument" ;;
                    -o) out="$argument" ;;
                esac
                previous="$argument"
            done
            IFS= read -r line < "$cfg"
            proxy=${line#"--proxy '"}; proxy=${proxy%"'"}
            IFS= read -r text < "$info" || true
            id=${text#*'"id":"'}; id=${id%%'"'*}
            url=${text#*'"subtitles":'}; url=${url#*'"url":"'}; url=${url%%'"'*}
            exec curl -sf -x "$proxy" -o "${out%"%(id)s.%(ext)s"}$id.en.json3" "$url"
            """#.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// Wall-clock seconds from enqueue until every job is finished.
    private static func seconds(
        concurrency: Int, infos: [String], env: LabEnvironment, password: String, ytDlp: String, root: String, logger: Logger
    ) async throws -> Double {
        var options = ServeOptions(
            ledgerDirectory: root + "/ledger", databasePath: root + "/p.sqlite", jobsDatabasePath: root + "/jobs.sqlite",
            outputDirectory: root + "/out", ytDlpPath: ytDlp)
        options.listenPort = 0
        options.pollInterval = .milliseconds(20)
        options.fsyncPolicy = .none
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let settings = ProxySettings(
            enabled: true, gatewayHost: env.gateway.host, gatewayPort: env.gateway.port, username: "bench", password: password,
            useBackbone: false, maxConcurrency: concurrency)
        let runtime = try await ServeRuntime.start(options: options, settings: { settings }, logger: logger)
        let task = Task { try await runtime.run() }
        let start = ContinuousClock.now
        let ids = try await runtime.jobs.enqueue(infos.map { JobRequest(.transcribe(.infoJSON(path: $0))) }, now: JobClock.now()).map(\.job.id)
        while true {
            var open = 0
            for id in ids where try await runtime.jobs.job(id: id).map({ JobState.active.contains($0.state) }) != false { open += 1 }
            if open == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = ContinuousClock.now - start
        await runtime.triggerGracefulShutdown()
        try await task.value
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
