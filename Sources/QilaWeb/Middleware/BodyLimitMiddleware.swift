import HTTPTypes
import Hummingbird
import NIOCore

/// Refuses bodies over the context's limit with 413 before any handler reads them, whether
/// the size is announced (Content-Length) or only found out while reading (chunked).
///
/// Case attachments may be larger than other bodies: up to the attachment limit, plus room for
/// the form around the file.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = QilaRequestContext
    let attachmentLimit: Int

    static func isAttachmentUpload(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        return parts.last == "attachments" && (parts.first == "cases" || (parts.count == 5 && parts[0] == "api" && parts[2] == "cases"))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if Self.isAttachmentUpload(request.uri.path) { context.maxUploadSize = max(context.maxUploadSize, attachmentLimit + 64 * 1024) }
        if request.uri.path == "/api/v1/intake" { context.maxUploadSize = max(context.maxUploadSize, IntakeRoutes.bodyLimit) }
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
        } catch is NIOTooManyBytesError {
            // A chunked body is found to be too large only while it is read.
            throw Problem(.contentTooLarge, "the body is larger than the \(limit) bytes accepted")
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem(.contentTooLarge, "the body is larger than the \(limit) bytes accepted")
        }
        return try await next(request, context)
    }
}
