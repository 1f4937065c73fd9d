import Foundation
import Hummingbird
import Ledger
import Projections
import ProxyGateway
import Synchronization

/// `GET /debug/connectivity`: the gateway's reachability per component, measured through the
/// gateway with one libcurl `HEAD` (status, latency, error class; no secrets), cached 30 s.
struct ConnectivityReport: Encodable, Sendable {
    struct ComponentCheck: Encodable, Sendable {
        var component: String
        var proxyEnabled: Bool
        /// `ok`, `disabled` or `error`.
        var status: String
        var httpStatus: Int?
        var latencyMs: Int64?
        var errorType: String?
        var detail: String?
    }

    struct ProxySection: Encodable, Sendable {
        var enabled: Bool
        var gatewayHost: String
        var gatewayPort: Int
        var useBackbone: Bool
        var usernameConfigured: Bool
        var passwordConfigured: Bool
        var maxConcurrency: Int
        var components: [ComponentCheck]
    }

    var checkedAt: String
    var ok: Bool
    var proxy: ProxySection

    static func measure(_ settings: ProxySettings, targetURL: String) async -> ConnectivityReport {
        var checks: [ComponentCheck] = []
        for component in ProxyComponent.allCases {
            guard let service = try? ProxyService(settings: settings, component: component) else {
                checks.append(ComponentCheck(
                    component: component.rawValue, proxyEnabled: true, status: "error", errorType: "configuration",
                    detail: "the proxy settings are incomplete (PROXY_USERNAME and PROXY_PASSWORD are needed)"))
                continue
            }
            checks.append(check(component, await ConnectivityChecker(service: service, targetURL: targetURL).check(), service.isEnabled))
        }
        let section = ProxySection(
            enabled: settings.enabled, gatewayHost: settings.gatewayHost, gatewayPort: settings.gatewayPort,
            useBackbone: settings.useBackbone, usernameConfigured: settings.username != nil,
            passwordConfigured: settings.password != nil, maxConcurrency: settings.maxConcurrency, components: checks)
        return ConnectivityReport(
            checkedAt: LedgerTimestamp.now.description, ok: !checks.contains { $0.status == "error" }, proxy: section)
    }

    private static func check(_ component: ProxyComponent, _ status: ConnectivityStatus, _ enabled: Bool) -> ComponentCheck {
        var check = ComponentCheck(component: component.rawValue, proxyEnabled: enabled, status: "disabled")
        switch status {
        case .ok(let httpStatus, let durationMS):
            check.status = "ok"
            check.httpStatus = httpStatus
            check.latencyMs = durationMS
        case .disabled: break
        case .error(let reason, let detail):
            check.status = "error"
            check.errorType = reason.rawValue
            check.detail = detail
        }
        return check
    }
}

/// `GET /debug/proxy`: the usage summary from the projection, at most 30 s stale.
struct UsageReport: Encodable, Sendable {
    var asOf: String
    var since: String?
    var totalRequests: Int
    var successfulRequests: Int
    var failedRequests: Int
    var successRate: Double
    var requestBytes: Int64
    var responseBytes: Int64
    var totalBytes: Int64
    var estimatedBandwidthBytes: Int64
    var byComponent: [String: Int]
    var byErrorType: [String: Int]
    var projectorLagEvents: Int

    init(_ summary: ProxyUsageSummary, asOf: LedgerTimestamp, lag: Int) {
        self.asOf = asOf.description
        since = summary.since?.description
        totalRequests = summary.totalRequests
        successfulRequests = summary.successfulRequests
        failedRequests = summary.failedRequests
        successRate = summary.successRate
        requestBytes = summary.requestBytes
        responseBytes = summary.responseBytes
        totalBytes = summary.requestBytes + summary.responseBytes
        estimatedBandwidthBytes = summary.bandwidthBytes
        byComponent = summary.byComponent
        byErrorType = summary.byErrorType
        projectorLagEvents = lag
    }
}

extension HTTPRoutes {
    static func addOperatorRoutes(_ router: Router<BasicRequestContext>, state: RuntimeState, connectivityTarget: String) {
        router.get("/healthz") { _, _ in APIResponse.text("ok\n") }
        router.get("/readyz") { _, _ in
            let readiness = await state.readiness()
            return try APIResponse.json(readiness, status: readiness.ready ? .ok : .serviceUnavailable)
        }
        router.get("/debug/connectivity") { _, _ in
            let settings = state.settings()
            return try APIResponse.json(try await state.connectivity.get {
                await ConnectivityReport.measure(settings, targetURL: connectivityTarget)
            })
        }
        router.get("/debug/proxy") { request, _ in
            let since = try request.uri.queryParameters.get("since").map(parseSince)
            let report: UsageReport
            if let since {
                report = try await usage(state, since: since)
            } else {
                report = try await state.usage.get { try await usage(state, since: nil) }
            }
            return try APIResponse.json(report)
        }
        router.get("/metrics") { _, _ in
            _ = try? await state.queueStats()  // the queue gauges are set when read
            return APIResponse.text(state.metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
    }

    static func usage(_ state: RuntimeState, since: LedgerTimestamp?) async throws -> UsageReport {
        let summary = try await Offload.run(throwing: { try state.projection.summary(since: since) })
        return UsageReport(summary, asOf: .now, lag: state.projector.value.withLock { $0.lagEvents })
    }

    /// `since=` as RFC 3339 (`2026-12-01T00:00:00Z`) or a date (`2026-12-01`, midnight UTC).
    static func parseSince(_ text: String) throws -> LedgerTimestamp {
        if let instant = LedgerTimestamp(rfc3339: text) { return instant }
        throw APIError.badRequest("since=\(text) is not an RFC 3339 time (2026-12-01T00:00:00Z) or a date (2026-12-01)")
    }
}
