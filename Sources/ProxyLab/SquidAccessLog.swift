import Foundation

/// One line of the lab gateway's access log in the `ledger` format
/// `%ts.%03tu %6tr %>a %Ss/%03>Hs %>st %<st %rm %ru %un`
/// (source: Squid `logformat` documentation, squid-cache.org/Doc/config/logformat).
public struct SquidAccessLogEntry: Sendable, Hashable {
    /// When Squid logged the request, milliseconds since the Unix epoch, UTC (`%ts.%03tu`).
    public var timestampMS: Int64
    /// Response time in milliseconds (`%tr`).
    public var elapsedMS: Int64
    /// The client address (`%>a`), always 127.0.0.1 in the lab.
    public var clientAddress: String
    /// Squid's request status, e.g. `TCP_MISS`, `TCP_TUNNEL`, `TCP_DENIED` (`%Ss`).
    public var resultCode: String
    /// The HTTP status sent to the client, e.g. 200 or 407 (`%>Hs`); 0 when none.
    public var httpStatus: Int
    /// Bytes received from the client, headers included (`%>st`).
    public var requestBytes: Int64
    /// Bytes sent to the client, headers included (`%<st`).
    public var replyBytes: Int64
    /// The request method, e.g. `GET` or `CONNECT` (`%rm`).
    public var method: String
    /// The request URL, or `host:port` for CONNECT (`%ru`).
    public var url: String
    /// The authenticated (or attempted) user name, `nil` when Squid logged `-` (`%un`).
    public var user: String?

    /// Creates an entry.
    public init(
        timestampMS: Int64, elapsedMS: Int64, clientAddress: String, resultCode: String, httpStatus: Int,
        requestBytes: Int64, replyBytes: Int64, method: String, url: String, user: String?
    ) {
        self.timestampMS = timestampMS
        self.elapsedMS = elapsedMS
        self.clientAddress = clientAddress
        self.resultCode = resultCode
        self.httpStatus = httpStatus
        self.requestBytes = requestBytes
        self.replyBytes = replyBytes
        self.method = method
        self.url = url
        self.user = user
    }

    /// Request plus reply bytes: what a vendor billing both directions would count.
    public var totalBytes: Int64 { requestBytes + replyBytes }
}

/// Reads the lab gateway's access log (``SquidAccessLogEntry`` format).
public enum SquidAccessLog {
    /// Parses one line; returns `nil` for blank or malformed lines.
    ///
    /// Example: `1764400000.123     12 127.0.0.1 TCP_MISS/200 231 5120 GET http://127.0.0.1:8080/a lab-user`.
    public static func parse(line: some StringProtocol) -> SquidAccessLogEntry? {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 9 else { return nil }
        let time = fields[0].split(separator: ".", maxSplits: 1)
        guard let seconds = Int64(time[0]) else { return nil }
        let millis = time.count > 1 ? Int64(time[1].prefix(3)) ?? 0 : 0
        let status = fields[3].split(separator: "/", maxSplits: 1)
        guard status.count == 2, let httpStatus = Int(status[1]),
            let elapsed = Int64(fields[1]), let requestBytes = Int64(fields[4]), let replyBytes = Int64(fields[5])
        else { return nil }
        let user = fields[8] == "-" ? nil : String(fields[8]).removingPercentEncoding ?? String(fields[8])
        return SquidAccessLogEntry(
            timestampMS: seconds * 1000 + millis, elapsedMS: elapsed, clientAddress: String(fields[2]),
            resultCode: String(status[0]), httpStatus: httpStatus, requestBytes: requestBytes,
            replyBytes: replyBytes, method: String(fields[6]), url: String(fields[7]), user: user)
    }

    /// Parses every well-formed line of the log at `path`; an absent file yields `[]`.
    /// - Throws: ``ProxyLabError`` with code `.fileSystem` when the file exists but cannot be read.
    public static func read(path: String) throws -> [SquidAccessLogEntry] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return text.split(separator: "\n").compactMap { parse(line: $0) }
        } catch {
            throw ProxyLabError(.fileSystem, "cannot read access log \(path): \(error)")
        }
    }
}
