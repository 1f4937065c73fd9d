import Ledger
import Logging
import NIOCore
import NIOPosix

/// The handler on a client (yt-dlp) connection: reads one request head, checks the token,
/// connects to the gateway, then relays bytes both ways with back-pressure (after NIO's
/// `GlueHandler` from swift-nio-examples).
final class MeteringClientHandler: ChannelDuplexHandler, RelayEndpoint {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case readingHead([UInt8])
        case connecting(head: ByteBuffer, pending: [ByteBuffer])
        case relaying
        case closed
    }

    /// The largest request head accepted, in bytes.
    static let maximumHeadBytes = 64 * 1024

    /// Relayed bytes are read in chunks of up to 1 MiB (NIO's default stops at 64 KiB), so a bulk
    /// transfer takes fewer reads, writes and event-loop turns.
    static let relayReadAllocator = AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 64 * 1024, maximum: 1024 * 1024)
    /// Back-pressure thresholds for both sides of a relay, sized to the larger reads.
    static let relayWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 512 * 1024, high: 2 * 1024 * 1024)

    private let environment: MeteringEnvironment
    private var state = State.readingHead([])
    private var context: ChannelHandlerContext?
    private var partner: MeteringUpstreamHandler?
    var pendingRead = false
    private var lease: LeaseState?
    private var exchange: Int?
    /// Body bytes of a plain request still to forward; `nil` = unbounded (tunnel, chunked).
    private var bodyRemaining: Int?
    /// A `direct` rule's tunnel: the proxy itself answers the CONNECT once the target is reached.
    private var directTunnel = false
    /// Whether the current plain request's client keeps its connection for another request.
    private var keepsConnection = false
    /// Client bytes after the current request's body: the start of its next request.
    private var nextRequest: [UInt8] = []
    /// Counts the waits for a kept connection's next request, so a stale idle timer does nothing.
    private var idleWaits = 0

    /// How long a kept connection may wait for its next request before the proxy closes it.
    static let keptConnectionIdleTimeout = TimeAmount.seconds(60)

    init(environment: MeteringEnvironment) {
        self.environment = environment
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        switch state {
        case .readingHead(let bytes):
            readHead(bytes + buffer.readableBytesView, context: context)
        case .connecting(let head, var pending):
            pending.append(buffer)
            state = .connecting(head: head, pending: pending)
        case .relaying:
            forward(buffer)
        case .closed:
            break
        }
    }

    /// Starts the exchange once `bytes` hold a whole request head.
    private func readHead(_ bytes: [UInt8], context: ChannelHandlerContext) {
        guard let end = headEnd(in: bytes) else {
            if bytes.count > Self.maximumHeadBytes { replyLocally(LocalReply.badRequest, context: context) }
            else { state = .readingHead(bytes) }
            return
        }
        let rest = context.channel.allocator.buffer(bytes: bytes[end...])
        startExchange(head: bytes[..<end], rest: rest, context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        partner?.partnerCloseFully()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            if case .relaying = state { partner?.partnerWriteEOF() } else { context.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        environment.logger.debug("metering: client connection error", metadata: ["metering.error": "\(error)"])
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        switch state {
        case .readingHead: context.read()
        case .relaying where partner?.partnerWritable ?? false: context.read()
        case .closed: break
        default: pendingRead = true
        }
    }

    // MARK: Partner calls (from the gateway side, on the same event loop)

    func partnerWrite(_ buffer: ByteBuffer) { context?.write(wrapOutboundOut(buffer), promise: nil) }

    var relayContext: ChannelHandlerContext? { context }

    /// The gateway side closed: the exchange is over. A kept connection waits for the client's
    /// next request (see ``ClientKeepAlive``); any other is closed once the reply is flushed.
    func exchangeEnded(clientKeepsConnection: Bool) {
        guard clientKeepsConnection, keepsConnection, case .relaying = state, let context, context.channel.isActive else {
            partnerCloseFully()
            return
        }
        context.flush()
        partner = nil
        lease = nil
        exchange = nil
        bodyRemaining = nil
        keepsConnection = false
        let next = nextRequest
        nextRequest = []
        readHead(next, context: context)
        closeWhenIdle(context: context)
        if pendingRead, case .readingHead = state {
            pendingRead = false
            context.read()
        }
    }

    /// Closes the connection if no byte of its next request arrives within
    /// ``keptConnectionIdleTimeout``.
    private func closeWhenIdle(context: ChannelHandlerContext) {
        idleWaits += 1
        let wait = idleWaits
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: Self.keptConnectionIdleTimeout) {
            let handler = bound.value
            guard handler.idleWaits == wait, case .readingHead(let bytes) = handler.state, bytes.isEmpty else { return }
            handler.state = .closed
            handler.context?.close(promise: nil)
        }
    }

    // MARK: Exchange set-up

    private func startExchange(head headBytes: ArraySlice<UInt8>, rest: ByteBuffer, context: ChannelHandlerContext) {
        let head: ProxyRequestHead
        do {
            head = try ProxyRequestHead(parsing: headBytes)
        } catch {
            replyLocally(LocalReply.badRequest, context: context)
            return
        }
        let rewritten = context.channel.allocator.buffer(bytes: head.rewritten(authorization: environment.authorization))
        state = .connecting(head: rewritten, pending: rest.readableBytes > 0 ? [rest] : [])
        if let shared = environment.shared {
            admitClient(head: head, shared: shared, context: context)
            return
        }
        guard let token = head.proxyToken, let lease = environment.registry.lookup(token) else {
            refuse(head, context: context)
            return
        }
        if lease.authRejected {
            lease.noteSuppressed()
            replyLocally(LocalReply.authenticationRequired, context: context)
            return
        }
        if let rule = environment.rule(for: lease.attribution.component, head: head), rule.action == .block {
            lease.recordBlocked(head: head, rule: rule.name)
            refuse(head, by: rule, context: context)
            return
        }
        open(head: head, lease: lease, context: context)
    }

    /// A shared listener's client: checked, then (with ``TunnelLimiter``) queued for a slot.
    private func admitClient(head: ProxyRequestHead, shared: SharedAdmission, context: ChannelHandlerContext) {
        guard let attribution = shared.attribution(for: head, logger: environment.logger) else {
            refuse(head, context: context)
            return
        }
        let rule = environment.rule(for: attribution.component, head: head)
        if let rule, rule.action == .block {
            shared.recordBlocked(attribution, head: head, rule: rule)
            refuse(head, by: rule, context: context)
            return
        }
        let registry = environment.registry
        if let rule, rule.action == .direct {
            let lease = shared.register(attribution, head: head, registry: registry, direct: rule)
            open(head: head, lease: lease, direct: true, context: context)
            return
        }
        guard let limiter = shared.limiter else {
            open(head: head, lease: shared.register(attribution, head: head, registry: registry), context: context)
            return
        }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        limiter.acquire(on: context.eventLoop).whenSuccess { granted in
            let handler = bound.value
            guard let context = handler.context, handler.isConnecting else {
                if granted { limiter.release() }
                return
            }
            guard granted else {
                handler.environment.logger.info("metering: no tunnel slot within the queue timeout; answered 503",
                    metadata: ["metering.max_tunnels": "\(limiter.limit)", "metering.target": "\(head.targetHost)"])
                handler.replyLocally(LocalReply.tooManyTunnels, context: context)
                return
            }
            handler.open(head: head, lease: shared.register(attribution, head: head, registry: registry, slot: limiter), context: context)
        }
    }

    private var isConnecting: Bool {
        if case .connecting = state { return true }
        return false
    }

    private func refuse(_ head: ProxyRequestHead, context: ChannelHandlerContext) {
        environment.logger.info(
            "metering: refused a request with missing or unknown credentials",
            metadata: ["http.method": "\(head.method)", "metering.target": "\(head.targetHost)"])
        replyLocally(LocalReply.authenticationRequired, context: context)
    }

    /// Answers a request a `block` rule refused (`403`, nothing forwarded), once it is recorded.
    private func refuse(_ head: ProxyRequestHead, by rule: TrafficRule, context: ChannelHandlerContext) {
        environment.logger.info("metering: a rule blocked a request",
            metadata: ["metering.rule": "\(rule.name)", "metering.target": "\(head.targetHost)"])
        replyLocally(LocalReply.blocked(by: rule.name), context: context)
    }

    /// Opens the exchange on `lease` and connects to the gateway, or with `direct` to the target.
    private func open(head: ProxyRequestHead, lease: LeaseState, direct: Bool = false, context: ChannelHandlerContext) {
        guard let exchange = lease.openExchange(head: head, channel: context.channel) else {
            replyLocally(LocalReply.authenticationRequired, context: context)
            return
        }
        self.lease = lease
        self.exchange = exchange
        if let options = context.channel.syncOptions {
            try? options.setOption(.recvAllocator, value: Self.relayReadAllocator)
            try? options.setOption(.writeBufferWaterMark, value: Self.relayWaterMark)
        }
        if !head.isTunnel {
            bodyRemaining = head.contentLength ?? (head.value(of: "Transfer-Encoding") == nil ? 0 : nil)
            keepsConnection = head.keepsClientConnection
        }
        guard direct else {
            connect(head, lease: lease, exchange: exchange, context: context)
            return
        }
        if case .connecting(_, let pending) = state {
            let bytes = head.isTunnel ? [] : head.originFormRewritten()
            state = .connecting(head: context.channel.allocator.buffer(bytes: bytes), pending: pending)
        }
        directTunnel = head.isTunnel
        let host = head.targetHost.hasPrefix("[") ? String(head.targetHost.dropFirst().dropLast()) : head.targetHost
        connect(head, lease: lease, exchange: exchange, to: (host, head.targetPort), context: context)
    }

    /// Connects to `target`, the gateway unless given.
    private func connect(
        _ head: ProxyRequestHead, lease: LeaseState, exchange: Int, to target: (host: String, port: Int)? = nil,
        context: ChannelHandlerContext
    ) {
        let upstream = MeteringUpstreamHandler(
            lease: lease, exchange: exchange, isTunnel: head.isTunnel, expectsReplyHead: !directTunnel,
            keepAliveMethod: keepsConnection ? head.method : nil, tracker: environment.tracker)
        let boundUpstream = NIOLoopBound(upstream, eventLoop: context.eventLoop)
        let boundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        let tracker = environment.tracker
        ClientBootstrap(group: context.eventLoop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.recvAllocator, value: Self.relayReadAllocator)
            .channelOption(.writeBufferWaterMark, value: Self.relayWaterMark)
            .connectTimeout(environment.connectTimeout)
            .channelInitializer { channel in
                tracker.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(boundUpstream.value)
                }
            }
            .connect(host: target?.host ?? environment.upstream.host, port: target?.port ?? environment.upstream.port)
            .whenComplete { result in
                switch result {
                case .success(let channel): boundSelf.value.connected(channel: channel, upstream: boundUpstream.value)
                case .failure(let error): boundSelf.value.connectFailed(error, lease: lease, exchange: exchange)
                }
            }
    }

    private func connected(channel: any Channel, upstream: MeteringUpstreamHandler) {
        guard case .connecting(let head, let pending) = state, let context else {
            channel.close(promise: nil)
            return
        }
        partner = upstream
        upstream.partner = self
        if directTunnel {
            if let lease, let exchange { lease.recordDirectTunnelOpened(exchange: exchange) }
            partnerWrite(context.channel.allocator.buffer(bytes: LocalReply.connectionEstablished))
            context.flush()
        } else {
            upstream.writeToGateway(head)
        }
        state = .relaying
        for buffer in pending { forward(buffer) }
        upstream.partnerFlush()
        if pendingRead {
            pendingRead = false
            if upstream.partnerWritable { context.read() } else { pendingRead = true }
        }
    }

    private func connectFailed(_ error: any Error, lease: LeaseState, exchange: Int) {
        var type = ProxyErrorType.connectionError
        if case ChannelError.connectTimeout = error { type = .timeout }
        lease.recordFailure(type, exchange: exchange)
        lease.closeExchange(exchange, proxyForcing: environment.tracker.isForcing)
        environment.logger.warning(
            "metering: the gateway is unreachable",
            metadata: ["metering.lease": "\(lease.id)", "metering.error_type": "\(type.rawValue)"])
        if let context { replyLocally(LocalReply.badGateway, context: context) }
    }

    /// Forwards client bytes to the gateway, cutting a plain request's body at its length; on a
    /// kept connection what follows is kept as the next request.
    private func forward(_ buffer: ByteBuffer) {
        var buffer = buffer
        if let remaining = bodyRemaining {
            let count = min(remaining, buffer.readableBytes)
            bodyRemaining = remaining - count
            let body = buffer.readSlice(length: count)
            if keepsConnection, buffer.readableBytes > 0 { keepNextRequest(buffer) }
            guard count > 0, let body else { return }
            buffer = body
        }
        partner?.writeToGateway(buffer)
    }

    private func keepNextRequest(_ buffer: ByteBuffer) {
        nextRequest += buffer.readableBytesView
        if nextRequest.count > Self.maximumHeadBytes {  // too much pipelined: close after this reply
            keepsConnection = false
            nextRequest = []
        }
    }

    private func replyLocally(_ bytes: [UInt8], context: ChannelHandlerContext) {
        state = .closed
        let buffer = context.channel.allocator.buffer(bytes: bytes)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}
