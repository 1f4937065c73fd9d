import Foundation
import Ledger
import Testing
import TestSupport

@testable import Reconciliation

@Suite("Squid access log parser")
struct SquidParserTests {
    struct Expected: Sendable, CustomStringConvertible {
        var file: String
        var lines: Int
        var bytes: Int64
        var denied407: Int
        var ipv6: Int
        var zeroByteConnects: Int
        var connects39: Int
        var description: String { file }
    }

    // Counted independently with awk over the files (non-blank lines; field 5 = %<st).
    static let realLogs = [
        Expected(file: "squid/elastic-beats/access1.log", lines: 100, bytes: 578_214, denied407: 15, ipv6: 0, zeroByteConnects: 0, connects39: 0),
        Expected(file: "squid/elastic-beats/access4.log", lines: 100, bytes: 5_714_024, denied407: 0, ipv6: 69, zeroByteConnects: 4, connects39: 0),
        Expected(file: "squid/dodancs-squid-log-analyzer/1eps.txt", lines: 3, bytes: 1_496, denied407: 0, ipv6: 0, zeroByteConnects: 0, connects39: 1),
        Expected(file: "squid/dodancs-squid-log-analyzer/5eps.txt", lines: 15, bytes: 7_480, denied407: 0, ipv6: 0, zeroByteConnects: 0, connects39: 5),
        Expected(file: "squid/dodancs-squid-log-analyzer/5eps_gaps.txt", lines: 55, bytes: 331_550, denied407: 0, ipv6: 0, zeroByteConnects: 0, connects39: 4),
    ]

    @Test("real Squid logs in native format", arguments: realLogs)
    func realLog(_ expected: Expected) throws {
        guard let text = SharedInputs.text(expected.file) else {
            print("skipped: \(SharedInputs.skipMessage)")
            return
        }
        #expect(SquidAccessLogParser.detectFormat(text) == .native)
        let parsed = try SquidAccessLogParser.parse(text, format: .native)
        #expect(parsed.source == .squidNative)
        #expect(parsed.records.count == expected.lines && parsed.linesRead == expected.lines && parsed.badLines.isEmpty)
        #expect(parsed.totalBytes == expected.bytes)
        #expect(parsed.records.filter { $0.status == 407 }.count == expected.denied407)
        #expect(parsed.records.filter { $0.method == "CONNECT" && $0.bytes == 0 }.count == expected.zeroByteConnects)
        #expect(parsed.records.filter { $0.method == "CONNECT" && $0.bytes == 39 }.count == expected.connects39)
        #expect(parsed.records.allSatisfy { $0.requestBytes == nil && $0.responseBytes == $0.bytes })
        // the IPv6 client (::1) lines are ordinary records
        let ipv6Lines = text.split(separator: "\n").filter { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).first == "::1" }
        #expect(ipv6Lines.count == expected.ipv6)
    }

    @Test("whole-second times and the first 407 line are read exactly")
    func exactValues() throws {
        guard let gaps = SharedInputs.text("squid/dodancs-squid-log-analyzer/5eps_gaps.txt"),
            let access1 = SharedInputs.text("squid/elastic-beats/access1.log")
        else {
            print("skipped: \(SharedInputs.skipMessage)")
            return
        }
        let first = try #require(try SquidAccessLogParser.parse(gaps, format: .native).records.first)
        #expect(first.timestamp.microseconds == 1_579_776_395_000_000)
        #expect(first.durationMS == 43 && first.bytes == 39 && first.target == "www.gstatic.com:443")
        let denied = try #require(try SquidAccessLogParser.parse(access1, format: .native).records.first { $0.status == 407 })
        #expect(denied.bytes > 0)
    }

    @Test("lab ledger format: request plus reply bytes, padded elapsed, 407")
    func ledgerFormat() throws {
        let text = """
            1767225600.123    200 127.0.0.1 TCP_MISS/200 200 300312 GET http://127.0.0.1:18080/blob.bin user-rotate
            1767225601.500    881 127.0.0.1 TCP_TUNNEL/200 881 302530 CONNECT 127.0.0.1:18443 user-rotate

            1767225602.007      3 ::1 TCP_DENIED/407 167 3461 CONNECT 127.0.0.1:18443 -
            """
        #expect(SquidAccessLogParser.detectFormat(text) == .ledger)
        let parsed = try SquidAccessLogParser.parse(text, format: .ledger)
        #expect(parsed.source == .squidLedger)
        #expect(parsed.records.map(\.bytes) == [300_512, 303_411, 3_628])
        #expect(parsed.records.map(\.requestBytes) == [200, 881, 167])
        #expect(parsed.records[0].timestamp.microseconds == 1_767_225_600_123_000)
        #expect(parsed.records[2].timestamp.microseconds == 1_767_225_602_007_000)
        #expect(parsed.records[2].status == 407)
    }

    @Test("a malformed line is reported with its line number, and skipped only when asked")
    func malformed() throws {
        let text = "1767225600.123 5 127.0.0.1 TCP_MISS/200 10 20 GET http://x/ u\n\nnot a squid line at all\n"
        #expect {
            try SquidAccessLogParser.parse(text, format: .ledger, file: "access.log")
        } throws: { error in
            let error = error as? ReconciliationError
            return error?.code == .malformedLine && error?.line == 3 && error?.description.hasPrefix("malformed_line: access.log:3:") == true
        }
        let skipped = try SquidAccessLogParser.parse(text, format: .ledger, skipBadLines: true)
        #expect(skipped.records.count == 1 && skipped.badLines.map(\.line) == [3] && skipped.linesRead == 2)
        for bad in ["x 5 c TCP_MISS/200 1 2 GET u -", "1.2 5 c TCP_MISS 1 2 GET u -", "1 5 c TCP_MISS/200 -1 2 GET u -",
                    "1.1234567 5 c TCP_MISS/200 1 2 GET u -", "1 5 c TCP_MISS/20 1 2 GET u -"] {
            #expect(throws: ReconciliationError.self) { try SquidAccessLogParser.parse(bad, format: .ledger) }
        }
    }

    @Test("CRLF line ends are read line by line, with the same records and line numbers as LF")
    func crlfLineEnds() throws {
        let lines = [
            "1767225600.123    200 127.0.0.1 TCP_MISS/200 200 300312 GET http://127.0.0.1:18080/blob.bin user-rotate",
            "1767225601.500    881 127.0.0.1 TCP_TUNNEL/200 881 302530 CONNECT 127.0.0.1:18443 user-rotate",
            "",
            "1767225602.007      3 ::1 TCP_DENIED/407 167 3461 CONNECT 127.0.0.1:18443 -",
        ]
        let crlf = lines.joined(separator: "\r\n") + "\r\n"
        #expect(SquidAccessLogParser.detectFormat(crlf) == .ledger)
        let parsed = try SquidAccessLogParser.parse(crlf, format: .ledger)
        let plain = try SquidAccessLogParser.parse(lines.joined(separator: "\n"), format: .ledger)
        #expect(parsed.records == plain.records)
        #expect(parsed.records.count == 3)
        let bad = (lines + ["garbage"]).joined(separator: "\r\n")
        #expect { try SquidAccessLogParser.parse(bad, format: .ledger) } throws: { error in
            (error as? ReconciliationError)?.line == 5
        }
    }
}
