import Foundation
import Hummingbird
import Jobs
import Ledger
import Workers
import NIOFoundationEssentialsCompat

/// The HTTP API of `serve` (see `docs/serve.md`): health, the operator's debug endpoints,
/// `/metrics`, the jobs API, the synchronous browsing API and the status page.
enum HTTPRoutes {
    /// Builds the router. With ``ServeOptions/authToken``, every request but `/healthz` must carry it.
    static func router(state: RuntimeState, options: ServeOptions) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        if let token = options.authToken { router.add(middleware: BearerTokenMiddleware(token: Array(token.utf8))) }
        addOperatorRoutes(router, state: state, connectivityTarget: options.connectivityTarget)
        addReportRoutes(router, state: state, rateCardPath: options.rateCardPath)
        addJobRoutes(router, state: state)
        addBrowsingRoutes(router, state: state)
        router.get("/") { _, _ in APIResponse.text(try await StatusPage.render(state), contentType: "text/html; charset=utf-8") }
        return router
    }

    /// The original design's browsing API: each call runs one operation through the gateway
    /// now, appends its event, and answers with what yt-dlp read.
    static func addBrowsingRoutes(_ router: Router<BasicRequestContext>, state: RuntimeState) {
        router.get("/api/channels/{channel}/videos") { request, context in
            let channel = try context.parameters.require("channel")
            let limit = try request.uri.queryParameters.get("limit").map { text -> Int in
                guard let limit = Int(text), limit >= 1 else { throw APIError.badRequest("limit must be a whole number of at least 1") }
                return limit
            }
            return try await browse(.channelListing(channel: channel, limit: limit), state: state)
        }
        router.get("/api/videos/{id}") { _, context in
            try await browse(.videoMetadata(videoID: try context.parameters.require("id")), state: state)
        }
        router.post("/api/videos/batch") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            struct Batch: Decodable { var videoIds: [String] }
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            guard let batch = try? decoder.decode(Batch.self, from: Data(buffer: body)) else {
                throw APIError.badRequest("send {\"video_ids\": [\"…\", …]}")
            }
            return try await browse(.batchMetadata(videoIDs: batch.videoIds), state: state)
        }
    }

    private static func browse(_ payload: JobPayload, state: RuntimeState) async throws -> Response {
        do {
            try payload.validate()
        } catch let error as JobStoreError {
            throw APIError.badRequest(error.message)
        }
        let context = OperationContext(correlationID: UUID().uuidString.lowercased())
        do {
            let result = try await state.executor.perform(payload, context: context)
            return APIResponse.text((result ?? "{}") + "\n", contentType: "application/json; charset=utf-8")
        } catch let error as WorkerError {
            let errorType = error.failure?.errorType ?? .unknown
            let status: HTTPResponse.Status = errorType == .notFound ? .notFound : .badGateway
            throw APIError(status: status, code: errorType.rawValue, message: error.failure?.message ?? error.message)
        }
    }
}
