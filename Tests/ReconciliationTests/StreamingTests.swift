import Foundation
import Ledger
import TestSupport
import Testing
import Projections

@testable import Reconciliation

/// Vendor files read in chunks (`VendorFileReader`): the same records, line numbers and sums as
/// a file read whole, whatever the buffer size; lines and quoted CSV fields split across chunks.
@Suite("Streaming vendor files")
struct StreamingTests {
    static let lines = [
        "1767225600.123    200 127.0.0.1 TCP_MISS/200 200 300312 GET http://127.0.0.1:18080/blob.bin user-rotate",
        "1767225601.500    881 127.0.0.1 TCP_TUNNEL/200 881 302530 CONNECT 127.0.0.1:18443 user-rotate",
        "",
        "1767225602.007      3 ::1 TCP_DENIED/407 167 3461 CONNECT 127.0.0.1:18443 -",
        "1767229200.000     10 127.0.0.1 TCP_TUNNEL/200 10 20 CONNECT www.youtube.com:443 u%20x",
    ]
    /// Buffer sizes from one byte (every line spans chunks, CR and LF in different chunks) up.
    static let chunkSizes = [1, 2, 3, 7, 16, 61, 4_096]

    static func write(_ text: String, in scratch: TemporaryDirectory, name: String = "access.log") throws -> String {
        let path = scratch.file(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func reader(_ path: String, chunkSize: Int) throws -> VendorFileReader {
        try VendorFileReader(descriptor: open(path, O_RDONLY), path: path, chunkSize: chunkSize)
    }

    /// Every record of `source`, in order.
    static func records(_ source: some VendorRecordSource) throws -> (records: [VendorRecord], scan: VendorScan) {
        var records: [VendorRecord] = []
        let scan = try source.forEachRecord { record throws(ReconciliationError) in records.append(record) }
        return (records, scan)
    }

    @Test("a CRLF log read in chunks gives the LF log's records", arguments: chunkSizes)
    func crlfLog(chunkSize: Int) throws {
        let scratch = try TemporaryDirectory("stream-crlf")
        let crlf = try Self.write(Self.lines.joined(separator: "\r\n") + "\r\n", in: scratch)
        let expected = try SquidAccessLogParser.parse(Self.lines.joined(separator: "\n"), format: .ledger)
        let file = SquidLogFile(try Self.reader(crlf, chunkSize: chunkSize), format: .ledger)
        let (records, scan) = try Self.records(file)
        #expect(records == expected.records && records.count == 4)
        #expect(scan.linesRead == 4 && scan.records == 4 && scan.badLines.isEmpty)
        #expect(try SquidLogFile.firstLineFieldCount(Self.reader(crlf, chunkSize: chunkSize)) == 9)
        #expect(records.last?.user == "u x" && records.last?.target == "www.youtube.com:443")
    }

    @Test("a line split across two chunks is read whole")
    func lineAcrossChunks() throws {
        let scratch = try TemporaryDirectory("stream-split")
        let text = Self.lines.joined(separator: "\n")  // no LF after the last line
        let path = try Self.write(text, in: scratch)
        // A buffer of 150 bytes ends inside the second line (the first is 103 bytes and its LF).
        let chunkSize = 150
        let firstEnd = Self.lines[0].utf8.count + 1
        #expect(firstEnd < chunkSize && chunkSize < firstEnd + Self.lines[1].utf8.count)
        let (records, scan) = try Self.records(
            SquidLogFile(try Self.reader(path, chunkSize: chunkSize), format: .ledger))
        #expect(records == (try SquidAccessLogParser.parse(text, format: .ledger)).records)
        #expect(records[1].bytes == 303_411 && records[1].target == "127.0.0.1:18443" && scan.linesRead == 4)
        // the same bytes split by the line splitter directly, at every position
        for cut in 1..<text.utf8.count {
            let bytes = Array(text.utf8)
            var lines: [String] = []
            let splitter = LineSplitter()
            let take = { (line: LineSplitter.Line) throws(ReconciliationError) in
                lines.append(String(decoding: line.bytes, as: UTF8.self))
            }
            try bytes[..<cut].withUnsafeBytes { chunk in try splitter.feed(chunk, take) }
            try bytes[cut...].withUnsafeBytes { chunk in try splitter.feed(chunk, take) }
            try splitter.finish(take)
            #expect(lines == Self.lines, "cut at \(cut)")
        }
    }

    @Test("a malformed line is reported with its number when streaming", arguments: chunkSizes)
    func malformedLineNumber(chunkSize: Int) throws {
        let scratch = try TemporaryDirectory("stream-bad")
        let lines = Self.lines + ["", "garbage line", Self.lines[0], "1 5 c TCP_MISS/20 1 2 GET u -"]
        let path = try Self.write(lines.joined(separator: "\r\n"), in: scratch)
        let error = try #require(throws: ReconciliationError.self) {
            try Self.records(SquidLogFile(try Self.reader(path, chunkSize: chunkSize), format: .ledger))
        }
        #expect(error.code == .malformedLine && error.line == 7)
        #expect(error.description.hasPrefix("malformed_line: \(path):7: expected 9 fields, found 2"))
        let skipping = SquidLogFile(try Self.reader(path, chunkSize: chunkSize), format: .ledger, skipBadLines: true)
        let (records, scan) = try Self.records(skipping)
        #expect(scan.badLines.map(\.line) == [7, 9] && scan.badLines.first?.excerpt == "garbage line")
        #expect(records.count == 5 && scan.linesRead == 7)
    }

    @Test("a line longer than 1 MiB is a malformed line; the lines after it are still read")
    func overlongLine() throws {
        let scratch = try TemporaryDirectory("stream-long")
        let long = String(repeating: "x", count: LineSplitter.defaultMaxLineBytes + 10)
        let path = try Self.write([Self.lines[0], long, Self.lines[1]].joined(separator: "\n"), in: scratch)
        let error = try #require(throws: ReconciliationError.self) {
            try Self.records(SquidLogFile(try Self.reader(path, chunkSize: 4_096), format: .ledger))
        }
        #expect(error.line == 2 && error.message.hasPrefix("line longer than 1048576 bytes"))
        let (records, scan) = try Self.records(
            SquidLogFile(try Self.reader(path, chunkSize: 4_096), format: .ledger, skipBadLines: true))
        #expect(records.count == 2 && scan.badLines.map(\.line) == [2] && scan.badLines[0].excerpt.count == 80)
    }

