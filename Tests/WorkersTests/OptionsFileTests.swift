import Foundation
import Ledger
import Logging
import ProxyGateway
import TestSupport
import Testing

@testable import Workers

/// The proxy URL (a lease token, or the gateway password without a meter) reaches yt-dlp only in
/// a private options file, never on its command line.
@Suite(.serialized) struct OptionsFileTests {
    let logger = Logger(label: "test.options")
    static let password = "s3cr3t-P@ss:w/rd%#'\""
    /// What the stand-in prints: one video's `-J` line.
    static let json = #"{"id": "abcdefghijk", "title": "t", "channel": "c"}"#

    func browser(ytDlp: String, meter: MeteringProxy?, folder: String? = nil) throws -> ChannelBrowser {
        var configuration = ProducerConfiguration(
            ytDlpPath: ytDlp, proxyService: try FakeYtDlp.service(.api, password: Self.password),
            sink: InMemoryEventSink(), timeout: .seconds(60), logger: logger, meter: meter)
        configuration.optionsFolder = folder
        return ChannelBrowser(configuration: configuration)
    }

    @Test(arguments: [true, false])
    func argvHoldsOnlyTheOptionsFileWhichIsPrivateAndRemoved(metered: Bool) async throws {
        let directory = try TemporaryDirectory("options-argv")
        let dump = directory.file("dump.txt")
        let script = try FakeYtDlp.write(
            in: directory.path,
            body: """
                { printf 'ARG %s\\n' "$@"; echo "CFG $cfg"; stat -c 'MODE %a %u' "$cfg"; \
                stat -c 'DIR %a %u' "$(dirname "$cfg")"; printf 'PROXY %s\\n' "$proxy"; } > '\(dump)'
                echo '\(Self.json)'
                """)
        let meter = metered ? try await FakeYtDlp.idleMeter(logger: logger) : nil
        let metadata = try await browser(ytDlp: script, meter: meter, folder: directory.path)
            .videoMetadata(.url("https://x.test/watch?v=abcdefghijk"))
        await meter?.shutdown()
        #expect(metadata.id == "abcdefghijk")
        let lines = try String(contentsOfFile: dump, encoding: .utf8).split(separator: "\n").map(String.init)
        let arguments = lines.filter { $0.hasPrefix("ARG ") }.map { String($0.dropFirst(4)) }
        let file = try #require(lines.first { $0.hasPrefix("CFG ") }.map { String($0.dropFirst(4)) })
        #expect(arguments.suffix(2) == ["--config-locations", file])
        let argv = arguments.joined(separator: " ")
        #expect(!argv.contains("--proxy") && !argv.contains(":lease@") && !argv.contains("s3cr3t"))
        #expect(!argv.contains(PercentEncoding.encodeUserinfo(Self.password)))
        #expect(lines.contains("MODE 600 \(geteuid())") && lines.contains("DIR 700 \(geteuid())"))
        let proxy = try #require(lines.first { $0.hasPrefix("PROXY ") }.map { String($0.dropFirst(6)) })
        if let meter {
            let token = proxy.dropFirst("http://".count).prefix(32)
            #expect(token.count == 32 && token.allSatisfy(\.isHexDigit))
            #expect(proxy == "http://\(token):lease@127.0.0.1:\(meter.port)")
        } else {
            #expect(proxy == "http://lab-user:\(PercentEncoding.encodeUserinfo(Self.password))@127.0.0.1:9")
        }
        #expect(!FileManager.default.fileExists(atPath: file), "the options file is removed afterwards")
        #expect(!FileManager.default.fileExists(atPath: (file as NSString).deletingLastPathComponent))
    }

    @Test func theOptionsFileReadsBackThroughShlexAsYtDlpReadsIt() throws {
        let python = try #require(["/usr/bin/python3", "/usr/local/bin/python3"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }, "needs python3")
        let url = "http://u:p%40#x 'y' \"z\" \\w@127.0.0.1:1"
        let file = try YtDlpOptionsFile.create(proxyURL: url, under: FileManager.default.temporaryDirectory.path)
        defer { file.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            "-c", "import json, shlex, sys; print(json.dumps(shlex.split(open(sys.argv[1]).read(), comments=True)))",
            file.path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let parsed = try JSONDecoder().decode([String].self, from: output)
        #expect(parsed == ["--proxy", url])
    }

    @Test func anUnwritableFolderIsALaunchFailureWithoutTheSecret() async throws {
        let meter = try await FakeYtDlp.idleMeter(logger: logger)
        let error = await #expect(throws: WorkerError.self) {
            _ = try await browser(ytDlp: "/bin/true", meter: meter, folder: "/nonexistent/folder")
                .videoMetadata(.url("https://x.test/v"))
        }
        await meter.shutdown()
        #expect(error?.code == .launchFailed)
        #expect(error?.message.contains("/nonexistent/folder") == true)
        #expect(error?.description.contains(":lease@") == false && error?.description.contains("s3cr3t") == false)
    }

    static var setprivUnavailable: String? {
        if geteuid() != 0 { return "needs root to run a process as another user (uid 65534)" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") { return "needs setpriv (util-linux)" }
        return nil
    }

    /// Another local user (uid 65534) sees yt-dlp's command line but no token in it, and cannot
    /// read the options file.
    @Test(.enabled(if: setprivUnavailable == nil, "\(setprivUnavailable ?? "")"))
    func anotherUserSeesNoTokenAndCannotReadTheFile() async throws {
        let directory = try TemporaryDirectory("options-other-user")
        let ready = directory.file("ready")
        let go = directory.file("go")
        let script = try FakeYtDlp.write(
            in: directory.path,
            body: """
                printf '%s\\n%s\\n' "$$" "$cfg" > '\(ready).tmp' && mv '\(ready).tmp' '\(ready)'
                while [ ! -e '\(go)' ]; do sleep 0.05; done
                echo '\(Self.json)'
                """)
        let meter = try await FakeYtDlp.idleMeter(logger: logger)
        // The world-traversable /tmp: only the private directory and the file mode protect it.
        let browser = try browser(ytDlp: script, meter: meter, folder: "/tmp")
        let operation = Task { try await browser.videoMetadata(.url("https://x.test/watch?v=abcdefghijk")) }
        try await FakeYtDlp.waitForFile(ready)
        let written = try String(contentsOfFile: ready, encoding: .utf8).split(separator: "\n").map(String.init)
        let (pid, file) = (try #require(written.first), try #require(written.last))
        let cmdline = try Self.asNobody(["cat", "/proc/\(pid)/cmdline"])
        let options = try Self.asNobody(["cat", file])
        let ownView = try String(contentsOfFile: file, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: go, contents: Data())
        _ = try await operation.value
        await meter.shutdown()
        #expect(cmdline.status == 0 && cmdline.output.contains("--config-locations"))
        #expect(!cmdline.output.contains(":lease@") && !cmdline.output.contains("127.0.0.1:\(meter.port)"))
        #expect(options.status != 0 && !options.output.contains(":lease@"))
        #expect(ownView.contains(":lease@127.0.0.1:\(meter.port)"), "yt-dlp's own user reads it")
    }

    /// Runs `arguments` as uid/gid 65534 without groups; stdout and stderr together.
    static func asNobody(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        return (process.terminationStatus, text)
    }
}
