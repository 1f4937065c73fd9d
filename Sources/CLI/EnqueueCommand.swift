import ArgumentParser
import Foundation
import Jobs

struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Add jobs to the durable job queue (transcriptions, channel listings, metadata).",
        discussion: """
            Jobs wait in the jobs database (default .proxy-ledger/jobs.sqlite) until a worker of \
            their component claims them: transcribe → transcribe-worker; channel, metadata and batch \
            → api-youtube-service. Enqueueing is idempotent: a target that already has an available, \
            retryable or running job of the same kind gets that job back, marked `existing`.

            Each command prints one line per job: `<id> <kind> <target> new|existing`.

            Exit codes: 0 enqueued; 64 a bad argument (the input and its position are named); 65 a \
            bad line in --file (its line number is named; nothing is enqueued); 66 --file cannot be read.

            Examples:
              proxy-ledger enqueue transcribe dQw4w9WgXcQ https://youtu.be/9bZkp7q19f0
              proxy-ledger enqueue transcribe --file videos.txt --max-attempts 3
              proxy-ledger enqueue channel https://www.youtube.com/@veritasium --limit 50
              proxy-ledger enqueue metadata dQw4w9WgXcQ --format json
              proxy-ledger enqueue batch dQw4w9WgXcQ 9bZkp7q19f0 kJQP7kiw5Fk
            """,
        subcommands: [EnqueueTranscribe.self, EnqueueChannel.self, EnqueueMetadata.self, EnqueueBatch.self]
    )
}

/// Options shared by the enqueue subcommands.
struct EnqueueOptions: ParsableArguments {
    @OptionGroup var database: JobsDatabaseOptions

    @Option(help: "Attempts before a failing job is discarded.")
    var maxAttempts: Int = 5

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func validate() throws {
        guard maxAttempts >= 1 else { throw ValidationError("--max-attempts must be at least 1, not \(maxAttempts)") }
    }

    struct Output: Encodable {
        var jobs: [Entry]
        struct Entry: Encodable {
            var id: String, kind: String, target: String, state: String, new: Bool
        }
    }

    /// Enqueues `payloads` in one transaction and prints one line (or JSON entry) per job.
    func enqueue(_ payloads: [JobPayload]) async throws {
        let store = try database.openForWriting()
        let requests = payloads.map { JobRequest($0, maxAttempts: maxAttempts) }
        let results = try await store.enqueue(requests, now: JobClock.now())
        try store.close()
        let entries = results.map {
            Output.Entry(id: $0.job.id, kind: $0.job.kind.rawValue, target: $0.job.target, state: $0.job.state.rawValue, new: $0.isNew)
        }
        switch format {
        case .json: try printJSON(Output(jobs: entries))
        case .text:
            for entry in entries { print("\(entry.id) \(entry.kind) \(entry.target) \(entry.new ? "new" : "existing")") }
        }
    }
}

/// Turns a command-line video id or URL into an id, or explains what is wrong.
/// The video ids of command-line arguments, each checked by ``videoIDArgument(_:position:)``.
func videoIDArguments(_ texts: [String]) throws -> [String] {
    try texts.enumerated().map { try videoIDArgument($1, position: $0 + 1) }
}

func videoIDArgument(_ text: String, position: Int) throws -> String {
    guard let id = YouTubeInput.videoID(from: text) else {
        throw ValidationError(
            "argument \(position): '\(text)' is not a YouTube video id (11 characters A-Z a-z 0-9 _ -) "
                + "or a watch, youtu.be or shorts URL")
    }
    return id
}

