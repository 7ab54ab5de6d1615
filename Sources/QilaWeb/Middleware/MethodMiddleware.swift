import HTTPTypes
import Hummingbird

/// Answers 405 to methods no route of Qila serves (TRACE, CONNECT and the like) instead of 404,
/// with the methods that are served in `Allow`.
struct MethodMiddleware: RouterMiddleware {
    typealias Context = QilaRequestContext
    static let served: Set<HTTPRequest.Method> = [.get, .head, .post, .put, .patch, .delete, .options]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.served.contains(request.method) else {
            var response = Problem(.methodNotAllowed, "\(request.method.rawValue) is not served here").response()
            response.headers[.allow] = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
            return response
        }
        return try await next(request, context)
    }
}
