import Testing

@testable import ProxyGateway

/// When the metering proxy keeps a client's plain-HTTP connection for another request, and how
/// it passes the reply head on (RFC 9112 §6.3 and §9.3).
@Suite struct ClientKeepAliveTests {
    static func reply(_ lines: String...) -> ArraySlice<UInt8> {
        ArraySlice((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    @Test func aLengthFramedReplyKeepsTheConnectionWithoutHopByHopFields() throws {
        let head = Self.reply("HTTP/1.1 200 OK", "Content-Length: 12", "Connection: close", "Keep-Alive: timeout=5", "Via: 1.1 squid")
        let kept = try #require(ClientKeepAlive(replyHead: head, requestMethod: "GET"))
        #expect(kept.framing == .length(12))
        #expect(String(decoding: kept.head, as: UTF8.self) == "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nVia: 1.1 squid\r\n\r\n")
    }

    @Test(arguments: [
        ("GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked", ClientKeepAlive.Framing.chunked),
        ("GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip", .untilClose),
        ("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 900", .none),
        ("GET", "HTTP/1.1 304 Not Modified", .none),
        ("GET", "HTTP/1.1 204 No Content", .none),
        ("GET", "HTTP/1.1 200 OK", .untilClose),
        ("GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6", .untilClose),
        ("GET", "HTTP/1.1 200 OK\r\nContent-Length: -1", .untilClose),
    ])
    func theFramingFollowsRFC9112(method: String, head: String, framing: ClientKeepAlive.Framing) throws {
        let parsed = try #require(ClientKeepAlive(replyHead: Self.reply(head), requestMethod: method))
        #expect(parsed.framing == framing)
        if framing == .untilClose { #expect(parsed.head == Array(Self.reply(head)), "relayed unchanged") }
    }

    @Test func aBodyIsCompleteOnlyWhenItEndsWhereTheClientExpects() {
        var length = ReplyBodyTracker(framing: .length(10))
        length.add(Array(repeating: 1, count: 9))
        #expect(!length.isComplete)
        length.add([1])
        #expect(length.isComplete)
        var chunked = ReplyBodyTracker(framing: .chunked)
        chunked.add(Array("5\r\nhello\r\n0\r".utf8))
        #expect(!chunked.isComplete)
        chunked.add(Array("\n\r\n".utf8))
        #expect(chunked.isComplete, "the last chunk split across two reads")
        #expect(!ReplyBodyTracker(framing: .untilClose).isComplete)
    }

    @Test(arguments: [
        ("GET http://a/ HTTP/1.1", true), ("GET http://a/ HTTP/1.0", false),
        ("GET http://a/ HTTP/1.1\r\nProxy-Connection: Close", false), ("GET http://a/ HTTP/1.1\r\nConnection: keep-alive, close", false),
        ("POST http://a/ HTTP/1.1\r\nContent-Length: 3", true), ("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked", false),
        ("CONNECT a:443 HTTP/1.1", false),
    ])
    func aClientKeepsItsConnectionWhenItsRequestAllows(head: String, keeps: Bool) throws {
        let parsed = try ProxyRequestHead(parsing: Array((head + "\r\n\r\n").utf8))
        #expect(parsed.keepsClientConnection == keeps)
    }
}