struct EnqueueTranscribe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcribe",
        abstract: "Enqueue transcription jobs (one per video) for transcribe-worker.",
        discussion: """
            Each input is a video id, a watch, youtu.be or shorts URL (the id is taken from it), or \
            for offline and lab use the path of a yt-dlp info-JSON file (ending in .json). With \
            --file, one input per line is read from the file (- for standard input); blank lines \
            and lines starting with # are skipped. All jobs are enqueued in one transaction: one bad \
            input enqueues nothing.

            Examples:
              proxy-ledger enqueue transcribe dQw4w9WgXcQ "https://www.youtube.com/watch?v=9bZkp7q19f0"
              grep -v '^$' ids.txt | proxy-ledger enqueue transcribe --file -
            """
    )

    @OptionGroup var options: EnqueueOptions

    @Argument(help: ArgumentHelp("Video ids, video URLs or info-JSON paths.", valueName: "id-or-url"))
    var inputs: [String] = []

    @Option(help: ArgumentHelp("Read one id or URL per line from this file; - for standard input.", valueName: "file"))
    var file: String?

    func validate() throws {
        guard !inputs.isEmpty || file != nil else { throw ValidationError("give at least one video id or URL, or --file") }
        for (index, input) in inputs.enumerated() { _ = try source(input, position: index + 1) }
    }

    func run() async throws {
        var sources = try inputs.enumerated().map { try source($1, position: $0 + 1) }
        if let file { sources += try InputLines.videoIDs(from: file).map { .video(id: $0) } }
        try await options.enqueue(sources.map { .transcribe($0) })
    }

    private func source(_ input: String, position: Int) throws -> TranscribeSource {
        guard input.hasSuffix(".json") else { return .video(id: try videoIDArgument(input, position: position)) }
        let path = URL(fileURLWithPath: input).standardizedFileURL.path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ValidationError("argument \(position): cannot read the info-JSON file \(input)")
        }
        return .infoJSON(path: path)
    }
}

struct EnqueueChannel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel",
        abstract: "Enqueue a channel listing for api-youtube-service.",
        discussion: """
            The channel is a URL (https://www.youtube.com/@handle, /channel/UC…, /c/…, /user/…) or an \
            @handle. A channel with a listing already queued gets that job back, whatever its limit.

            Example:
              proxy-ledger enqueue channel @veritasium --limit 50
            """
    )

    @OptionGroup var options: EnqueueOptions

    @Argument(help: ArgumentHelp("A channel URL or @handle.", valueName: "channel"))
    var channel: String

    @Option(help: "List at most this many videos (default: all).")
    var limit: Int?

    func validate() throws {
        guard YouTubeInput.isChannel(channel) else {
            throw ValidationError("'\(channel)' is not a YouTube channel URL (https://www.youtube.com/@name) or @handle")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, not \(limit)") }
    }

    func run() async throws {
        try await options.enqueue([.channelListing(channel: channel, limit: limit)])
    }
}

struct EnqueueMetadata: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metadata",
        abstract: "Enqueue one video-metadata job per video for api-youtube-service.",
        discussion: """
            Each input is a video id or a watch, youtu.be or shorts URL.

            Example:
              proxy-ledger enqueue metadata dQw4w9WgXcQ 9bZkp7q19f0
            """
    )

    @OptionGroup var options: EnqueueOptions

    @Argument(help: ArgumentHelp("Video ids or URLs.", valueName: "id"))
    var ids: [String]

    func validate() throws { _ = try videoIDArguments(ids) }

    func run() async throws {
        try await options.enqueue(try videoIDArguments(ids).map { .videoMetadata(videoID: $0) })
    }
}

struct EnqueueBatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Enqueue one batch-metadata job for several videos for api-youtube-service.",
        discussion: """
            The batch's target is its sorted, distinct ids joined by commas, so the same set of \
            videos in another order is the same job.

            Example:
              proxy-ledger enqueue batch dQw4w9WgXcQ 9bZkp7q19f0 kJQP7kiw5Fk
            """
    )

    @OptionGroup var options: EnqueueOptions

    @Argument(help: ArgumentHelp("Video ids or URLs.", valueName: "id"))
    var ids: [String]

    func validate() throws { _ = try videoIDArguments(ids) }

    func run() async throws {
        try await options.enqueue([.batchMetadata(videoIDs: try videoIDArguments(ids))])
    }
}

/// Reads `--file` inputs: one video id or URL per line.
enum InputLines {
    /// The ids of the file's lines (`-`: standard input), skipping blank lines and `#` comments.
    ///
    /// - Throws: `ExitCode(66)` when the file cannot be read, `ExitCode(65)` for a bad line
    ///   (reported on standard error with its line number).
    static func videoIDs(from file: String) throws -> [String] {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else if let contents = FileManager.default.contents(atPath: file) {
            data = contents
        } else {
            printError("error: cannot read \(file)")
            throw ExitCode(66)
        }
        var ids: [String] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty || text.hasPrefix("#") { continue }
            guard let id = YouTubeInput.videoID(from: text) else {
                printError("error: \(file == "-" ? "standard input" : file) line \(index + 1): '\(text)' is not a YouTube video id "
                    + "or a watch, youtu.be or shorts URL; nothing was enqueued")
                throw ExitCode(65)
            }
            ids.append(id)
        }
        return ids
    }
}
