import Foundation
import Hummingbird

/// An error the HTTP API answers with `{"error": {"code", "message"}}` and its status. Messages
/// never hold a secret.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: "invalid_request", message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }
}

/// JSON and text responses with the runtime's encoding: snake_case keys, sorted, ISO 8601 dates.
enum APIResponse {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return text(String(decoding: try encoder.encode(value), as: UTF8.self) + "\n", status: status,
            contentType: "application/json; charset=utf-8")
    }

    static func text(_ body: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(
            status: status, headers: [.contentType: contentType, .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func error(_ error: APIError) -> Response {
        let body = ErrorBody(error: .init(code: error.code, message: error.message))
        return (try? json(body, status: error.status)) ?? text(error.message, status: error.status)
    }

    private struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }
}

/// Turns every thrown error into the JSON error shape: ``APIError`` as given, Hummingbird's
/// `HTTPError` (unknown route, wrong method, body too large) with its status, anything else as a
/// 500 whose message is the error's description (the runtime's errors never hold secrets).
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return APIResponse.error(error)
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "not_found" : "http_\(error.status.code)"
            return APIResponse.error(APIError(status: error.status, code: code, message: error.body ?? error.status.reasonPhrase))
        } catch {
            return APIResponse.error(APIError(status: .internalServerError, code: "internal", message: "\(error)"))
        }
    }
}

/// Requires `Authorization: Bearer TOKEN` on every request except `/healthz`, comparing in
/// constant time. Installed when the server binds an address other than loopback.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), Self.equal(Array(header.utf8.dropFirst(prefix.utf8.count)), token) else {
            var response = APIResponse.error(APIError(
                status: .unauthorized, code: "unauthorized",
                message: "this server needs `Authorization: Bearer <token>` with the token of its --auth-token-file"))
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }

    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
