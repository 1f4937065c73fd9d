import Foundation
import TestSupport
import Testing

@testable import Reconciliation

/// `proxy-ledger reconcile` exit statuses and messages as documented in its `--help` (F7–F12, F14):
/// 0 ok, 1 over --fail-over, 64 bad options, 65 malformed input, 66 unreadable input.
@Suite("proxy-ledger reconcile: exit statuses and messages")
struct ReconcileExitCodeTests {
    static let csvHeader = "Time,Hostname,Destination Port,Bytes,Duration,Proxy,Your IP Address,Error Reason,Protocol\n"

    /// One crafted vendor file that used to crash `reconcile` (SIGILL), and what the error must name.
    struct Crafted: Sendable, CustomStringConvertible {
        var option: String
        var name: String
        var content: String
        var expected: String
        var description: String { name }
    }

    static let crafted = [
        Crafted(
            option: "--squid-log", name: "t_overflow.log",
            content: "9999999999999.000      1 127.0.0.1 TCP_MISS/200 464 5930 GET http://x/ lab\n",
            expected: ":1: bad time"),
        Crafted(
            option: "--squid-log", name: "el_overflow.log",
            content: "1795970240.610 9223372036854775807 127.0.0.1 TCP_MISS/200 464 5930 GET http://x/ lab\n",
            expected: ":1: bad elapsed time"),
        Crafted(
            option: "--squid-log", name: "bytes_overflow.log",
            content: "1795970240.610 1 127.0.0.1 TCP_MISS/200 9223372036854775807 5930 GET http://x/ lab\n",
            expected: ":1: bad byte count"),
        Crafted(
            option: "--squid-log", name: "sum_overflow.log",
            content: String(
                repeating: "1795970240.610 1 127.0.0.1 TCP_MISS/200 9223372036854775000 0 GET http://x/ lab\n", count: 2
            ),
            expected: ":1: bad byte count"),
        Crafted(
            option: "--webshare-csv", name: "dur_big.csv",
            content: csvHeader
                + "2026-11-29T16:37:20+00:00,127.0.0.1,45975,6394,1e30,p.webshare.io,1.2.3.4,None,HTTP\n",
            expected: ":2: Duration \"1e30\""),
        Crafted(
            option: "--webshare-csv", name: "dur_nan.csv",
            content: csvHeader + "2026-11-29T16:37:20+00:00,127.0.0.1,45975,6394,nan,p.webshare.io,1.2.3.4,None,HTTP\n",
            expected: ":2: Duration \"nan\""),
        Crafted(
            option: "--webshare-csv", name: "dur_s.csv",
            content: csvHeader
                + "2026-11-29T16:37:20+00:00,127.0.0.1,45975,6394,1e17s,p.webshare.io,1.2.3.4,None,HTTP\n",
            expected: ":2: Duration \"1e17s\""),
        Crafted(
            option: "--webshare-stats", name: "stats_big.json",
            content: #"[{"timestamp":"2026-11-29T16:00:00Z","bandwidth_total":1e30}]"#,
            expected: "entry 1: bandwidth_total"),
        Crafted(
            option: "--webshare-stats", name: "stats_sum.json",
            content: #"[{"timestamp":"2026-11-29T16:00:00Z","bandwidth_total":9223372036854775807},"#
                + #"{"timestamp":"2026-11-29T17:00:00Z","bandwidth_total":9223372036854775807}]"#,
            expected: "entry 1: bandwidth_total"),
    ]

