/// The ceiling for the ledger's frame encoding, for `make bench`: zstd alone compressing the
/// payloads that ``LedgerWriter`` would write, with no checksum, hash chain, file write or
/// group commit around it.
public enum EncodingBaseline {
    /// Encodes `events` into `batchSize`-event columnar payloads (not timed), then times zstd
    /// compressing each payload at `level`.
    ///
    /// - Returns: Events per second of compression alone, and the compressed bytes.
    /// - Throws: `LedgerError` `.invalidEvent` or `.compression`.
    public static func zstdOnly(_ events: [ProxyRequestEvent], batchSize: Int, level: Int32 = 3) throws -> (eventsPerSecond: Double, bytes: Int) {
        let size = max(1, batchSize)
        let payloads = try stride(from: 0, to: events.count, by: size).map { start in
            try BatchCodec.encode(Array(events[start..<min(start + size, events.count)]))
        }
        let clock = ContinuousClock()
        let started = clock.now
        var bytes = 0
        for payload in payloads { bytes += try Zstd.compress(payload, level: level).count }
        let elapsed = clock.now - started
        let seconds = elapsed.inSeconds
        return (Double(events.count) / max(seconds, 1e-9), bytes)
    }
}
