import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaIntel

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
        // A complaint's evidence files together fit within one case attachment's limit.
        if request.uri.path == "/public/report" { context.maxUploadSize = max(context.maxUploadSize, attachmentLimit + 64 * 1024) }
        if request.uri.path == "/intel/import" { context.maxUploadSize = max(context.maxUploadSize, IntelDesk.maximumFile + 64 * 1024) }
        if request.uri.path == "/api/v1/intake" { context.maxUploadSize = max(context.maxUploadSize, IntakeRoutes.bodyLimit) }
        if request.uri.path.hasPrefix("/taxii2/"), request.uri.path.hasSuffix("/objects") || request.uri.path.hasSuffix("/objects/") {
            context.maxUploadSize = max(context.maxUploadSize, TaxiiRoutes.maximumContent)
        }
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
        if request.uri.path.hasPrefix("/api/"), request.uri.path != "/api/v1/intake",
            request.headers[.contentType]?.hasPrefix("application/json") == true, let body = try? await request.collectBody(upTo: limit),
            let null = JSONNulls.first(in: body)
        {
            // The API's schema allows null nowhere: an absent field and a null one must not mean the same by accident.
            throw Problem(
                .badRequest, "\(null.isEmpty ? "the body" : null) is null; leave the field out instead", location: null.isEmpty ? nil : "field \(null)",
                type: .invalidInput)
        }
        return try await next(request, context)
    }
}

/// Finds the first `null` in a JSON document and names where it is (`scopes[2]`, `address.city`).
enum JSONNulls {
    static func first(in body: ByteBuffer) -> String? {
        guard body.readableBytes > 0, let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: [.fragmentsAllowed]) else {
            return nil
        }
        return find(object, path: "")
    }

    private static func find(_ value: Any, path: String) -> String? {
        switch value {
        case is NSNull:
            return path
        case let dictionary as [String: Any]:
            for key in dictionary.keys.sorted() {
                if let found = find(dictionary[key]!, path: path.isEmpty ? key : "\(path).\(key)") { return found }
            }
            return nil
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = find(element, path: "\(path)[\(index)]") { return found }
            }
            return nil
        default:
            return nil
        }
    }
}
