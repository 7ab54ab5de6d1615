import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import QilaAccess
import QilaCore
import QilaStore

/// An RFC 9457 problem: every error the API returns has this shape.
struct Problem: Error, Codable, Sendable {
    var type: String
    var title: String
    var status: Int
    var detail: String?
    var instance: String?
    /// Where in the input the problem is (field, line, offset), when it is in the input.
    var location: String?

    init(_ status: HTTPResponse.Status, _ detail: String?, location: String? = nil, type: String? = nil) {
        self.status = Int(status.code)
        self.title = status.reasonPhrase
        self.detail = detail
        self.location = location
        self.type = type ?? "about:blank"
    }

    static let unauthenticated = Problem(
        .unauthorized, "Sign in, or send an API token (Authorization: Bearer qila_...) or a client certificate.",
        type: "https://qila.invalid/problems/unauthenticated")

    /// Maps any error to a problem, keeping internals (SQL, stack traces) out of the answer.
    static func from(_ error: any Error) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as QilaError:
            let status: HTTPResponse.Status =
                switch error.code {
                case .invalidInput: .badRequest
                case .notFound: .notFound
                case .conflict: .conflict
                case .unauthenticated: .unauthorized
                case .forbidden: .forbidden
                case .throttled: .tooManyRequests
                default: .internalServerError
                }
            return Problem(status, error.message, location: error.location, type: "https://qila.invalid/problems/\(error.code)")
        case let refusal as PasswordPolicy.Refusal:
            return Problem(.badRequest, refusal.description, location: "field password", type: "https://qila.invalid/problems/weak-password")
        case let error as HTTPError:
            return Problem(error.status, error.body ?? error.status.reasonPhrase)
        case is NIOTooManyBytesError:
            return Problem(.contentTooLarge, "the body is larger than this endpoint accepts")
        case is DecodingError:
            return Problem(.badRequest, describe(error as! DecodingError), type: "https://qila.invalid/problems/invalid-input")
        case let error as StoreError where error.code == .unavailable:
            return Problem(.serviceUnavailable, "the database is unavailable; try again shortly")
        default:
            return Problem(.internalServerError, "an internal error occurred; it has been logged")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "the body" : "field \(text)"
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context)) should be \(type): \(context.debugDescription)"
        case .valueNotFound(_, let context): return "\(path(context)) is missing a value"
        case .keyNotFound(let key, let context): return "\(path(context)) lacks the required field '\(key.stringValue)'"
        case .dataCorrupted(let context): return "\(path(context)) is not valid: \(context.debugDescription)"
        @unknown default: return "the body could not be read"
        }
    }

    func response() -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(self)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if status == 401 { headers[.wwwAuthenticate] = "Bearer realm=\"qila\"" }
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(data: body)))
    }
}