    static func write(_ content: String, _ name: String, in scratch: TemporaryDirectory) throws -> String {
        let path = scratch.file(name)
        try Data(content.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(
        "a crafted out-of-range file is exit 65 naming the line, never a crash; --skip-bad-lines says all were bad",
        arguments: crafted)
    func craftedInput(_ crafted: Crafted) throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let (scratch, db, _) = try ReconcileCommandTests.fixture(theirs: 1_000)
        let path = try Self.write(crafted.content, crafted.name, in: scratch)
        let run = try BuiltExecutable.run(["reconcile", "--db", db, crafted.option, path])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr.contains(crafted.expected) && !run.stderr.contains("crashed"), "\(run.stderr)")
        let skipped = try BuiltExecutable.run(["reconcile", "--db", db, crafted.option, path, "--skip-bad-lines"])
        #expect(
            skipped.status == 65
                && skipped.stderr.contains("were bad and skipped, nothing is left to compare; the first"),
            "\(skipped.stderr)")
    }

    @Test("an input, ledger or database that cannot be read is exit 66 with the reason")
    func unreadableInput() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let (scratch, db, log) = try ReconcileCommandTests.fixture(theirs: 1_000)
        let cases: [([String], String)] = [
            (["--db", db, "--squid-log", scratch.file("missing.log")], "missing.log: No such file or directory"),
            (["--db", db, "--squid-log", scratch.path], "\(scratch.path): is a directory"),
            (["--db", db, "--webshare-csv", scratch.file("missing.csv")], "missing.csv: No such file or directory"),
            (
                ["--ledger", scratch.file("no-ledger"), "--squid-log", log],
                "the ledger \(scratch.file("no-ledger")): No such file"
            ),
            (["--ledger", log, "--squid-log", log], "Not a directory"),
            (["--db", scratch.file("none.sqlite"), "--squid-log", log], "none.sqlite: No such file or directory"),
            (["--db", scratch.path, "--squid-log", log], "the database \(scratch.path): is a directory"),
        ]
        for (arguments, message) in cases {
            let run = try BuiltExecutable.run(["reconcile"] + arguments)
            #expect(run.status == 66 && run.stderr.contains(message), "\(arguments): \(run.status) \(run.stderr)")
        }
    }

    @Test("an empty or blank log is exit 65 with a clear message")
    func emptyLog() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let (scratch, db, _) = try ReconcileCommandTests.fixture(theirs: 1_000)
        for content in ["", "\n  \n\t\n"] {
            let path = try Self.write(content, "empty.log", in: scratch)
            let run = try BuiltExecutable.run(["reconcile", "--db", db, "--squid-log", path])
            #expect(
                run.status == 65 && run.stderr.contains("empty.log has no log lines (it is empty or blank)"),
                "\(run.stderr)")
        }
        let odd = try Self.write("a b c\n", "odd.log", in: scratch)
        let run = try BuiltExecutable.run(["reconcile", "--db", db, "--squid-log", odd])
        #expect(run.status == 65 && run.stderr.contains("its first line has 3 fields"), "\(run.stderr)")
    }

    @Test("bad options are exit 64: --from not before --to, negative --tolerance/--fail-over, stats at +05:30")
    func badOptions() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let (scratch, db, log) = try ReconcileCommandTests.fixture(theirs: 1_000)
        let stats = try Self.write(
            #"[{"timestamp":"2026-11-01T00:00:00Z","bandwidth_total":1000}]"#, "s.json", in: scratch)
        let cases: [([String], String)] = [
            (["--squid-log", log, "--from", "2026-11-02", "--to", "2026-11-01"], "--from must be before --to"),
            (["--squid-log", log, "--from", "2026-11-01", "--to", "2026-11-01"], "--from must be before --to"),
            (["--squid-log", log, "--tolerance", "-1"], "--tolerance and --fail-over must be >= 0"),
            (["--squid-log", log, "--fail-over", "-1"], "--tolerance and --fail-over must be >= 0"),
            (
                ["--webshare-stats", stats, "--utc-offset", "+05:30"],
                "use a whole-hour --utc-offset such as +05:00 or +06:00"
            ),
        ]
        for (arguments, message) in cases {
            let run = try BuiltExecutable.run(["reconcile", "--db", db] + arguments)
            #expect(run.status == 64 && run.stderr.contains(message), "\(arguments): \(run.status) \(run.stderr)")
        }
        let whole = try BuiltExecutable.run([
            "reconcile", "--db", db, "--webshare-stats", stats, "--utc-offset", "+05:00",
        ])
        #expect(whole.status == 0, "\(whole.stderr)")
    }

    @Test("without --db or --ledger, ours come from the default ledger, like every other command")
    func theDefaultLedgerIsUsed() throws {
        let (scratch, _, log) = try ReconcileCommandTests.fixture(theirs: 1_000)
        let missing = try BuiltExecutable.run(["reconcile", "--squid-log", log], directory: scratch.path)
        #expect(missing.status == 66 && missing.stderr.contains(".proxy-ledger/ledger"), "\(missing.stderr)")
        _ = try BuiltExecutable.run(["append"], stdin: [], directory: scratch.path)
        let found = try BuiltExecutable.run(["reconcile", "--squid-log", log, "--format", "json"], directory: scratch.path)
        #expect(found.status == 0 && found.stdout.contains("\"tolerance_percent\" : 0.5"), "\(found.stderr) \(found.stdout)")
    }

    @Test("--help documents every exit status")
    func helpListsExitStatuses() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let help = try BuiltExecutable.run(["reconcile", "--help"]).stdout
        for line in ["0   success", "1   --fail-over", "64  bad options", "65  malformed input", "66  an input file"] {
            #expect(help.contains(line), "\(line)")
        }
    }

    @Test("a native Squid log is compared with response bytes (text and JSON); an empty window warns but passes")
    func nativeAndEmptyWindow() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: BuiltExecutable.proxyLedger), "build proxy-ledger first")
        let (scratch, db, _) = try ReconcileCommandTests.fixture(theirs: 1_000)  // ours: 100 up + 900 down
        let native = try Self.write(
            "1793491201.400    400 127.0.0.1 TCP_TUNNEL/200 900 CONNECT www.youtube.com:443 u-rotate HIER_DIRECT/1.2.3.4 -\n",
            "native.log", in: scratch)
        let text = try BuiltExecutable.run([
            "reconcile", "--db", db, "--squid-log", native, "--fail-over", "0.5", "--no-store",
        ])
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("compared: response bytes only — the native Squid format logs reply sizes"))
        let json = try BuiltExecutable.run([
            "reconcile", "--db", db, "--squid-log", native, "--format", "json", "--no-store",
        ])
        #expect(json.stdout.contains(#""compared_direction" : "response""#), "\(json.stdout)")
        let away = try BuiltExecutable.run(
            [
                "reconcile", "--db", db, "--squid-log", native, "--from", "2020-01-01", "--to", "2020-01-02",
                "--fail-over", "0.5",
            ])
        #expect(away.status == 0)
        #expect(
            away.stdout.contains(
                "warning: the window holds no vendor record and no ledger event (1 vendor record(s) fall outside it)"))
    }
}
