import Foundation
import Jobs
import Ledger
import ProxyGateway
import ProxyLab
import Runtime
import Testing
import TestSupport

/// A settings reload applies from the next job, without a restart.
@Suite(.serialized) struct ServeReloadTests {
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func aReloadTurnsTheProxyOffAndOnWithoutARestart() async throws {
        try await ServeLab.with(videos: 3) { lab in
            let config = lab.root + "/config.json"
            let environment = ["PROXY_PASSWORD": lab.password]
            try Self.write(config, enabled: true, lab: lab)
            let store = try SettingsStore(configFile: config, environment: { environment })
            let reloader = await SettingsReloadService(
                store: store, logger: ServeLab.logger, pollInterval: .milliseconds(100), reloadsOnSIGHUP: false)
            let runtime = try await ServeRuntime.start(
                options: try lab.options(), settings: { store.settings }, settingsStore: store, extraServices: [reloader],
                logger: ServeLab.logger)
            let videos = lab.lab.fixtures.videos
            let events = try await ServeLab.running(runtime) {
                var ids: [String] = []
                for (index, enabled) in [true, false, true].enumerated() {
                    if index > 0 {
                        try Self.write(config, enabled: enabled, lab: lab)
                        let before = store.generation
                        for _ in 0..<100 where store.generation == before { try await Task.sleep(for: .milliseconds(50)) }
                        #expect(store.generation == before + 1, "the file change was picked up")
                    }
                    let id = try await runtime.jobs.enqueue(
                        JobRequest(.transcribe(.infoJSON(path: videos[index].infoJSONPath))), now: JobClock.now()).job.id
                    _ = try await ServeLab.waitFor([id], in: runtime.jobs) { $0.allSatisfy(\.isFinished) }
                    ids.append(id)
                }
                return try ids.map { id in try ServeLab.events(in: lab.ledger).first { $0.jobID == id } }
            }
            #expect(events.map { $0?.success } == [true, true, true])
            #expect(events.map { $0?.proxied } == [true, false, true], "off, then on again, from the next job")
            #expect(events.map { $0?.bytesMeasured } == [true, false, true], "only the proxied jobs went through the meter")
        }
    }

    /// A 407 pauses the component; a reload with the right password resumes it, and the job
    /// waiting on it completes.
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func aReloadWithNewCredentialsResumesAPausedComponent() async throws {
        try await ServeLab.with(videos: 1) { lab in
            let config = lab.root + "/config.json"
            try "wr0ng\n".write(toFile: lab.root + "/wrong", atomically: true, encoding: .utf8)
            try (lab.password + "\n").write(toFile: lab.root + "/right", atomically: true, encoding: .utf8)
            try Self.write(config, enabled: true, lab: lab, passwordFile: lab.root + "/wrong")
            let store = try SettingsStore(configFile: config, environment: { [:] })
            let reloader = await SettingsReloadService(
                store: store, logger: ServeLab.logger, pollInterval: .milliseconds(100), reloadsOnSIGHUP: false)
            let runtime = try await ServeRuntime.start(
                options: try lab.options(), settings: { store.settings }, settingsStore: store, extraServices: [reloader],
                logger: ServeLab.logger)
            let job = try await ServeLab.running(runtime) {
                let id = try await runtime.jobs.enqueue(
                    JobRequest(.transcribe(.infoJSON(path: lab.lab.fixtures.videos[0].infoJSONPath))), now: JobClock.now()).job.id
                _ = try await ServeLab.waitFor([id], in: runtime.jobs) { $0.first?.lastErrorType == "auth_failure" && $0.first?.state != .running }
                #expect(try await runtime.jobs.stats(now: JobClock.now()).pausedComponents.count == 1)
                try Self.write(config, enabled: true, lab: lab, passwordFile: lab.root + "/right")
                return try #require(try await ServeLab.waitFor([id], in: runtime.jobs) { $0.allSatisfy(\.isFinished) }.first)
            }
            #expect(job.state == .completed)
            #expect(job.attemptsUsed == 1, "the refused attempt was not charged")
            #expect(try await runtime.jobs.stats(now: JobClock.now()).pausedComponents.isEmpty)
        }
    }

    static func write(_ path: String, enabled: Bool, lab: ServeLab, passwordFile: String? = nil) throws {
        let password = passwordFile.map { #", "password_file": "\#($0)""# } ?? ""
        try """
            {"proxy": {"enabled": \(enabled), "gateway_host": "\(lab.lab.gateway.host)", "gateway_port": \(lab.lab.gateway.port),
              "username": "\(LabSupport.username)", "use_backbone": false, "max_concurrency": 2\(password)}}
            """.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
