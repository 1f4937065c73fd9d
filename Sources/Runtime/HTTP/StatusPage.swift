import Foundation
import Jobs
import Ledger

/// `GET /`: a small status page (queue, usage today, readiness, links to every endpoint).
enum StatusPage {
    static func render(_ state: RuntimeState) async throws -> String {
        let stats = try await state.queueStats()
        let readiness = state.readiness(stats: .success(stats))
        let today = LedgerTimestamp(microseconds: LedgerTimestamp.now.microseconds / LedgerTimestamp.microsecondsPerDay * LedgerTimestamp.microsecondsPerDay)
        let usage = try await HTTPRoutes.usage(state, since: today)
        let states = JobState.allCases.map { "<tr><td>\($0.rawValue)</td><td>\(stats.countsByState[$0.rawValue] ?? 0)</td></tr>" }
        let problems = readiness.problems.map { "<li>\(escape($0))</li>" }.joined()
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>proxy-ledger</title>
            <style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:48rem}td{padding:0 1rem 0 0}
            .bad{color:#b00020}.good{color:#1b5e20}</style></head><body>
            <h1>proxy-ledger serve</h1>
            <p class="\(readiness.ready ? "good" : "bad")">\(readiness.ready ? "ready" : "not ready")</p>
            \(problems.isEmpty ? "" : "<ul class=\"bad\">\(problems)</ul>")
            <h2>Queue</h2><table>\(states.joined())</table>
            <p>queue depth \(stats.queueDepth); oldest available job \(stats.oldestAvailableAgeSeconds.map { String(format: "%.0f s", $0) } ?? "none")</p>
            <h2>Usage today (UTC)</h2>
            <p>\(usage.totalRequests) requests, \(usage.failedRequests) failed; \(usage.requestBytes) B up, \
            \(usage.responseBytes) B down; as of \(usage.asOf)</p>
            <h2>Endpoints</h2><ul>
            <li><a href="/debug/proxy">/debug/proxy</a> usage summary</li>
            <li><a href="/debug/connectivity">/debug/connectivity</a> gateway check (runs one request through it)</li>
            <li><a href="/metrics">/metrics</a> Prometheus</li>
            <li><a href="/api/jobs">/api/jobs</a> jobs</li>
            <li><a href="/readyz">/readyz</a>, <a href="/healthz">/healthz</a></li>
            </ul></body></html>

            """
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
