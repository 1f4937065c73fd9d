import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// A local HTTP/1.1 origin on 127.0.0.1 that serves the files of a directory (GET and HEAD).
///
/// - `GET /captions/x.en.json3` serves `ROOT/captions/x.en.json3` with `Content-Length` and a
///   content type by extension (`.json`, `.json3`, `.rss`, `.xml`, `.vtt`, …).
/// - `GET /status/429/...` (any 3-digit status) answers that status with a short text body, to
///   exercise error classification.
/// - `/delay/MS/…` and `/flaky/N/KEY/…` slow down or throttle a request (``OriginFaults``).
/// - Missing files give 404, other methods 405. Paths containing `..` give 404.
///
/// Files are read per request, so fixtures written after start-up are served.
public final class OriginServer: Sendable, CustomStringConvertible {
    /// Always `127.0.0.1`.
    public let host: String
    /// The port the server listens on (chosen by the kernel).
    public let port: Int
    /// The directory whose files are served.
    public let rootDirectory: String
    private let channel: any Channel

    private init(host: String, port: Int, rootDirectory: String, channel: any Channel) {
        self.host = host
        self.port = port
        self.rootDirectory = rootDirectory
        self.channel = channel
    }

    /// `http://127.0.0.1:PORT` without a trailing slash.
    public var baseURL: String { "http://\(host):\(port)" }

    /// The URL for `path` (with or without a leading `/`).
    public func url(for path: String) -> String {
        path.hasPrefix("/") ? baseURL + path : baseURL + "/" + path
    }

    /// The base URL and root directory; safe to log.
    public var description: String { "OriginServer(\(baseURL), root: \(rootDirectory))" }

    /// Binds 127.0.0.1 on a free port (or `port`) and starts serving `rootDirectory`.
    /// - Throws: ``ProxyLabError`` with code `.originFailed` when the socket cannot be bound.
    public static func start(
        rootDirectory: String, port: Int = 0, logger: Logger = Logger(label: "proxy-ledger.lab.origin")
    ) async throws -> OriginServer {
        try? FileManager.default.createDirectory(atPath: rootDirectory, withIntermediateDirectories: true)
        let root = URL(fileURLWithPath: rootDirectory).standardizedFileURL.path
        let faults = OriginFaults()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(OriginHTTPHandler(root: root, faults: faults, logger: logger))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: LoopbackPort.host, port: port).get()
            guard let bound = channel.localAddress?.port else {
                try? await channel.close().get()
                throw ProxyLabError(.originFailed, "origin has no local port")
            }
            logger.info("origin started", metadata: ["lab.port": "\(bound)", "lab.root": "\(root)"])
            return OriginServer(host: LoopbackPort.host, port: bound, rootDirectory: root, channel: channel)
        } catch let error as ProxyLabError {
            throw error
        } catch {
            throw ProxyLabError(.originFailed, "cannot bind \(LoopbackPort.host):\(port): \(error)")
        }
    }

    /// Stops accepting connections and closes the listening socket. Calling it twice is harmless.
    public func stop() async {
        try? await channel.close().get()
    }
}

/// Starts an ``OriginServer`` serving `rootDirectory`, runs `body`, and stops the server again.
/// - Throws: what ``OriginServer/start(rootDirectory:port:logger:)`` or `body` throws.
public func withOriginServer<Result: Sendable>(
    rootDirectory: String,
    logger: Logger = Logger(label: "proxy-ledger.lab.origin"),
    _ body: (OriginServer) async throws -> Result
) async throws -> Result {
    let server = try await OriginServer.start(rootDirectory: rootDirectory, logger: logger)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// Serves one HTTP/1.1 connection: files under `root`, `/status/NNN`, 404 and 405.
final class OriginHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let root: String
    private let faults: OriginFaults
    private let logger: Logger
    private var head: HTTPRequestHead?

    init(root: String, faults: OriginFaults, logger: Logger) {
        self.root = root
        self.faults = faults
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            if let head { respond(context: context, to: head) }
            head = nil
        }
    }

    private func respond(context: ChannelHandlerContext, to request: HTTPRequestHead) {
        let plan = faults.plan(for: request.uri)
        guard plan.delayMilliseconds > 0 else { return send(context: context, to: request, plan: plan) }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .milliseconds(plan.delayMilliseconds)) {
            let (handler, context) = bound.value
            handler.send(context: context, to: request, plan: plan)
        }
    }

    private func send(context: ChannelHandlerContext, to request: HTTPRequestHead, plan: OriginFaults.Plan) {
        guard context.channel.isActive else { return }
        var (status, contentType, body) = OriginRoutes.resolve(method: request.method, uri: plan.uri, root: root)
        var headers = HTTPHeaders()
        if plan.throttled {
            (status, contentType, body) = (.tooManyRequests, "text/plain; charset=utf-8", Array("429 Too Many Requests\n".utf8))
            headers.add(name: "Retry-After", value: "1")
        }
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: request.isKeepAlive ? "keep-alive" : "close")
        let head = HTTPResponseHead(version: request.version, status: status, headers: headers)
        logger.debug("origin request", metadata: ["http.uri": "\(request.uri)", "http.status": "\(status.code)"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !request.isKeepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// Maps a request to a status, content type and body.
enum OriginRoutes {
    static func resolve(method: HTTPMethod, uri: String, root: String) -> (HTTPResponseStatus, String, [UInt8]) {
        guard method == .GET || method == .HEAD else {
            return (.methodNotAllowed, "text/plain; charset=utf-8", Array("method not allowed\n".utf8))
        }
        let rawPath = String(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        let path = rawPath.removingPercentEncoding ?? rawPath
        let parts = path.split(separator: "/")
        if parts.count >= 2, parts[0] == "status", let code = Int(parts[1]), (100...599).contains(code) {
            let status = HTTPResponseStatus(statusCode: code)
            return (status, "text/plain; charset=utf-8", Array("\(code) \(status.reasonPhrase)\n".utf8))
        }
        guard !parts.contains(".."), !parts.isEmpty else {
            return (.notFound, "text/plain; charset=utf-8", Array("not found\n".utf8))
        }
        let file = URL(fileURLWithPath: root).appendingPathComponent(parts.joined(separator: "/")).path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), !isDirectory.boolValue,
            let data = FileManager.default.contents(atPath: file)
        else {
            return (.notFound, "text/plain; charset=utf-8", Array("not found\n".utf8))
        }
        return (.ok, contentType(for: file), Array(data))
    }

    static func contentType(for file: String) -> String {
        switch URL(fileURLWithPath: file).pathExtension.lowercased() {
        case "json", "json3": "application/json; charset=utf-8"
        case "rss": "application/rss+xml; charset=utf-8"
        case "xml", "srv1", "srv2", "srv3", "ttml": "application/xml; charset=utf-8"
        case "vtt": "text/vtt; charset=utf-8"
        case "html", "htm": "text/html; charset=utf-8"
        case "txt": "text/plain; charset=utf-8"
        case "mp4": "video/mp4"
        default: "application/octet-stream"
        }
    }
}
