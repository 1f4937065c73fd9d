import Foundation
import Hummingbird
import Jobs
import NIOFoundationEssentialsCompat

/// One job as the API returns it (``JobDocument``: RFC 3339 times), with `is_new` after an enqueue.
struct JobBody: Encodable, Sendable {
    var job: Job
    var isNew: Bool?

    private enum Keys: String, CodingKey { case isNew }

    func encode(to encoder: any Encoder) throws {
        try JobDocument(job).encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeIfPresent(isNew, forKey: .isNew)
    }
}

/// The body of `POST /api/jobs`: one job in the flat form of `jobs show --format json`
/// (`{"kind":"transcribe","video_id":"…"}`), or `{"jobs":[…]}` for several, with an optional
/// `max_attempts`.
struct EnqueueBody: Decodable {
    var jobs: [JobPayload]
    var maxAttempts: Int?

    private enum Keys: String, CodingKey { case jobs, maxAttempts = "max_attempts" }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        maxAttempts = try container.decodeIfPresent(Int.self, forKey: .maxAttempts)
        if container.contains(.jobs) {
            jobs = try container.decode([JobPayload].self, forKey: .jobs)
        } else {
            jobs = [try JobPayload(from: decoder)]
        }
    }
}

extension HTTPRoutes {
    static func addJobRoutes(_ router: Router<BasicRequestContext>, state: RuntimeState) {
        router.post("/api/jobs") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let parsed: EnqueueBody
            do {
                parsed = try JSONDecoder().decode(EnqueueBody.self, from: Data(buffer: body))
            } catch {
                throw APIError.badRequest("the body is not a job: \(describe(error)); send {\"kind\":\"transcribe\",\"video_id\":\"…\"} or {\"jobs\":[…]}")
            }
            if let max = parsed.maxAttempts, max < 1 { throw APIError.badRequest("max_attempts must be at least 1") }
            let results: [EnqueueResult]
            do {
                results = try await state.jobs.enqueue(
                    parsed.jobs.map { JobRequest($0, maxAttempts: parsed.maxAttempts) }, now: JobClock.now())
            } catch let error as JobStoreError where error.code == .invalidRequest {
                throw APIError.badRequest(error.message)
            }
            let created = results.contains(where: \.isNew)
            return try APIResponse.json(
                ["jobs": results.map { JobBody(job: $0.job, isNew: $0.isNew) }], status: created ? .created : .ok)
        }
        router.get("/api/jobs/{id}") { _, context in
            let id = try context.parameters.require("id")
            guard let job = try await state.jobs.job(id: id) else { throw APIError.notFound("no job \(id)") }
            let attempts = try await state.jobs.attempts(jobID: id)
            return try APIResponse.json(JobDetail(job: JobDocument(job), attempts: attempts.map(JobAttemptDocument.init)))
        }
        router.get("/api/jobs") { request, _ in
            let query = request.uri.queryParameters
            let stateFilter = try query.get("state").map { text -> JobState in
                guard let state = JobState(rawValue: text) else {
                    throw APIError.badRequest("state=\(text) is not one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return state
            }
            let kind = try query.get("kind").map { text -> JobKind in
                guard let kind = JobKind(rawValue: text) else {
                    throw APIError.badRequest("kind=\(text) is not one of \(JobKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return kind
            }
            let limit = try query.get("limit").map { text -> Int in
                guard let limit = Int(text), (1...10_000).contains(limit) else { throw APIError.badRequest("limit must be 1 to 10000") }
                return limit
            } ?? 100
            let jobs = try await state.jobs.list(state: stateFilter, kind: kind, limit: limit)
            return try APIResponse.json(["jobs": jobs.map { JobBody(job: $0) }])
        }
    }

    /// A decoding error in a sentence, naming the field.
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "the field \(key.stringValue) is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context): context.debugDescription
        default: "\(error)"
        }
    }
}

/// `GET /api/jobs/{id}`: the job and its attempts.
struct JobDetail: Encodable, Sendable {
    var job: JobDocument
    var attempts: [JobAttemptDocument]
}
