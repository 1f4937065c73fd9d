import Foundation

/// The head of one request a client (yt-dlp) sends to the metering proxy: the request line and
/// the header fields, parsed from raw bytes.
///
/// Only the two forms a forward proxy receives are accepted: `CONNECT host:port` (the
/// authority-form, RFC 9112 §3.2.3 and RFC 9110 §9.3.6) and an absolute-form target such as
/// `GET http://host/path HTTP/1.1` (RFC 9112 §3.2.2).
struct ProxyRequestHead: Sendable, Equatable {
    /// Why a head was refused; maps to the status the proxy answers with.
    enum Rejection: Error, Equatable {
        /// Not an HTTP/1.x request head, or a target that is neither authority- nor absolute-form.
        case malformed
    }

    /// The method, e.g. `CONNECT`, `GET`, `HEAD`, `POST` (case-sensitive, RFC 9110 §9.1).
    var method: String
    /// The request target exactly as sent: `host:port` for CONNECT, else an absolute URL.
    var target: String
    /// The protocol version token, e.g. `HTTP/1.1`.
    var version: String
    /// The header fields in order, names as sent.
    var fields: [(name: String, value: String)]

    /// `true` for `CONNECT`: everything after the gateway's reply is an opaque tunnel.
    var isTunnel: Bool { method == "CONNECT" }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.version == rhs.version
            && lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    /// Parses a head that ends with an empty line (`\r\n\r\n`, which `bytes` may include).
    ///
    /// - Throws: ``Rejection/malformed`` when the request line is not `METHOD SP target SP HTTP/1.x`,
    ///   the target does not fit the method, or a field line has no colon.
    init(parsing bytes: some Collection<UInt8>) throws(Rejection) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: true).map(String.init)
        guard !lines.isEmpty else { throw .malformed }
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1."), !requestLine[0].isEmpty else {
            throw .malformed
        }
        method = String(requestLine[0])
        target = String(requestLine[1])
        version = String(requestLine[2])
        var parsed: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { throw .malformed }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            parsed.append((name, value))
        }
        fields = parsed
        if isTunnel {
            guard Self.isAuthority(target) else { throw .malformed }
        } else {
            let lower = target.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { throw .malformed }
        }
    }

    /// The first value of the field `name` (case-insensitive), or `nil`.
    func value(of name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The local token from `Proxy-Authorization: Basic base64(token ":" anything)` (RFC 7617 §2),
    /// or `nil` when the field is missing, not Basic, or not valid base64.
    var proxyToken: String? {
        guard let user = proxyCredentials?.user, !user.isEmpty else { return nil }
        return user
    }

    /// The user and password of `Proxy-Authorization: Basic base64(user ":" password)` (RFC 7617
    /// §2; the password is everything after the first colon, and empty without one), or `nil`
    /// when the field is missing, not Basic, or not valid base64.
    var proxyCredentials: (user: String, password: String)? {
        guard let value = value(of: "Proxy-Authorization") else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let userPass = String(decoding: decoded, as: UTF8.self)
        let pair = userPass.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(pair.first ?? ""), pair.count > 1 ? String(pair[1]) : "")
    }

    /// The target's `host:port`: the CONNECT target as sent, or for an absolute URL its host and
    /// ``targetPort``.
    var targetAuthority: String { isTunnel ? target : "\(targetHost):\(targetPort)" }

    /// The target's port: the CONNECT port, or the URL's (80 for `http`, 443 for `https` when
    /// none is given).
    var targetPort: Int {
        var rest = authority
        if let close = rest.lastIndex(of: "]") { rest = rest[rest.index(after: close)...] }
        if let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]) { return port }
        return target.lowercased().hasPrefix("https://") ? 443 : 80
    }

    /// The authority part of the target: after the scheme, before the path, without userinfo.
    private var authority: Substring {
        var rest = Substring(target)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return rest
    }

    /// The declared `Content-Length` of a request body, or `nil` when absent, chunked or invalid.
    var contentLength: Int? {
        guard value(of: "Transfer-Encoding") == nil, let text = value(of: "Content-Length") else { return nil }
        return Int(text).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// Whether the client may send another request on this connection after this one's reply
    /// (RFC 9112 §9.3): a plain `HTTP/1.1` request without `close` in `Connection` or
    /// `Proxy-Connection`, and with a body the proxy can find the end of (a `Content-Length`, or
    /// none).
    var keepsClientConnection: Bool {
        guard !isTunnel, version == "HTTP/1.1", contentLength != nil || value(of: "Transfer-Encoding") == nil else { return false }
        let tokens = fields.filter { ["connection", "proxy-connection"].contains($0.name.lowercased()) }
            .flatMap { $0.value.lowercased().split(separator: ",") }
        return !tokens.contains { $0.trimmingCharacters(in: .whitespaces) == "close" }
    }

    /// The head to send upstream: the same request line and fields, without the client's
    /// `Proxy-Authorization`, with the gateway's `Proxy-Authorization` added.
    ///
    /// For a plain (non-CONNECT) request the hop-by-hop fields `Proxy-Connection`, `Connection`
    /// and `Keep-Alive` (RFC 9110 §7.6.1) are replaced by `Connection: close`, so every gateway
    /// connection carries exactly one request and each request is attributed to the token that
    /// authorised it (the client's connection may still carry several: ``ClientKeepAlive``).
    ///
    /// - Parameter authorization: The full value, e.g. `Basic dXNlcjpwYXNz`. Contains a secret.
    /// - Returns: The bytes of the rewritten head, ending with `\r\n\r\n`.
    func rewritten(authorization: String) -> [UInt8] {
        var text = headText(requestTarget: target, dropping: isTunnel ? ["proxy-authorization"] : Self.droppedForOrigin)
        text += "Proxy-Authorization: \(authorization)\r\n"
        if !isTunnel { text += "Connection: close\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// The head to send straight to the origin (a `direct` rule): the request line in origin-form
    /// (`GET /path?query HTTP/1.1`, RFC 9112 §3.2.1), the fields without `Proxy-Authorization`
    /// and the hop-by-hop ones, and `Connection: close`.
    func originFormRewritten() -> [UInt8] {
        var rest = Substring(target)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        let path = rest.firstIndex(where: { $0 == "/" || $0 == "?" }).map { String(rest[$0...]) } ?? "/"
        let text = headText(requestTarget: path.hasPrefix("?") ? "/" + path : path, dropping: Self.droppedForOrigin)
        return Array((text + "Connection: close\r\n\r\n").utf8)
    }

    /// The client's `Proxy-Authorization` and the hop-by-hop fields (RFC 9110 §7.6.1), lowercased.
    private static let droppedForOrigin: Set<String> = ["proxy-authorization", "proxy-connection", "connection", "keep-alive"]

    /// The request line with `requestTarget`, and every field whose lowercased name is not in
    /// `dropping`, each ending with CRLF (no final empty line).
    private func headText(requestTarget: String, dropping: Set<String>) -> String {
        var text = "\(method) \(requestTarget) \(version)\r\n"
        for field in fields where !dropping.contains(field.name.lowercased()) {
            text += "\(field.name): \(field.value)\r\n"
        }
        return text
    }

    /// The host of the target (without port), for logs and exchange records; never has userinfo.
    var targetHost: String {
        var rest = authority
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") { return String(rest[...close]) }
        if let colon = rest.lastIndex(of: ":") { rest = rest[..<colon] }
        return String(rest)
    }

    /// `host:port` with a numeric port in `1...65535`; an IPv6 host must be bracketed.
    private static func isAuthority(_ target: String) -> Bool {
        guard let colon = target.lastIndex(of: ":"), colon != target.startIndex,
            let port = Int(target[target.index(after: colon)...]), (1...65535).contains(port)
        else { return false }
        let host = target[..<colon]
        return !host.contains("/") && !host.contains("@") && (!host.contains(":") || host.hasPrefix("["))
    }
}

/// Finds the end of an HTTP head: the index just past the first `\r\n\r\n`, or `nil`.
///
/// - Complexity: O(n) in the number of bytes.
func headEnd(in bytes: [UInt8]) -> Int? {
    guard bytes.count >= 4 else { return nil }
    var index = 0
    while index + 3 < bytes.count {
        if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
            return index + 4
        }
        index += 1
    }
    return nil
}
