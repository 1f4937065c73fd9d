import Foundation
import Ledger
import Projections
import Testing
import TestSupport

@testable import Reconciliation

/// `proxy-ledger reconcile` as a user runs it: exit status with --tolerance and --fail-over.
@Suite("proxy-ledger reconcile")
struct ReconcileCommandTests {
    /// A projection with one event of 1 000 bytes at 2026-11-01T00:00:01Z, and a Squid log whose
    /// line for it reports `theirs` bytes.
    static func fixture(theirs: Int) throws -> (TemporaryDirectory, db: String, log: String) {
        let scratch = try TemporaryDirectory("reconcile-cli")
        let db = scratch.file("p.sqlite")
        let store = try ProjectionStore(path: db)
        let event = ProxyRequestEvent(
            timestamp: LedgerTimestamp(microseconds: ReconcilerTests.day + 1_000_000), component: "c", operation: "o",
            success: true, requestBytes: 100, responseBytes: 900, estimatedBytes: 1_000, bytesMeasured: true,
            durationMS: 500, proxied: true)
        _ = try Projector(store: store).apply([LedgerRecord(schemaVersion: 1, position: .init(partition: 0, sequence: 0), event: event)])
        try store.close()
        let log = scratch.file("access.log")
        let line = "1793491201.400    400 127.0.0.1 TCP_TUNNEL/200 100 \(theirs - 100) CONNECT www.youtube.com:443 u-rotate\n"
        try Data(line.utf8).write(to: URL(fileURLWithPath: log))
        return (scratch, db, log)
    }

    @Test("within tolerance exits 0; over --fail-over exits 1; JSON has the buckets")
    func exitStatus() throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let (within, db, log) = try Self.fixture(theirs: 1_005)
        let ok = try BuiltExecutable.run(["reconcile", "--db", db, "--squid-log", log, "--fail-over", "1"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("2026-11-01T00:00Z") && ok.stdout.contains("unattributed"))
        let json = try BuiltExecutable.run(["reconcile", "--db", db, "--squid-log", log, "--format", "json", "--buckets", "day"])
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let decoded = try decoder.decode(ReconciliationReport.self, from: Data(json.stdout.utf8))
        #expect(decoded.total.ours == 1_000 && decoded.total.theirs == 1_005 && decoded.buckets.count == 1)
        #expect(try VendorUsageStore.dailyRows(databasePath: db).first?.bytes == 1_005)

        let (over, db2, log2) = try Self.fixture(theirs: 1_100)
        let failed = try BuiltExecutable.run(["reconcile", "--db", db2, "--squid-log", log2, "--fail-over", "1"])
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("NO"))
        #expect(try BuiltExecutable.run(["reconcile", "--db", db2, "--squid-log", log2, "--tolerance", "10", "--fail-over", "10"]).status == 0)
        withExtendedLifetime((within, over)) {}
    }

    @Test("a --db that is not a projection is exit 66 and is left as it was")
    func foreignDatabaseIsRefused() throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let (scratch, _, log) = try Self.fixture(theirs: 1_005)
        let other = scratch.file("other.sqlite")
        let made = try ChildProcess.run(
            "/usr/bin/env", ["python3", "-c", "import sqlite3; c = sqlite3.connect('\(other)'); c.execute('CREATE TABLE notes (t TEXT)'); c.commit()"])
        try #require(made.status == 0, "\(made.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: other))
        for extra in [[], ["--no-store"]] {
            let result = try BuiltExecutable.run(["reconcile", "--db", other, "--squid-log", log] + extra)
            #expect(result.status == 66, "\(result.stderr)")
            #expect(result.stderr.contains("another application (tables: notes)"), "\(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: other)) == before)
    }

    @Test("a malformed line fails with its number unless --skip-bad-lines")
    func badLines() throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let (scratch, db, log) = try Self.fixture(theirs: 1_000)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        handle.write(Data("garbage line\n".utf8))
        try handle.close()
        let failed = try BuiltExecutable.run(["reconcile", "--db", db, "--squid-log", log, "--squid-format", "ledger"])
        #expect(failed.status == 65 && failed.stderr.contains(":2:"))
        let skipped = try BuiltExecutable.run(["reconcile", "--db", db, "--squid-log", log, "--squid-format", "ledger", "--skip-bad-lines"])
        #expect(skipped.status == 0 && skipped.stdout.contains("skipped 1 bad line: \(log):2 (expected 9 fields, found 2)"))
        withExtendedLifetime(scratch) {}
    }
}
