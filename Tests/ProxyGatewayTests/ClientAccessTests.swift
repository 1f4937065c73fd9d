import Foundation
import Ledger
import Logging
import Testing

@testable import ProxyGateway

/// How a shared listener reads a client's proxy username and password.
@Suite struct ClientAccessTests {
    @Test func theUsernameNamesComponentJobAndOperation() throws {
        let component = try OperationAttribution(proxyUsername: "my-scripts")
        #expect(component.component == "my-scripts" && component.jobID == nil && component.operation == "proxy-exchange")
        let job = try OperationAttribution(proxyUsername: "my-scripts/batch-7")
        #expect(job.jobID == "batch-7" && job.operation == "proxy-exchange")
        let full = try OperationAttribution(proxyUsername: "my-scripts/batch-7/channel-listing")
        #expect(full.component == "my-scripts" && full.jobID == "batch-7" && full.operation == "channel-listing")
        let noJob = try OperationAttribution(proxyUsername: "my-scripts//subtitle-download")
        #expect(noJob.jobID == nil && noJob.operation == "subtitle-download")
        let encoded = try OperationAttribution(proxyUsername: "my-scripts%2Fbatch-7")
        #expect(encoded.jobID == "batch-7", "a percent-encoded proxy URL userinfo is decoded")
    }

    @Test(arguments: ["", "has space", String(repeating: "c", count: 51), "c/job/op with space", "c/j\u{7F}b", "c/job/"])
    func aUsernameThatNamesNoAttributionIsRefused(_ username: String) {
        #expect(throws: ClientAttributionError.self) { try OperationAttribution(proxyUsername: username) }
    }

    @Test func theTokenIsComparedWholeAndNeverPrinted() {
        let access = ClientAccess.token("s3cret-token")
        #expect(access.admits(password: "s3cret-token"))
        #expect(!access.admits(password: "s3cret-toke"))
        #expect(!access.admits(password: "s3cret-token2"))
        #expect(!access.admits(password: nil))
        #expect(ClientAccess.open.admits(password: nil))
        #expect(!"\(access)".contains("s3cret"))
    }

    @Test func theBasicCredentialsAreSplitAtTheFirstColon() throws {
        let value = Data("my-scripts/job:tok:en".utf8).base64EncodedString()
        let head = try ProxyRequestHead(parsing: Array("CONNECT h:443 HTTP/1.1\r\nProxy-Authorization: Basic \(value)\r\n\r\n".utf8))
        #expect(head.proxyCredentials?.user == "my-scripts/job" && head.proxyCredentials?.password == "tok:en")
        #expect(head.targetAuthority == "h:443")
        let plain = try ProxyRequestHead(parsing: Array("GET http://example.com/a HTTP/1.1\r\n\r\n".utf8))
        #expect(plain.proxyCredentials == nil && plain.targetAuthority == "example.com:80")
        let https = try ProxyRequestHead(parsing: Array("GET https://[::1]:8443/a HTTP/1.1\r\n\r\n".utf8))
        #expect(https.targetAuthority == "[::1]:8443")
    }