    @Test("a Webshare CSV read in chunks: quoted line breaks, a split BOM, the bad row's line", arguments: chunkSizes)
    func csvAcrossChunks(chunkSize: Int) throws {
        let scratch = try TemporaryDirectory("stream-csv")
        let text =
            "\u{FEFF}Time,Hostname,Bytes,Duration,Error Reason\r\n"
            + "2026-11-29T16:37:20Z,\"multi\r\nline, \"\"host\"\"\",100,1.5s,None\r\n"
            + "\r\n"
            + "2026-11-29T16:37:21+01:00,h,200,,\"bad\nthing\"\n"
            + "2026-11-29T16:37:22Z,h,not-a-number,,None\n"
            + "2026-11-29T17:00:00Z,é,300,850ms,None"
        let path = try Self.write(text, in: scratch, name: "activity.csv")
        let expected = try WebshareActivityCSV.parse(text, skipBadLines: true)
        let file = WebshareActivityCSVFile(try Self.reader(path, chunkSize: chunkSize), skipBadLines: true)
        let (records, scan) = try Self.records(file)
        #expect(records == expected.records && records.count == 3)
        #expect(records[0].target == "multi\r\nline, \"host\"" && records[1].errorReason == "bad\nthing")
        #expect(scan.badLines.map(\.line) == [7] && expected.badLines.map(\.line) == [7] && scan.linesRead == 4)
        let error = try #require(throws: ReconciliationError.self) {
            try Self.records(WebshareActivityCSVFile(try Self.reader(path, chunkSize: chunkSize)))
        }
        #expect(error.code == .malformedLine && error.line == 7 && error.file == path)
    }

    @Test("a CSV record with an unclosed quote is one malformed record, not the rest of the file in memory")
    func csvUnclosedQuote() throws {
        var reader = CSVReader(maxRecordBytes: 64)
        var records: [CSVReader.Record] = []
        reader.feed(("a,b\n1,\"" + String(repeating: "x,\n", count: 100)).utf8) { records.append($0) }
        reader.finish { records.append($0) }
        #expect(records.count == 2 && records[1].isTruncated && records[1].line == 2)
        #expect(records[1].fields.joined().utf8.count <= 64)
    }

    @Test("streaming reconcile and store give what the in-memory import gives")
    func streamingReconcileMatchesInMemory() throws {
        let scratch = try TemporaryDirectory("stream-reconcile")
        var lines: [String] = []
        for index in 0..<500 {
            let time = 1_793_491_200 + Int64(index) * 397  // 2026-11-01, over two days
            lines.append(
                "\(time).\(index % 1_000) \(index % 50) 127.0.0.1 TCP_TUNNEL/200 \(index) \(index * 7) CONNECT h:443 u")
        }
        lines.append(lines[10])  // an identical record in the same millisecond
        let text = lines.joined(separator: "\n") + "\n"
        let path = try Self.write(text, in: scratch)
        let memory = try SquidAccessLogParser.parse(text, format: .ledger, file: path)
        let file = SquidLogFile(try Self.reader(path, chunkSize: 333), format: .ledger)
        let ours = (0..<40).map { index -> LedgerUsageEvent in
            let start = ReconcilerTests.day + Int64(index) * 3_600_000_000
            return LedgerUsageEvent(start: start, end: start + 5_000_000, bytes: 1_000)
        }
        let options = ReconciliationOptions(utcOffsetSeconds: 19_800)
        #expect(
            try Reconciler.reconcile(file, ours: ours, options: options)
                == Reconciler.reconcile(memory, ours: ours, options: options))
        #expect(try options.survey(file) == options.survey(memory))

        let (streamed, whole) = (scratch.file("streamed.sqlite"), scratch.file("whole.sqlite"))
        let window = try #require(try options.window(for: memory))
        let staged = VendorUsageStore.Import(
            source: file.source, databasePath: streamed, from: window.from, to: window.to)
        _ = try file.forEachRecord { record throws(ReconciliationError) in try staged.add(record) }
        let change = try staged.commit(utcOffsetSeconds: 19_800)
        let expected = try VendorUsageStore.saveReportingChange(
            memory, databasePath: whole, from: window.from, to: window.to, utcOffsetSeconds: 19_800)
        #expect(change == expected && change.after.records == 501)
        #expect(
            try VendorUsageStore.dailyRows(databasePath: streamed, utcOffsetSeconds: 19_800)
                == VendorUsageStore.dailyRows(databasePath: whole, utcOffsetSeconds: 19_800))
    }

    @Test("every pass reads the bytes there were at open; a pipe is copied so it can be read twice")
    func passesSeeTheSameBytes() throws {
        let scratch = try TemporaryDirectory("stream-passes")
        let path = try Self.write(Self.lines[0] + "\n", in: scratch)
        let file = SquidLogFile(try Self.reader(path, chunkSize: 16), format: .ledger)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data((Self.lines[1] + "\n").utf8))  // appended after open: not read
        #expect(try Self.records(file).records.count == 1)
        try handle.truncate(atOffset: 10)
        try handle.close()
        let error = try #require(throws: ReconciliationError.self) { try Self.records(file) }
        #expect(error.code == .unreadable && error.message.contains("became shorter"))

        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let text = Self.lines.joined(separator: "\n")
        let writing = FileHandle(fileDescriptor: ends[1], closeOnDealloc: false)
        try writing.write(contentsOf: Data(text.utf8))
        try writing.close()
        let piped = SquidLogFile(
            try VendorFileReader(descriptor: ends[0], path: "<pipe>", chunkSize: 5), format: .ledger)
        #expect(try Self.records(piped).records.count == 4 && Self.records(piped).records.count == 4)
    }
}
