public import Jobs
public import Ledger
import Metrics
public import Prometheus

/// The metrics of one `serve` process, made with swift-metrics on a Prometheus registry of its own
/// (so that several runtimes in one test process do not share counters) and rendered as
/// Prometheus text by ``render()``.
///
/// Labels stay bounded: component, direction, outcome, error class and job state. No job id,
/// video id or other unbounded value is ever a label.
public final class RuntimeMetrics: Sendable {
    /// The registry ``render()`` emits.
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    /// Creates the metrics on a new registry.
    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1),
        ]
        self.factory = factory
    }

    /// Counts the events a batch appended: `proxy_ledger_events_appended_total`, the bytes by
    /// component and direction, and the operations by outcome and error class.
    public func recordAppended(_ events: [ProxyRequestEvent]) {
        Metrics.Counter(label: "proxy_ledger_events_appended_total", factory: factory).increment(by: events.count)
        for event in events {
            let component = event.component
            if let up = event.requestBytes {
                bytes(component: component, direction: "up").increment(by: Int(clamping: up))
            }
            if let down = event.responseBytes {
                bytes(component: component, direction: "down").increment(by: Int(clamping: down))
            }
            let outcome = event.success ? "success" : "failure"
            let errorClass = event.errorType?.rawValue ?? "none"
            Metrics.Counter(
                label: "proxy_ledger_operations_total",
                dimensions: [("component", component), ("outcome", outcome), ("error_type", errorClass)],
                factory: factory
            ).increment()
            if let gateway = event.errorType, Self.gatewayErrors.contains(gateway) {
                Metrics.Counter(label: "proxy_ledger_gateway_errors_total", dimensions: [("error_type", gateway.rawValue)], factory: factory)
                    .increment()
            }
        }
    }

    /// Records one fsync's duration in `proxy_ledger_fsync_duration_seconds`.
    public func recordSync(_ duration: Duration) {
        Metrics.Timer(label: "proxy_ledger_fsync_duration_seconds", factory: factory).record(duration: duration)
    }

    /// Sets the queue gauges from `stats`: jobs by state, queue depth, the oldest available job's
    /// age in seconds, and one gauge per paused component.
    public func recordQueue(_ stats: JobStats) {
        for (state, count) in stats.countsByState {
            Metrics.Gauge(label: "proxy_ledger_jobs", dimensions: [("state", state)], factory: factory).record(count)
        }
        Metrics.Gauge(label: "proxy_ledger_queue_depth", factory: factory).record(stats.queueDepth)
        Metrics.Gauge(label: "proxy_ledger_oldest_available_job_age_seconds", factory: factory)
            .record(stats.oldestAvailableAgeSeconds ?? 0)
        let paused = Set(stats.pausedComponents.map(\.component))
        for component in JobComponent.all {
            Metrics.Gauge(label: "proxy_ledger_component_paused", dimensions: [("component", component)], factory: factory)
                .record(paused.contains(component) ? 1 : 0)
        }
    }

    /// Sets the projector lag: events in the ledger not yet projected, and the seconds since the
    /// projection was last caught up (0 when it is).
    public func recordProjectorLag(events: Int, seconds: Double) {
        Metrics.Gauge(label: "proxy_ledger_projector_lag_events", factory: factory).record(events)
        Metrics.Gauge(label: "proxy_ledger_projector_lag_seconds", factory: factory).record(seconds)
    }

    /// Sets `proxy_ledger_ledger_blocked`: 1 while appends wait for disk space, else 0.
    public func recordLedgerBlocked(_ blocked: Bool) {
        Metrics.Gauge(label: "proxy_ledger_ledger_blocked", factory: factory).record(blocked ? 1 : 0)
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    public func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    private func bytes(component: String, direction: String) -> Metrics.Counter {
        Metrics.Counter(
            label: "proxy_ledger_bytes_total", dimensions: [("component", component), ("direction", direction)],
            factory: factory)
    }

    /// Error classes the gateway itself reports (as opposed to YouTube's answers).
    static let gatewayErrors: Set<ProxyErrorType> = [.authFailure, .gatewayThrottled, .bandwidthExhausted, .connectionError]
}
