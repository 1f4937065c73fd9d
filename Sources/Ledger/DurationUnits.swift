/// Whole units of a `Duration`, for the ledger's integer fields (`duration_ms`, microsecond
/// timestamps) and for APIs that take integers. One place for the conversion, so every module
/// rounds and saturates alike.
extension Duration {
    /// The duration in whole microseconds, rounded toward zero, saturating at `Int64.min`/`max`.
    public var wholeMicroseconds: Int64 { whole(per: 1_000_000) }

    /// The duration in whole milliseconds, rounded toward zero, saturating.
    public var wholeMilliseconds: Int64 { whole(per: 1_000) }

    /// The duration in whole nanoseconds, rounded toward zero, saturating.
    public var wholeNanoseconds: Int64 { whole(per: 1_000_000_000) }

    /// The duration in seconds, as a `Double` (for rates and reports, never for stored fields).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole `1/unitsPerSecond` units: seconds scaled up, plus the attoseconds scaled down.
    private func whole(per unitsPerSecond: Int64) -> Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: unitsPerSecond)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, sumOverflow) = scaled.addingReportingOverflow(attoseconds / (1_000_000_000_000_000_000 / unitsPerSecond))
        return sumOverflow ? (seconds < 0 ? .min : .max) : sum
    }
}
