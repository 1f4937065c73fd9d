import Foundation
import Jobs
import Ledger
import Projections
import Runtime
import Testing
import TestSupport
import ProxyLab

#if canImport(Glibc)
    import Glibc
#endif

/// `serve` with its ledger and projection on a small filesystem that fills up: appends wait
/// instead of losing the events of operations that crossed the gateway, nothing new is claimed,
/// `/readyz` names the problem, and once space is freed every job completes with its one event.
@Suite struct ServeDiskFullTests {
    @Test(.enabled(if: LabSupport.unavailableReason == nil, "\(LabSupport.unavailableReason ?? "")"))
    func aFullDiskPausesServeAndLosesNothing() async throws {
        try await ServeLab.with(videos: 24) { lab in
            guard let disk = SmallDisk(at: lab.root + "/small") else { return }
            defer { disk.unmount() }
            var options = try lab.options()
            options.ledgerDirectory = disk.path + "/ledger"
            options.databasePath = disk.path + "/projections.sqlite"
            let runtime = try await ServeRuntime.start(options: options, settings: { lab.settings() }, logger: ServeLab.logger)
            let videos = lab.lab.fixtures.videos.map { JobRequest(.transcribe(.infoJSON(path: $0.infoJSONPath))) }
            let (jobs, whileFull) = try await ServeLab.running(runtime) {
                let first = try await runtime.jobs.enqueue([videos[0]], now: JobClock.now()).map(\.job.id)
                _ = try await ServeLab.waitFor(first, in: runtime.jobs) { $0.allSatisfy(\.isFinished) }
                try disk.fill()
                // The segment's last page may still hold a few frames: run jobs until one blocks.
                var ids = first
                var readyz: Curl.Reply?
                for video in videos[1..<(videos.count - 1)] where readyz == nil {
                    ids += try await runtime.jobs.enqueue([video], now: JobClock.now()).map(\.job.id)
                    readyz = try await Self.readyzOnceBlocked(runtime, job: ids[ids.count - 1])
                }
                let later = try await runtime.jobs.enqueue([videos[videos.count - 1]], now: JobClock.now()).map(\.job.id)
                try await Task.sleep(for: .seconds(1))  // a claim would show up meanwhile
                let states = try await (ids.suffix(1) + later).asyncMap { try await runtime.jobs.job(id: $0)?.state }
                let metrics = try Curl.get("http://127.0.0.1:\(await runtime.listeningPort())/metrics").body
                disk.freeSpace()
                ids += later
                return (try await ServeLab.waitFor(ids, in: runtime.jobs) { $0.allSatisfy(\.isFinished) }, (readyz, states, metrics))
            }
            let readyz = try #require(whileFull.0, "the ledger never blocked")
            #expect(readyz.status == 503 && readyz.body.contains("No space left on device"))
            #expect(try Self.problems(readyz).contains { $0.contains(disk.path + "/ledger/partition-0/") }, "readyz names the path")
            #expect(whileFull.1 == [.running, .available], "the blocked job waits; nothing new is claimed")
            #expect(whileFull.2.contains("proxy_ledger_ledger_blocked 1"))
            #expect(jobs.allSatisfy { $0.state == .completed && $0.attempt == 1 }, "\(jobs.map(\.state))")
            let events = try ServeLab.events(in: options.ledgerDirectory)
            #expect(events.count == jobs.count && Set(events.compactMap(\.jobID)) == Set(jobs.map(\.id)), "one event per job")
            #expect(try LedgerVerifier.verify(directory: options.ledgerDirectory).isClean)
            let projection = try ProjectionStore(path: options.databasePath)
            #expect(try projection.requestLogCount() == jobs.count, "the projection caught up, nothing half-written")
            try projection.close()
        }
    }

    /// The `problems` of a `/readyz` reply.
    static func problems(_ reply: Curl.Reply) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
        return object?["problems"] as? [String] ?? []
    }

    /// Waits until `job` finishes (`nil`: the ledger took its event) or `/readyz` says the
    /// ledger is blocked (that reply).
    static func readyzOnceBlocked(_ runtime: ServeRuntime, job: String) async throws -> Curl.Reply? {
        let url = "http://127.0.0.1:\(await runtime.listeningPort())/readyz"
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let reply = try Curl.get(url)
            if reply.body.contains("the ledger cannot be written") { return reply }
            if try await runtime.jobs.job(id: job)?.isFinished == true { return nil }
            try await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }
}

/// A 2 MiB tmpfs that a test fills and frees; `nil` (the test is skipped, with a message) where
/// mounting is not allowed.
struct SmallDisk {
    let path: String

    init?(at path: String) {
        self.path = path
        guard getuid() == 0 else {
            print("skipped: mounting a small tmpfs needs root")
            return nil
        }
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard mount("tmpfs", path, "tmpfs", 0, "size=2m") == 0 else {
            print("skipped: mount(2) of a tmpfs is not allowed here (\(String(cString: strerror(errno))))")
            return nil
        }
    }

    var filler: String { path + "/filler" }

    /// Writes zeros until the filesystem is full.
    func fill() throws {
        let descriptor = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        defer { close(descriptor) }
        let chunk = [UInt8](repeating: 0, count: 4096)
        while chunk.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) > 0 {}
    }

    func freeSpace() { unlink(filler) }

    func unmount() { umount2(path, Int32(MNT_DETACH)) }
}