    @Test func aDirectRequestGoesOutInOriginFormWithoutProxyFields() throws {
        let head = try ProxyRequestHead(parsing: Array(
            "GET http://mirror.internal:8080/a/b?c=1 HTTP/1.1\r\nHost: mirror.internal:8080\r\nProxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive\r\n\r\n".utf8))
        #expect(String(decoding: head.originFormRewritten(), as: UTF8.self)
            == "GET /a/b?c=1 HTTP/1.1\r\nHost: mirror.internal:8080\r\nConnection: close\r\n\r\n")
        #expect(head.targetPort == 8080)
        let bare = try ProxyRequestHead(parsing: Array("GET http://h?x HTTP/1.1\r\n\r\n".utf8))
        #expect(String(decoding: bare.originFormRewritten(), as: UTF8.self).hasPrefix("GET /?x HTTP/1.1\r\n"))
    }

    @Test func anOpenListenerIsOnlyForLoopback() async {
        let upstream = try? MeteringUpstream(host: "127.0.0.1", port: 9, username: "u", password: "p")
        guard let upstream else { return }
        await #expect(throws: MeteringError.self) {
            _ = try await MeteringProxy.startShared(
                upstream: upstream, access: .open, host: "0.0.0.0", port: 0, record: { _ in }, logger: .init(label: "t"))
        }
    }

    @Test func anExchangeFailsByTheGatewayTheStatusOrTheShutdown() {
        func exchange(status: Int?, error: ProxyErrorType? = nil, cutShort: Bool = false) -> MeteredExchange {
            MeteredExchange(
                isTunnel: false, method: "GET", targetHost: "h", requestBytes: 1, responseBytes: 1, status: status,
                errorType: error, errorReason: nil, cutShort: cutShort, isOpen: false)
        }
        #expect(SharedAdmission.failure(of: exchange(status: 200)) == nil)
        #expect(SharedAdmission.failure(of: exchange(status: 304)) == nil)
        #expect(SharedAdmission.failure(of: exchange(status: 404)) == .notFound)
        #expect(SharedAdmission.failure(of: exchange(status: 429)) == .rateLimited)
        #expect(SharedAdmission.failure(of: exchange(status: 500)) == .httpError)
        #expect(SharedAdmission.failure(of: exchange(status: 407, error: .authFailure)) == .authFailure)
        #expect(SharedAdmission.failure(of: exchange(status: nil)) == .connectionError)
        #expect(SharedAdmission.failure(of: exchange(status: 200, cutShort: true)) == .interrupted)
        #expect(SharedAdmission.failure(of: nil) == .unknown)
    }
}

/// The listener's rules: matching, and how the settings file declares them.
@Suite struct TrafficRuleTests {
    @Test func aHostGlobMatchesCaseInsensitivelyAndOnlyItsComponents() {
        let rule = TrafficRule(name: "no-video", components: ["transcribe-worker"], host: "*.googlevideo.com", action: .block)
        #expect(rule.matches(component: "transcribe-worker", targetHost: "rr1---sn-ab.GoogleVideo.com", url: nil))
        #expect(!rule.matches(component: "transcribe-worker", targetHost: "googlevideo.com", url: nil))
        #expect(!rule.matches(component: "api-youtube-service", targetHost: "rr1.googlevideo.com", url: nil))
        #expect(TrafficRule.glob("r?1.*.com", matches: "rr1.x.y.com") && !TrafficRule.glob("a*b", matches: "ac"))
    }

    @Test func aURLRuleMatchesPlainRequestsOnly() {
        let rule = TrafficRule(name: "no-playback", url: "/videoplayback\\?", action: .block)
        #expect(rule.matches(component: "c", targetHost: "h", url: "http://h/videoplayback?id=1"))
        #expect(!rule.matches(component: "c", targetHost: "h", url: "http://h/watch?v=1"))
        #expect(!rule.matches(component: "c", targetHost: "h", url: nil), "a tunnel's URL is never seen")
    }

    @Test func theSettingsFileDeclaresRules() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func load(_ json: String) throws(ProxyConfigurationError) -> ProxySettings {
            let path = directory + "/settings.json"
            try? json.write(toFile: path, atomically: true, encoding: .utf8)
            return try ProxySettings.load(environment: [:], configFile: path)
        }
        let settings = try load(#"{"rules": [{"name": "no-video", "components": ["transcribe-worker"], "host": "*.googlevideo.com", "action": "block"}]}"#)
        #expect(settings.rules == [TrafficRule(name: "no-video", components: ["transcribe-worker"], host: "*.googlevideo.com", action: .block)])
        for (json, says) in [
            (#"{"rules": [{"host": "a", "action": "block"}]}"#, "rules[0].name"),
            (#"{"rules": [{"name": "n", "host": "a", "url": "b", "action": "block"}]}"#, "exactly one of"),
            (#"{"rules": [{"name": "n", "url": "(", "action": "block"}]}"#, "regular expression"),
            (#"{"rules": [{"name": "n", "host": "a", "action": "drop"}]}"#, "must be one of block"),
            (#"{"rules": [{"name": "n", "hosts": "a", "action": "block"}]}"#, "did you mean \"host\""),
            (#"{"rules": {"name": "n"}}"#, "JSON array"),
        ] {
            #expect(throws: ProxyConfigurationError.self) { try load(json) }
            do { _ = try load(json) } catch { #expect(error.description.contains(says), "\(error)") }
        }
    }
}
