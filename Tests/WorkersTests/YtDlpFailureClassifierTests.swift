import Ledger
@testable import ProxyGateway
import TestSupport
import Testing

@testable import Workers

/// Message formats copied from yt-dlp 2026.10.26 (`networking/exceptions.py` HTTPError,
/// `YoutubeDL.py` "Unable to download video subtitles", `networking/_urllib.py` ProxyError) and
/// from runs against the lab Squid.
struct YtDlpFailureClassifierTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var stderr: String
        var type: ProxyErrorType
        var status: Int?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "429 on subtitles",
            stderr: "ERROR: Unable to download video subtitles for 'en': HTTP Error 429: Too Many Requests",
            type: .rateLimited, status: 429),
        Case(
            name: "429 then info-json fallback 404",
            stderr: """
                WARNING: The info failed to download: Unable to download video subtitles for 'en': HTTP Error 429: \
                Too Many Requests; trying with URL http://127.0.0.1:8080/watch?v=lab00000001
                ERROR: [generic] watch?v=lab00000001: Unable to download webpage: HTTP Error 404: Not Found \
                (caused by <HTTPError 404: Not Found>)
                """,
            type: .rateLimited, status: 429),
        Case(
            name: "bot check, curly apostrophe",
            stderr:
                "ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm you\u{2019}re not a bot. Use --cookies-from-browser or --cookies for the authentication.",
            type: .botCheck, status: nil),
        Case(
            name: "bot check, straight apostrophe",
            stderr:
                "ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm you're not a bot. This helps protect our community.",
            type: .botCheck, status: nil),
        Case(
            name: "407 through plain HTTP proxy",
            stderr: """
                WARNING: The info failed to download: Unable to download video subtitles for 'en': HTTP Error 407: \
                Proxy Authentication Required; trying with URL http://127.0.0.1:8080/watch?v=x
                ERROR: [generic] watch?v=x: Unable to download webpage: HTTP Error 407: Proxy Authentication Required \
                (caused by <HTTPError 407: Proxy Authentication Required>)
                """,
            type: .authFailure, status: 407),
        Case(
            name: "407 on CONNECT tunnel",
            stderr:
                "ERROR: [youtube] abc: Unable to download API page: ('Unable to connect to proxy', OSError('Tunnel connection failed: 407 Proxy Authentication Required')) (caused by ProxyError(\"('Unable to connect to proxy', OSError('Tunnel connection failed: 407 Proxy Authentication Required'))\"))",
            type: .authFailure, status: 407),
        Case(
            name: "gateway throttles the tunnel",
            stderr:
                "ERROR: Unable to download webpage: Tunnel connection failed: 429 Too Many Requests (caused by ProxyError(...))",
            type: .gatewayThrottled, status: 429),
        Case(
            name: "404 subtitle",
            stderr: "ERROR: Unable to download video subtitles for 'en': HTTP Error 404: Not Found",
            type: .notFound, status: 404),
        Case(
            name: "video unavailable",
            stderr: "ERROR: [youtube] xxxxxxxxxxx: Video unavailable. This video has been removed by the uploader",
            type: .notFound, status: nil),
        Case(
            name: "other HTTP status",
            stderr:
                "ERROR: [youtube] abc: Unable to download webpage: HTTP Error 503: Service Unavailable (caused by <HTTPError 503: Service Unavailable>)",
            type: .httpError, status: 503),
        Case(
            name: "403",
            stderr: "ERROR: unable to download video data: HTTP Error 403: Forbidden",
            type: .httpError, status: 403),
        Case(
            name: "proxy port closed",
            stderr: "ERROR: [download] Got error: [Errno 111] Connection refused. Giving up after 10 retries",
            type: .connectionError, status: nil),
        Case(
            name: "unable to connect to proxy",
            stderr:
                "ERROR: [youtube] abc: Unable to download webpage: ('Unable to connect to proxy', NewConnectionError('<urllib3.connection.HTTPSConnection object>: Failed to establish a new connection: [Errno 111] Connection refused')) (caused by ProxyError(...))",
            type: .connectionError, status: nil),
        Case(
            name: "read timeout",
            stderr:
                "ERROR: [youtube] abc: Unable to download webpage: The read operation timed out (caused by TransportError('The read operation timed out'))",
            type: .timeout, status: nil),
        Case(
            name: "unrecognised",
            stderr: "ERROR: Unsupported URL: http://127.0.0.1:8080/feed.atom",
            type: .unknown, status: nil),
    ]

    @Test(arguments: cases)
    func classifiesRealMessages(_ testCase: Case) {
        let failure = YtDlpFailureClassifier.classify(exitCode: 1, standardError: testCase.stderr)
        #expect(failure?.errorType == testCase.type)
        #expect(failure?.httpStatus == testCase.status)
    }

    @Test func successIsNotAFailure() {
        #expect(YtDlpFailureClassifier.classify(exitCode: 0, standardError: "WARNING: something") == nil)
    }

    @Test func killedByDeadlineIsTimeout() {
        let failure = YtDlpFailureClassifier.classify(exitCode: nil, standardError: "", timedOut: true)
        #expect(failure?.errorType == .timeout)
    }

    @Test func messageIsTheLastErrorLineWithCredentialsRedacted() throws {
        let stderr = """
            [info] Writing video subtitles to: /tmp/x.en.json3
            ERROR: Unable to connect to proxy http://lab-user:p%40ss%3Aw%2Frd%25%231@127.0.0.1:3128/ refused
            """
        let failure = try #require(YtDlpFailureClassifier.classify(exitCode: 1, standardError: stderr))
        #expect(failure.message.hasPrefix("ERROR: Unable to connect"))
        #expect(!failure.message.contains("p%40ss"))
        #expect(failure.message.contains("http://***@127.0.0.1:3128/"))
        let error = WorkerError(.operationFailed, "failed", failure: failure)
        #expect(!error.description.contains("p%40ss"))
    }

    @Test func anEmptyErrorLineIsPassedOverForOneWithText() throws {
        let stderr = "ERROR: [generic] x: Unable to download webpage: HTTP Error 502: Bad Gateway\nERROR: \n"
        let failure = try #require(YtDlpFailureClassifier.classify(exitCode: 1, standardError: stderr))
        #expect(failure.message == "ERROR: [generic] x: Unable to download webpage: HTTP Error 502: Bad Gateway")
    }

    @Test func aGatewayFailureDecidesTheClassAndTheMessage() throws {
        let configuration = ProducerConfiguration(
            ytDlpPath: "/bin/false", proxyService: try ProxyService(settings: ProxySettings(), component: .transcribe),
            sink: InMemoryEventSink())
        let fromYtDlp = YtDlpFailure(errorType: .httpError, httpStatus: 502, message: "ERROR: HTTP Error 502: Bad Gateway")
        var usage = MeteredUsage()
        usage.exchanges = [
            MeteredExchange(
                isTunnel: true, method: "CONNECT", targetHost: "www.youtube.com", requestBytes: 0, responseBytes: 0,
                status: nil, errorType: .connectionError, errorReason: nil, cutShort: false, isOpen: false)
        ]
        let decided = try #require(configuration.decisiveFailure(fromYtDlp, usage: usage))
        #expect(decided.errorType == .connectionError)
        #expect(decided.httpStatus == nil)
        #expect(decided.message == "gateway: no reply (refused, reset or unreachable)")
        #expect(configuration.decisiveFailure(fromYtDlp, usage: MeteredUsage()) == fromYtDlp)
        #expect(configuration.decisiveFailure(nil, usage: usage) == nil)
    }
}
