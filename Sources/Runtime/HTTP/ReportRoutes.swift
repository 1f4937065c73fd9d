import Foundation
import Hummingbird
import Ledger
import Reporting

extension HTTPRoutes {
    /// `GET /reports/{period}`: the finance report rendered live from the projection with the
    /// rate card `serve` was started with (`--rate-card`). `period` is a billing period's month
    /// (`2026-12`) or `current`; `?format=html|csv|json|md` (default html).
    static func addReportRoutes(_ router: Router<BasicRequestContext>, state: RuntimeState, rateCardPath: String?) {
        router.get("/reports/{period}") { request, context in
            guard let rateCardPath else {
                throw APIError.notFound("no rate card: start serve with --rate-card FILE to have /reports")
            }
            let period = try context.parameters.require("period")
            let formatText = request.uri.queryParameters.get("format") ?? "html"
            guard let format = ReportFormat(rawValue: formatText) else {
                throw APIError.badRequest("format=\(formatText) is not one of html, csv, json, md")
            }
            let text = try await Offload.run(throwing: {
                try renderReport(period: period, format: format, rateCardPath: rateCardPath, state: state)
            })
            return APIResponse.text(text, contentType: contentType(of: format))
        }
    }

    static func renderReport(period: String, format: ReportFormat, rateCardPath: String, state: RuntimeState) throws -> String {
        do {
            let schedule = try RateCardSchedule.load(path: rateCardPath)
            let reportPeriod =
                period == "current"
                ? try ReportPeriod.billingPeriod(containing: .now, rule: schedule.billingPeriod)
                : try ReportPeriod.billingPeriod(month: period, rule: schedule.billingPeriod)
            let report = try ReportBuilder.build(
                store: state.projection,
                request: ReportRequest(schedule: schedule, period: reportPeriod))
            return ReportRenderer.render(report, as: format)
        } catch let error as ReportError where error.code == .invalidPeriod {
            throw APIError.badRequest("\(error.message); use a month such as 2026-12, or `current`")
        }
    }

    static func contentType(of format: ReportFormat) -> String {
        switch format {
        case .html: "text/html; charset=utf-8"
        case .csv: "text/csv; charset=utf-8"
        case .json: "application/json; charset=utf-8"
        case .md: "text/markdown; charset=utf-8"
        }
    }
}
