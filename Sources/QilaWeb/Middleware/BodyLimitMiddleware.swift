import HTTPTypes
import Hummingbird

/// Refuses bodies over the context's limit with 413 before any handler reads them, whether
/// the size is announced (Content-Length) or only found out while reading (chunked).
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = QilaRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let limit = context.maxUploadSize
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Problem(.contentTooLarge, "the body has \(length) bytes; at most \(limit) are accepted")
        }
        guard request.method == .post || request.method == .put || request.method == .patch else {
            return try await next(request, context)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem(.contentTooLarge, "the body is larger than the \(limit) bytes accepted")
        }
        return try await next(request, context)
    }
}
