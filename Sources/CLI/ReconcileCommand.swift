import ArgumentParser
import Foundation
import Ledger
import Projections
import Reconciliation

struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Compare the ledger's bytes with the gateway's own figures, per hour and per day.",
        discussion: """
            Reads their figures from one of --squid-log, --webshare-csv or --webshare-stats, and ours \
            from the projection database (--db, run `proxy-ledger replay` first) or else the ledger \
            (--ledger). Buckets are half-open [start, end) hours and days aligned to --utc-offset. \
            Without --from/--to the window is the vendor records' own span, so ledger events of an \
            earlier run that the vendor file does not cover are left out (a notice counts them). \
            Vendor bytes that overlap no ledger event in time are shown as "unattributed". With --db, \
            the vendor figures are also stored (vendor_usage_points, _hourly, _daily; the finance \
            report reads them): an import replaces what was stored for the same source only inside \
            the span of its own records, so the halves of a rotated log add up and importing the \
            same file again changes nothing.

            Ours are request + response bytes, except against a Squid log in the native format, which \
            logs reply sizes only: then ours are response bytes (the output says which). Webshare \
            stats count whole UTC hours, so they need a whole-hour --utc-offset. A time outside \
            years 1970-9999, a byte count above 2^53 or a duration above 366 days is a malformed line.

            Squid logs and CSV exports are streamed: read in 1 MiB chunks, twice (once to check every \
            line and find the window, once to sum the buckets), keeping per-bucket sums only, so memory \
            does not grow with the file. Lines end at LF or CRLF; a line (or CSV record) longer than \
            1 MiB is malformed. A log still being written is read up to its size when opened.

            Exit status:
              0   success
              1   --fail-over is given and a bucket's |delta %| exceeds it
                  (or theirs is 0 while ours is not)
              64  bad options
              65  malformed input: a bad line (named by file and line), an
                  empty or unknown log, every line skipped, a sum beyond 64 bits
              66  an input file, the ledger or --db cannot be opened or read
                  (missing, a directory, no permission)
              74  the vendor figures cannot be stored in --db

            Example:
              proxy-ledger reconcile --db projections.sqlite --squid-log access.log \\
                --squid-format ledger --from 2026-11-01 --to 2026-11-02 --fail-over 1
            """
    )

    enum SquidFormat: String, ExpressibleByArgument, CaseIterable { case auto, native, ledger }
    enum Buckets: String, ExpressibleByArgument, CaseIterable { case hour, day, both }

    @Option(help: ArgumentHelp(
        "The ledger directory (used when --db is not given; default .proxy-ledger/ledger).", valueName: "dir"))
    var ledger: String?
    @Option(
        help: ArgumentHelp("The projection database: ours are read from it, theirs stored in it.", valueName: "file"))
    var db: String?
    @Option(name: .customLong("squid-log"), help: ArgumentHelp("A Squid access log.", valueName: "file"))
    var squidLog: String?
    @Option(name: .customLong("squid-format"), help: "The Squid log format (auto: by field count).")
    var squidFormat: SquidFormat = .auto
    @Option(name: .customLong("webshare-csv"), help: ArgumentHelp("A Webshare activity CSV export.", valueName: "file"))
    var webshareCSV: String?
    @Option(
        name: .customLong("webshare-stats"), help: ArgumentHelp("A Webshare /api/v2/stats/ JSON.", valueName: "file"))
    var webshareStats: String?
    @Option(
        help: ArgumentHelp(
            "Window start, inclusive (RFC 3339 with offset, or a date = UTC midnight).", valueName: "time"))
    var from: String?
    @Option(help: ArgumentHelp("Window end, exclusive; after --from.", valueName: "time"))
    var to: String?
    @Option(
        name: .customLong("utc-offset"),
        help: ArgumentHelp("Align hours and days to this offset (Z, +05:30).", valueName: "offset"))
    var utcOffset: String = "Z"
    @Option(help: "Which buckets to print.")
    var buckets: Buckets = .both
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Tolerance in percent for the 'within' column (the same default as `report`).", valueName: "pct"))
    var tolerance: Double = 0.5
    @Option(
        name: .customLong("fail-over"), parsing: .unconditional,
        help: ArgumentHelp("Exit 1 when a bucket's |delta %| exceeds this.", valueName: "pct"))
    var failOver: Double?
    @Option(
        name: .customLong("match-slack-ms"), parsing: .unconditional,
        help: ArgumentHelp("Time slack when matching vendor records to events, 0 to 86400000.", valueName: "ms"))
    var matchSlackMS: Int64 = 2_000
    @Flag(name: .customLong("skip-bad-lines"), help: "Skip (and list) malformed input lines instead of failing.")
    var skipBadLines = false
    @Flag(name: .customLong("no-store"), help: "Do not store the vendor figures in the database.")
    var noStore = false
    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func validate() throws {
        let sources = [squidLog, webshareCSV, webshareStats].compactMap { $0 }
        guard sources.count == 1 else {
            throw ValidationError("give exactly one of --squid-log, --webshare-csv, --webshare-stats")
        }
        guard tolerance >= 0, (failOver ?? 0) >= 0 else {
            throw ValidationError("--tolerance and --fail-over must be >= 0")
        }
        guard (0...86_400_000).contains(matchSlackMS) else {
            throw ValidationError("--match-slack-ms must be 0 to 86400000 (a day)")
        }
        guard let offset = BucketGrid.parseOffset(utcOffset) else {
            throw ValidationError("--utc-offset must be Z or ±HH:MM")
        }
        if let start = try parseInstant(from, option: "from"), let end = try parseInstant(to, option: "to"),
            start >= end
        {
            throw ValidationError("--from must be before --to")
        }
        if webshareStats != nil, offset % 3_600 != 0 { throw ValidationError(Reconciler.wholeHourMessage(offset)) }
    }

    func run() async throws {
        do {
            try reconcile()
        } catch let failure as ReconcileFailure {
            printError("Error: \(failure.message)")
            throw ExitCode(failure.status)
        } catch let error as ReconciliationError {
            printError("Error: \(error)")
            throw ExitCode(ReconcileFailure.status(of: error))
        }
    }

    /// Two passes over the vendor file, holding per-bucket sums only: the first checks every line
    /// and finds the window, the second sums the buckets and stages the figures for --db.
    private func reconcile() throws {
        let vendor = try openVendor()
        let options = ReconciliationOptions(
            from: try parseInstant(from, option: "from")?.microseconds,
            to: try parseInstant(to, option: "to")?.microseconds,
            granularities: buckets == .both ? [.hour, .day] : [buckets == .hour ? .hour : .day],
            utcOffsetSeconds: BucketGrid.parseOffset(utcOffset) ?? 0, tolerancePercent: tolerance,
            matchSlackMS: matchSlackMS)
        let survey = try options.survey(vendor)
        try Self.checkNotAllBad(survey.scan)
        guard let window = survey.window else {
            throw ReconcileFailure(
                65,
                "\(vendor.file ?? "the vendor file") holds no vendor records and no --from/--to was given: nothing to compare"
            )
        }
        let store = try openDatabase()  // one pool for the reads and the import
        defer { try? store?.close() }
        let ours = try readOurs(window, store: store)
        let staged = store.flatMap { store in
            noStore ? nil : VendorUsageStore.Import(source: vendor.source, store: store, from: window.from, to: window.to)
        }
        var stagingError: ReconciliationError?
        let report = try Reconciler.reconcile(vendor, survey: survey, ours: ours, options: options) { record in
            guard stagingError == nil, let staged else { return }
            do throws(ReconciliationError) { try staged.add(record) } catch { stagingError = error }
        }
        if let staged, let db {
            try commit(staged, stagingError: stagingError, db: db, utcOffsetSeconds: options.utcOffsetSeconds)
        }
        switch format {
        case .json: try printJSON(report)
        case .text: print(report.renderText())
        }
        if let failOver, !report.bucketsOver(percent: failOver).isEmpty {
            printError("reconcile: \(report.bucketsOver(percent: failOver).count) bucket(s) over \(failOver) %")
            throw ExitCode.failure
        }
    }

    /// `--db`, opened for writing unless `--no-store`; `nil` without `--db`. A missing file is exit
    /// 66, as is a file that is not a projection.
    private func openDatabase() throws -> ProjectionStore? {
        guard let db else { return nil }
        try InputFile.checkReadable(db, what: "the database")
        do {
            return try ProjectionStore(path: db, access: noStore ? .readOnly : .readWrite)
        } catch let error as ProjectionError {
            throw ReconcileFailure(66, error.explanation)
        }
    }

    /// Our events that may match the window's records: from --db, else from --ledger.
    private func readOurs(_ window: ReconciliationWindow, store: ProjectionStore?) throws -> [LedgerUsageEvent] {
        let padding = LedgerTimestamp.microsecondsPerDay  // events that started up to a day earlier may still match
        if let store {
            if let ledger {
                printError("note: ours are read from --db (run `proxy-ledger replay` to bring it up to date); --ledger \(ledger) is not read")
            }
            return try LedgerUsageReader.fromDatabase(store, from: window.from - padding, to: window.to)
        }
        let ledger = ledger ?? LedgerOptions.defaultDirectory
        try InputFile.checkDirectory(ledger, what: "the ledger")
        return try LedgerUsageReader.fromLedger(ledger, from: window.from - padding, to: window.to)
    }

    /// Commits the staged vendor figures into --db and says what the import replaced; exit 74 on failure.
    private func commit(
        _ staged: VendorUsageStore.Import, stagingError: ReconciliationError?, db: String, utcOffsetSeconds: Int
    ) throws {
        let change: VendorUsageStore.Change
        do {
            if let stagingError { throw stagingError }
            change = try staged.commit(utcOffsetSeconds: utcOffsetSeconds)
        } catch {
            throw ReconcileFailure(74, "storing the vendor figures in \(db) failed: \(error)")
        }
        guard let span = change.span else { return }
        let range = "[\(LedgerTimestamp(microseconds: span.lowerBound).rfc3339), \(LedgerTimestamp(microseconds: span.upperBound).rfc3339)]"
        printError(
            "stored \(staged.source.rawValue) \(range) in \(db): \(change.after.records) records, \(change.after.bytes) B "
                + "(before: \(change.before.records) records, \(change.before.bytes) B)"
                + (change.after.records < change.before.records
                    ? "; fewer than before over the same span: was the file filtered or cut?" : ""))
    }

    /// Opens the vendor file for reading in chunks (Webshare stats, small, are parsed whole);
    /// an unreadable file is exit 66, an undetectable Squid format 65.
    private func openVendor() throws -> any VendorRecordSource {
        if let squidLog {
            let reader = try VendorFileReader(descriptor: try InputFile.open(squidLog), path: squidLog)
            let resolved: SquidAccessLogParser.Format
            switch squidFormat {
            case .native: resolved = .native
            case .ledger: resolved = .ledger
            case .auto:
                let fields = try SquidLogFile.firstLineFieldCount(reader)
                guard let detected = fields.flatMap(SquidAccessLogParser.format(fieldCount:)) else {
                    throw ReconcileFailure(65, Self.undetectedFormatMessage(firstLineFields: fields, file: squidLog))
                }
                resolved = detected
            }
            return SquidLogFile(reader, format: resolved, skipBadLines: skipBadLines)
        }
        if let webshareCSV {
            let reader = try VendorFileReader(descriptor: try InputFile.open(webshareCSV), path: webshareCSV)
            return WebshareActivityCSVFile(reader, skipBadLines: skipBadLines)
        }
        let path = webshareStats ?? ""
        return try WebshareStats.parse(try InputFile.read(path), skipBadLines: skipBadLines, file: path)
    }

    /// Malformed data is exit 65: here, every line was bad and skipped.
    static func checkNotAllBad(_ scan: VendorScan) throws {
        guard scan.records == 0, let first = scan.badLines.first else { return }
        let stats = scan.source == .webshareStats
        throw ReconcileFailure(
            65,
            "all \(scan.badLines.count) \(stats ? "entries" : "lines") of \(scan.file ?? "the vendor file") "
                + "were bad and skipped, nothing is left to compare; the first, \(stats ? "entry" : "line") "
                + "\(first.line): \(first.reason)")
    }

    static func undetectedFormatMessage(firstLineFields: Int?, file: String) -> String {
        guard let count = firstLineFields else {
            return "\(file) has no log lines (it is empty or blank): nothing to compare"
        }
        return "cannot tell the Squid log format of \(file): its first line has \(count) fields, "
            + "not 10 (native) or 9 (ledger); pass --squid-format"
    }
}

