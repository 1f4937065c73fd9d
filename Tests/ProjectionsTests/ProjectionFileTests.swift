import Foundation
import GRDB
import Ledger
import Testing
import TestSupport

@testable import Projections

/// What a projection path may hold, and how each access mode treats it.
@Suite struct ProjectionFileTests {
    private func code(_ body: () throws -> Void) -> ProjectionError.Code? {
        do {
            try body()
            return nil
        } catch let error as ProjectionError {
            return error.code
        } catch {
            return ProjectionError.Code(rawValue: "unexpected: \(error)")
        }
    }

    /// Another application's database, in rollback-journal mode, with one row.
    private func makeForeignDatabase(_ path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')")
        }
        try queue.close()
    }

    @Test func readingAMissingFileFailsAndCreatesNothing() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("missing.sqlite")
        #expect(code { _ = try ProjectionStore(path: path, access: .readOnly) } == .notFound)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func readingAnEmptyFileFailsAndLeavesItEmpty() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("empty.sqlite")
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        #expect(code { _ = try ProjectionStore(path: path, access: .readOnly) } == .notAProjection)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty)
        // A writing command may turn an empty file into a projection.
        let store = try ProjectionStore(path: path)
        #expect(try store.requestLogCount() == 0)
        try store.close()
    }

    @Test func anotherApplicationsDatabaseIsRefusedAndLeftAsItWas() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("other.sqlite")
        try makeForeignDatabase(path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for access in [ProjectionAccess.readOnly, .readWrite] {
            #expect(code { _ = try ProjectionStore(path: path, access: access) } == .notAProjection)
        }
        #expect(code { try Projector.rebuild(from: InMemoryLedger(records: []), databasePath: path) } == .notAProjection)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func anotherGRDBApplicationWithoutTablesIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("other-grdb.sqlite")
        let queue = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("other-app-v1") { _ in }
        try migrator.migrate(queue)
        try queue.close()
        #expect(code { _ = try ProjectionStore(path: path, access: .readWrite) } == .notAProjection)
    }

    @Test func aFileThatIsNotSQLiteIsRefusedButARebuildReplacesIt() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("damaged.sqlite")
        try Data(repeating: 0x41, count: 8_192).write(to: URL(fileURLWithPath: path))
        for access in [ProjectionAccess.readOnly, .readWrite] {
            #expect(code { _ = try ProjectionStore(path: path, access: access) } == .notAProjection)
        }
        let records = (0..<5).map { makeRecord(sequence: UInt64($0)) }
        #expect(try Projector.rebuild(from: InMemoryLedger(records: records), databasePath: path).eventsApplied == 5)
        #expect(try ProjectionStore(path: path, access: .readOnly).requestLogCount() == 5)
    }

    @Test func aFolderIsRefused() throws {
        let directory = try TemporaryDirectory()
        #expect(code { _ = try ProjectionStore(path: directory.path, access: .readWrite) } == .notAProjection)
    }

    @Test func readOnlyNeverMigratesAnOlderProjection() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("old.sqlite")
        let queue = try DatabaseQueue(path: path)
        try ProjectionSchema.migrator.migrate(queue, upTo: "v4-compact-request-logs")
        try queue.close()
        #expect(code { _ = try ProjectionStore(path: path, access: .readOnly) } == .migrationNeeded)

        let store = try ProjectionStore(path: path)  // a writing command migrates it
        let applicationID = try store.databasePool.read { db in try Int32.fetchOne(db, sql: "PRAGMA application_id") }
        #expect(applicationID == ProjectionMetadata.applicationID)
        try store.close()
        #expect(try ProjectionStore(path: path, access: .readOnly).requestLogCount() == 0)
    }

    @Test func aReadOnlyStoreCannotWrite() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("p.sqlite")
        try ProjectionStore(path: path).close()
        let store = try ProjectionStore(path: path, access: .readOnly)
        #expect(throws: (any Error).self) { try Projector(store: store).apply([makeRecord(sequence: 0)]) }
        #expect(try store.requestLogCount() == 0)
    }

    @Test func closingAWritingStoreLeavesTheRowsInTheFileItself() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("p.sqlite")
        let store = try ProjectionStore(path: path)
        try Projector(store: store).apply((0..<40).map { makeRecord(sequence: UInt64($0)) })
        try store.close()
        let copy = directory.file("copy.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: copy)  // the file alone, no -wal
        #expect(try ProjectionStore(path: copy, access: .readOnly).requestLogCount() == 40)
    }
}
