import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime

/// Turns every error into an answer the caller can act on: RFC 9457 problem details for the
/// API, an error page for browsers. Internal errors are logged with the request id, never
/// shown.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = QilaRequestContext
    let pages: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var problem = Problem.from(Self.unwrap(error))
            if let serverError = error as? ServerError, !(Self.unwrap(error) is Problem), problem.status == 500 {
                // The generated API layer refused the request before any handler ran: bad JSON,
                // a wrong content type, a missing parameter.
                problem = Problem(.badRequest, Self.describe(serverError), type: .invalidInput)
            }
            if problem.status >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: Self.unwrap(error)))"])
            }
            problem.instance = request.uri.path
            if Self.wantsHTML(request) {
                return pages.errorPage(problem, context: context)
            }
            return problem.response()
        }
    }

    static func unwrap(_ error: any Error) -> any Error {
        if let serverError = error as? ServerError { return unwrap(serverError.underlyingError) }
        return error
    }

    static func describe(_ error: ServerError) -> String {
        let underlying = unwrap(error)
        if let decoding = underlying as? DecodingError { return Problem.describe(decoding) }
        // The runtime's own words ("Missing required query parameter 'limit'") name the input,
        // but can carry generated type names; those are cut off.
        let cause = error.causeDescription
        guard !cause.isEmpty else { return "the request could not be read" }
        let internals = ["Swift.", "Operations.", "Components.", "Payload", "CodingKeys", "OpenAPIRuntime"]
        if internals.contains(where: cause.contains) { return "the request could not be read: check it against openapi.yaml" }
        return cause
    }

    static func wantsHTML(_ request: Request) -> Bool {
        if request.uri.path.hasPrefix("/api/") { return false }
        return request.headers[.accept]?.contains("text/html") ?? false
    }
}
