import NIOCore

/// One side of the meter's relay (the client connection or the gateway connection), as its
/// partner on the other side drives it. Both sides run on the same event loop.
///
/// Back-pressure: a side reads only while its partner's channel is writable; otherwise it notes
/// a pending read and resumes when the partner reports ``partnerBecameWritable()``.
protocol RelayEndpoint: AnyObject {
    /// The side's handler context while it is in a pipeline.
    var relayContext: ChannelHandlerContext? { get }
    /// A read was held back because the partner could not take more writes.
    var pendingRead: Bool { get set }
}

extension RelayEndpoint {
    func partnerFlush() { relayContext?.flush() }

    /// Flushes what is queued, then half-closes this side for writing.
    func partnerWriteEOF() {
        guard let context = relayContext else { return }
        let channel = context.channel
        context.writeAndFlush(NIOAny(ByteBuffer())).whenComplete { _ in channel.close(mode: .output, promise: nil) }
    }

    /// Flushes what is queued, then closes this side.
    func partnerCloseFully() {
        guard let context = relayContext else { return }
        let channel = context.channel
        context.writeAndFlush(NIOAny(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Resumes a read held back for back-pressure.
    func partnerBecameWritable() {
        guard pendingRead else { return }
        pendingRead = false
        relayContext?.read()
    }

    /// Whether this side can take more writes now.
    var partnerWritable: Bool { relayContext?.channel.isWritable ?? false }
}