/// A reconcile failure with its exit status (sysexits.h: 65 EX_DATAERR, 66 EX_NOINPUT, 74 EX_IOERR),
/// printed as one `Error: …` line. Kept here rather than in ``CommandFailure``, which always exits 1.
struct ReconcileFailure: Error {
    let status: Int32
    let message: String

    init(_ status: Int32, _ message: String) {
        self.status = status
        self.message = message
    }

    /// 65 for bad data, 66 for storage that cannot be read, 64 for a bad argument.
    static func status(of error: ReconciliationError) -> Int32 {
        switch error.code {
        case .storageFailed, .unreadable: 66
        case .invalidArgument: 64
        default: 65
        }
    }
}

/// Opening inputs with the system's reason when that fails ("No such file or directory").
enum InputFile {
    /// The whole file (for small inputs: Webshare stats).
    ///
    /// - Throws: ``ReconcileFailure`` 66 when it cannot be opened or read, or is a directory.
    static func read(_ path: String) throws -> Data {
        let handle = FileHandle(fileDescriptor: try open(path), closeOnDealloc: true)
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw ReconcileFailure(66, "cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// A descriptor open for reading `path`, which the caller must close.
    ///
    /// - Throws: ``ReconcileFailure`` 66 when it cannot be opened or is a directory.
    static func open(_ path: String) throws -> Int32 {
        let descriptor = Foundation.open(path, O_RDONLY)
        guard descriptor >= 0 else { throw failure(path, nil, errno) }
        var status = stat()
        if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            close(descriptor)
            throw ReconcileFailure(66, "cannot read \(path): is a directory")
        }
        return descriptor
    }

    /// Checks that `path` is a readable regular file (the projection database).
    static func checkReadable(_ path: String, what: String) throws {
        let descriptor = Foundation.open(path, O_RDONLY)
        guard descriptor >= 0 else { throw failure(path, what, errno) }
        defer { close(descriptor) }
        var status = stat()
        if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            throw ReconcileFailure(66, "cannot read \(what) \(path): is a directory")
        }
    }

    /// Checks that `path` is a readable directory (the ledger).
    static func checkDirectory(_ path: String, what: String) throws {
        guard let directory = opendir(path) else { throw failure(path, what, errno) }
        closedir(directory)
    }

    private static func failure(_ path: String, _ what: String?, _ code: Int32) -> ReconcileFailure {
        ReconcileFailure(66, "cannot read \(what.map { "\($0) " } ?? "")\(path): \(String(cString: strerror(code)))")
    }
}
