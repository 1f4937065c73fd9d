import Ledger
import NIOCore

/// The handler on the connection to the gateway. It is the only handler in that pipeline, so
/// what it reads and writes are the TCP payload bytes on the wire: it counts them into the lease,
/// reads the gateway's reply head for the status and `X-Webshare-Error-Reason`, and relays
/// everything unchanged to the client.
final class MeteringUpstreamHandler: ChannelDuplexHandler, RelayEndpoint {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The most reply-head bytes kept for parsing; a longer head is relayed but not classified.
    static let maximumReplyHeadBytes = 16 * 1024

    /// The client side, set once both connections are up.
    var partner: MeteringClientHandler?

    private let lease: LeaseState
    private let exchange: Int
    private let isTunnel: Bool
    private let tracker: ChannelTracker
    private var context: ChannelHandlerContext?
    var pendingRead = false
    private var replyHead: [UInt8]? = []
    private var closed = false
    /// The request's method while the client keeps its connection (see ``ClientKeepAlive``):
    /// the reply head is held until complete, then relayed without its hop-by-hop fields.
    private let keepAliveMethod: String?
    private var heldReplyHead: [UInt8] = []
    /// The relayed reply body, once its head went to the client of a kept connection.
    private var replyBody: ReplyBodyTracker?

    /// - Parameters:
    ///   - expectsReplyHead: `false` for a `direct` tunnel, where the target's first bytes are
    ///     already tunnelled data (the proxy answered the CONNECT itself).
    ///   - keepAliveMethod: The plain request's method when the client asked to keep its
    ///     connection open for more requests, else `nil`.
    init(
        lease: LeaseState, exchange: Int, isTunnel: Bool, expectsReplyHead: Bool = true, keepAliveMethod: String? = nil,
        tracker: ChannelTracker
    ) {
        self.lease = lease
        self.exchange = exchange
        self.isTunnel = isTunnel
        self.tracker = tracker
        self.replyHead = expectsReplyHead ? [] : nil
        self.keepAliveMethod = isTunnel ? nil : keepAliveMethod
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        lease.addResponseBytes(buffer.readableBytes, exchange: exchange)
        if var head = replyHead {
            head += buffer.readableBytesView.prefix(Self.maximumReplyHeadBytes - head.count)
            if let end = headEnd(in: head) {
                if let reply = GatewayReply(parsing: head[..<end]) { lease.recordReply(reply, exchange: exchange) }
                replyHead = nil
            } else {
                replyHead = head.count >= Self.maximumReplyHeadBytes ? nil : head
            }
        }
        relay(buffer)
    }

    /// Passes reply bytes to the client; for a kept client connection, the head once complete
    /// and rewritten, and the body through ``replyBody``.
    private func relay(_ buffer: ByteBuffer) {
        guard let method = keepAliveMethod, replyBody == nil else {
            replyBody?.add(buffer.readableBytesView)
            partner?.partnerWrite(buffer)
            return
        }
        heldReplyHead += buffer.readableBytesView
        guard let end = headEnd(in: heldReplyHead) else {
            if heldReplyHead.count > Self.maximumReplyHeadBytes { passHeldBytes(as: ReplyBodyTracker(framing: .untilClose)) }
            return
        }
        let reply = ClientKeepAlive(replyHead: heldReplyHead[..<end], requestMethod: method)
        let rest = heldReplyHead[end...]
        heldReplyHead = reply?.head ?? Array(heldReplyHead[..<end])
        var body = ReplyBodyTracker(framing: reply?.framing ?? .untilClose)
        body.add(rest)
        heldReplyHead += rest
        passHeldBytes(as: body)
    }

    private func passHeldBytes(as body: ReplyBodyTracker) {
        replyBody = body
        guard let context else { return }
        partner?.partnerWrite(context.channel.allocator.buffer(bytes: heldReplyHead))
        heldReplyHead = []
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        finishExchange()
        if !heldReplyHead.isEmpty { passHeldBytes(as: ReplyBodyTracker(framing: .untilClose)) }
        partner?.exchangeEnded(clientKeepsConnection: replyBody?.isComplete ?? false)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The reply is over. A kept client connection stays open for the next request.
            if keepAliveMethod != nil { context.close(promise: nil) } else { partner?.partnerWriteEOF() }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or other socket error: the gateway or the path to it failed, not the origin.
        lease.recordFailure(.connectionError, exchange: exchange)
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if let partner, partner.partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }

    // MARK: Partner calls (from the client side, on the same event loop)

    /// Writes client bytes to the gateway; they are counted once the socket accepted them.
    func writeToGateway(_ buffer: ByteBuffer) {
        guard let context, buffer.readableBytes > 0 else { return }
        let count = buffer.readableBytes
        let promise = context.eventLoop.makePromise(of: Void.self)
        let lease = lease
        let exchange = exchange
        promise.futureResult.whenSuccess { lease.addRequestBytes(count, exchange: exchange) }
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    var relayContext: ChannelHandlerContext? { context }

    private func finishExchange() {
        guard !closed else { return }
        closed = true
        lease.closeExchange(exchange, proxyForcing: tracker.isForcing, replyMissing: replyHead != nil)
    }
}
