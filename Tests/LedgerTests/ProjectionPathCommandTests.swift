import Foundation
import Testing
import TestSupport

@testable import Ledger

/// `summary`, `report` and `replay` given a path that holds no projection, or another ledger's.
@Suite struct ProjectionPathCommandTests {
    private func append(_ events: [ProxyRequestEvent], to ledger: String) throws {
        let result = try BuiltExecutable.run(["append", "--ledger", ledger], stdin: events.flatMap { $0.jsonLine() + [0x0A] })
        #expect(result.status == 0, "\(result.stderr)")
    }

    private func readers(_ db: String) -> [[String]] {
        let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        return [
            ["summary", "--db", db],
            ["report", "--db", db, "--rate-card", repositoryRoot + "/Fixtures/rate-card.example.json", "--period", "2026-11", "--out", "-"],
        ]
    }

    @Test func readingCommandsRefuseAnotherApplicationsDatabaseAndLeaveItAlone() throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let scratch = try TemporaryDirectory("foreign-db")
        let db = scratch.file("other.sqlite")
        let made = try ChildProcess.run("/usr/bin/env", ["python3", "-c", "import sqlite3; c = sqlite3.connect('\(db)'); c.execute('CREATE TABLE users (name TEXT)'); c.commit()"])
        try #require(made.status == 0, "\(made.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        for arguments in readers(db) {
            let result = try BuiltExecutable.run(arguments)
            #expect(result.status == 1, "\(arguments[0]): \(result.stderr)")
            #expect(result.stderr.contains("another application (tables: users)"), "\(arguments[0]): \(result.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)

        let empty = scratch.file("empty.sqlite")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        for arguments in readers(empty) {
            let result = try BuiltExecutable.run(arguments)
            #expect(result.status == 1 && result.stderr.contains("is an empty file"), "\(arguments[0]): \(result.stderr)")
        }
        for arguments in readers(scratch.file("missing.sqlite")) {
            let result = try BuiltExecutable.run(arguments)
            #expect(result.status == 66 && result.stderr.contains("no projection database at"), "\(arguments[0]): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("missing.sqlite")))
    }

    @Test func replayingASecondLedgerIntoTheSameProjectionFails() throws {
        try #require(FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let scratch = try TemporaryDirectory("two-ledgers")
        let db = scratch.file("p.sqlite")
        try append(EventFactory.events(12, seed: 1), to: scratch.file("a"))
        try append(EventFactory.events(7, seed: 2), to: scratch.file("b"))
        let first = try BuiltExecutable.run(["replay", "--ledger", scratch.file("a"), "--db", db])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try BuiltExecutable.run(["replay", "--ledger", scratch.file("b"), "--db", db])
        #expect(second.status == 1)
        #expect(second.stderr.contains("was built from the ledger \(scratch.file("a"))"), "\(second.stderr)")
        #expect(second.stderr.contains("not from \(scratch.file("b"))"), "\(second.stderr)")

        // The file alone (no -wal) holds the rows: the writing command checkpointed it.
        let walSize = (try? FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int) ?? 0
        #expect(walSize == 0)
        let summary = try BuiltExecutable.run(["summary", "--db", db, "--format", "json"])
        #expect(summary.stdout.contains("\"total_requests\" : 12"), "\(summary.stdout)")
    }
}
