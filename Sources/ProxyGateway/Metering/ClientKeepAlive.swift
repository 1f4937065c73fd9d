import Foundation
/// How a plain-HTTP reply is passed back to a client that keeps its connection to the metering
/// proxy open for several requests (HTTP/1.1 persistent connections, RFC 9112 §9.3).
///
/// Each request still goes to the gateway on a connection of its own, sent with
/// `Connection: close`, so every request is one exchange and one event, attributed by its own
/// `Proxy-Authorization`. The gateway's end of the reply is the gateway closing that connection.
/// The client's connection stays open only when the client can find the reply's end by itself
/// (RFC 9112 §6.3): no body (`HEAD`, 1xx, 204, 304), a `Content-Length` that arrived in full, or a
/// chunked body whose last chunk arrived. Otherwise the proxy closes the client connection too,
/// which is always safe: the client opens a new one.
struct ClientKeepAlive: Sendable, Equatable {
    /// How the client finds the end of the reply body.
    enum Framing: Sendable, Equatable {
        /// No body follows the head.
        case none
        /// Exactly this many body bytes follow the head.
        case length(Int)
        /// `Transfer-Encoding: chunked`; the body ends with the last (zero-size) chunk.
        case chunked
        /// Only the connection's end marks the body's end; the client connection must close.
        case untilClose
    }

    /// The reply head to relay to the client: the gateway's, without its hop-by-hop fields
    /// (`Connection`, `Keep-Alive`, `Proxy-Connection`) when the connection is kept.
    let head: [UInt8]
    /// How the body is framed; ``Framing/untilClose`` means the client connection closes.
    let framing: Framing

    /// The hop-by-hop reply fields dropped when the client connection is kept, lowercased.
    private static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection"]

    /// Reads a complete reply head (ending with `\r\n\r\n`) to a `method` request.
    ///
    /// - Returns: `nil` when the head is not `HTTP/1.x NNN …`; such a reply is relayed unchanged
    ///   and the client connection closes after it.
    init?(replyHead bytes: ArraySlice<UInt8>, requestMethod method: String) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: true)
        guard !lines.isEmpty else { return nil }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else { return nil }
        let fields = lines.map { line -> (name: Substring, value: Substring) in
            let colon = line.firstIndex(of: ":") ?? line.endIndex
            let value = colon < line.endIndex ? line[line.index(after: colon)...] : ""
            return (line[..<colon], value.drop { $0 == " " || $0 == "\t" })
        }
        framing = Self.framing(status: status, method: method, fields: fields)
        guard framing != .untilClose else {
            head = Array(bytes)
            return
        }
        var kept = String(statusLine) + "\r\n"
        for field in fields where !Self.hopByHop.contains(field.name.lowercased()) {
            kept += "\(field.name): \(field.value)\r\n"
        }
        head = Array((kept + "\r\n").utf8)
    }

    /// RFC 9112 §6.3's rules, in order.
    private static func framing(status: Int, method: String, fields: [(name: Substring, value: Substring)]) -> Framing {
        if method == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 { return .none }
        func values(_ name: String) -> [Substring] {
            fields.filter { $0.name.lowercased() == name }.map(\.value)
        }
        let encodings = values("transfer-encoding")
        if !encodings.isEmpty {
            let last = encodings.joined(separator: ",").split(separator: ",").last
            return last?.trimmingCharacters(in: .whitespaces).lowercased() == "chunked" ? .chunked : .untilClose
        }
        let lengths = Set(values("content-length").map { $0.trimmingCharacters(in: .whitespaces) })
        guard lengths.count == 1, let text = lengths.first, let length = Int(text), length >= 0 else { return .untilClose }
        return .length(length)
    }
}

/// Follows the body bytes of one plain-HTTP reply to tell whether it arrived in full.
struct ReplyBodyTracker: Sendable {
    let framing: ClientKeepAlive.Framing
    private var bodyBytes = 0
    /// The last bytes seen, enough to recognise the last chunk `0\r\n\r\n`.
    private var tail: [UInt8] = []

    private static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    init(framing: ClientKeepAlive.Framing) { self.framing = framing }

    /// Notes body bytes relayed to the client.
    mutating func add(_ bytes: some Collection<UInt8>) {
        bodyBytes += bytes.count
        guard framing == .chunked else { return }
        tail = Array((tail + bytes.suffix(Self.lastChunk.count)).suffix(Self.lastChunk.count))
    }

    /// Whether the body ended where the client expects it to, so the connection can carry another
    /// request. A chunked body with trailer fields is not recognised, and closes the connection.
    var isComplete: Bool {
        switch framing {
        case .none: bodyBytes == 0
        case .length(let length): bodyBytes == length
        case .chunked: tail == Self.lastChunk
        case .untilClose: false
        }
    }
}
